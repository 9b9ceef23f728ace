"""Webhook signatures: the three schemes receivers meet in the wild, both ways round.

``sign`` makes a delivery's headers; ``verify`` is what a receiver runs, public so users can
test their endpoint with the very code the sandbox trusts. Several secrets sign at once
during a rotation's grace period, so a receiver holding either secret keeps working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
import time
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.errors import WebhookVerificationError
from sandbox.jsonio import loads

HEX = "hmac-sha256-hex"
STANDARD = "standard-webhooks"
STRIPE = "stripe"
SCHEMES = (HEX, STANDARD, STRIPE)
DEFAULT_TOLERANCE = 300


def new_secret() -> str:
    """A Standard Webhooks style secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(_random.token_bytes(24)).decode()


def sign(
    body: bytes, secrets: list[str], *, scheme: str, message_id: str, timestamp: int
) -> dict[str, str]:
    """The signature headers for one delivery; ``secrets[0]`` is the current secret."""
    if scheme == HEX:
        headers = {
            "X-Signature": _hex(secrets[0], body),
            "X-Webhook-Timestamp": str(timestamp),
            "X-Webhook-Id": message_id,
        }
        if len(secrets) > 1:  # one hex value per header: the seed guide's receivers compare it
            headers["X-Signature-Previous"] = _hex(secrets[1], body)
        return headers
    if scheme == STANDARD:
        content = f"{message_id}.{timestamp}.".encode() + body
        signatures = " ".join(
            "v1," + base64.b64encode(_digest(_standard_key(s), content)).decode() for s in secrets
        )
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures,
        }
    if scheme == STRIPE:
        content = f"{timestamp}.".encode() + body
        parts = [f"t={timestamp}"] + [f"v1={_digest(s.encode(), content).hex()}" for s in secrets]
        return {"Stripe-Signature": ",".join(parts)}
    raise ValueError(f"unknown signing scheme {scheme!r}; use one of: {', '.join(SCHEMES)}")


def verify(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str | Iterable[str],
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> Any:
    """Check a delivery as a receiver should, and return its parsed JSON body.

    The scheme is recognised from the headers. Comparisons are constant-time; a timestamp
    further than ``tolerance`` seconds from now is refused, so a captured delivery cannot be
    replayed later. Raises WebhookVerificationError.
    """
    body = payload.encode() if isinstance(payload, str) else payload
    keys = [secret] if isinstance(secret, str) else list(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    now = time.time() if now is None else now
    if "webhook-signature" in lowered:
        _verify_standard(body, lowered, keys, tolerance, now)
    elif "stripe-signature" in lowered:
        _verify_stripe(body, lowered, keys, tolerance, now)
    elif "x-signature" in lowered:
        _verify_hex(body, lowered, keys, tolerance, now)
    else:
        raise WebhookVerificationError(
            "No signature header: expected X-Signature, webhook-signature or Stripe-Signature."
        )
    try:
        return loads(body)
    except ValueError:
        raise WebhookVerificationError("The signed body is not JSON.") from None


def _verify_hex(
    body: bytes, headers: dict[str, str], keys: list[str], tolerance: int, now: float
) -> None:
    if "x-webhook-timestamp" in headers:
        _check_age(headers["x-webhook-timestamp"], tolerance, now)
    sent = [headers["x-signature"], headers.get("x-signature-previous", "")]
    if not any(_same(_hex(key, body), value) for key in keys for value in sent if value):
        raise WebhookVerificationError("X-Signature does not match the body and secret.")


def _verify_standard(
    body: bytes, headers: dict[str, str], keys: list[str], tolerance: int, now: float
) -> None:
    message_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    _check_age(timestamp, tolerance, now)
    content = f"{message_id}.{timestamp}.".encode() + body
    expected = [base64.b64encode(_digest(_standard_key(k), content)).decode() for k in keys]
    sent = [
        value for version, _, value in
        (item.partition(",") for item in headers["webhook-signature"].split()) if version == "v1"
    ]  # fmt: skip
    if not any(_same(e, s) for e in expected for s in sent):
        raise WebhookVerificationError("webhook-signature does not match the body and secret.")


def _verify_stripe(
    body: bytes, headers: dict[str, str], keys: list[str], tolerance: int, now: float
) -> None:
    fields = [item.partition("=") for item in headers["stripe-signature"].split(",")]
    timestamp = next((value for name, _, value in fields if name.strip() == "t"), "")
    _check_age(timestamp, tolerance, now)
    content = f"{timestamp}.".encode() + body
    sent = [value for name, _, value in fields if name.strip() == "v1"]
    if not any(_same(_digest(k.encode(), content).hex(), s) for k in keys for s in sent):
        raise WebhookVerificationError("Stripe-Signature does not match the body and secret.")


def _check_age(timestamp: str, tolerance: int, now: float) -> None:
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookVerificationError(f"The timestamp {timestamp!r} is not a number.") from None
    if abs(now - sent_at) > tolerance:
        raise WebhookVerificationError(
            f"The timestamp is {int(now - sent_at)} s off, more than the {tolerance} s "
            "tolerance: a replay, or a clock out of sync."
        )


def _hex(secret: str, body: bytes) -> str:
    return _digest(secret.encode(), body).hex()


def _digest(key: bytes, content: bytes) -> bytes:
    return hmac.new(key, content, hashlib.sha256).digest()


def _standard_key(secret: str) -> bytes:
    """Standard Webhooks keys are the base64 after ``whsec_``; any other secret is used raw."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_") :], validate=True)
        except binascii.Error:
            pass
    return secret.encode()


def _same(expected: str, sent: str) -> bool:
    return hmac.compare_digest(expected.encode(), sent.strip().encode())
