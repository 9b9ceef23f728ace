"""Signatures checked by the receivers' own algorithms, and `verify` refusing what it must."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import stripe
from standardwebhooks.webhooks import Webhook

from sandbox.webhooks import WebhookVerificationError, new_secret, sign, verify

BODY = json.dumps({"id": "evt_1", "type": "user.created", "data": {"id": "usr_1"}}).encode()


def seed_guide_verify(payload: bytes, signature: str, secret: str) -> bool:
    """The integration guide's verifyWebhookSignature, line for line in Python."""
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(bytes.fromhex(signature), bytes.fromhex(expected))


def test_hex_scheme_passes_the_seed_guides_check() -> None:
    secret = "your-webhook-secret"
    headers = sign(BODY, [secret], scheme="hmac-sha256-hex", message_id="evt_1",
                   timestamp=int(time.time()))  # fmt: skip
    assert seed_guide_verify(BODY, headers["X-Signature"], secret)
    assert verify(BODY, headers, secret)["type"] == "user.created"


def test_standard_webhooks_reference_library_accepts_ours() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    headers = sign(BODY, [secret], scheme="standard-webhooks", message_id="msg_1",
                   timestamp=int(time.time()))  # fmt: skip
    assert Webhook(secret).verify(BODY, headers)["id"] == "evt_1"
    assert verify(BODY, headers, secret)["id"] == "evt_1"


def test_stripe_library_accepts_ours() -> None:
    secret = "whsec_stripe_style"
    headers = sign(BODY, [secret], scheme="stripe", message_id="evt_1",
                   timestamp=int(time.time()))  # fmt: skip
    assert stripe.WebhookSignature.verify_header(
        BODY.decode(), headers["Stripe-Signature"], secret, tolerance=300
    )
    assert verify(BODY, headers, secret)["id"] == "evt_1"


@pytest.mark.parametrize("scheme", ["hmac-sha256-hex", "standard-webhooks", "stripe"])
def test_tampering_a_wrong_secret_and_replays_are_refused(scheme) -> None:
    secret = new_secret()
    now = int(time.time())
    headers = sign(BODY, [secret], scheme=scheme, message_id="evt_1", timestamp=now)
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify(BODY.replace(b"usr_1", b"usr_2"), headers, secret)
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify(BODY, headers, new_secret())
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(BODY, headers, secret, now=now + 301)
    assert verify(BODY, headers, secret, now=now + 299)


@pytest.mark.parametrize("scheme", ["hmac-sha256-hex", "standard-webhooks", "stripe"])
def test_during_a_rotation_either_secret_verifies(scheme) -> None:
    old, new = new_secret(), new_secret()
    headers = sign(BODY, [new, old], scheme=scheme, message_id="m", timestamp=int(time.time()))
    assert verify(BODY, headers, old)
    assert verify(BODY, headers, new)
    with pytest.raises(WebhookVerificationError):
        verify(BODY, headers, new_secret())


def test_unsigned_or_garbled_headers_get_a_clear_error() -> None:
    with pytest.raises(WebhookVerificationError, match="No signature header"):
        verify(BODY, {"Content-Type": "application/json"}, "s")
    with pytest.raises(WebhookVerificationError, match="not a number"):
        verify(BODY, {"Stripe-Signature": "t=soon,v1=00"}, "s")
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify(BODY, {"X-Signature": "zz-not-hex"}, "s")
