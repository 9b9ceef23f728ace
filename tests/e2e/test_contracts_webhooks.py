"""`contracts run --webhooks`: creating a resource must deliver the declared event, signed
with the registered secret and shaped by the spec's webhook schema. Checked against the
sandbox, and against the sandbox broken in one way at a time."""

from __future__ import annotations

import json
import socket

import pytest

from contracts.runner import RunOptions, run
from sandbox import create_app, load_settings
from tests.conftest import DEFAULT_SPEC

SECRET = "whsec_dGVzdC1zZWNyZXQtZm9yLWNvbnRyYWN0cw=="


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sandbox(tmp_path, **overrides):
    settings = load_settings(
        DEFAULT_SPEC, environ={},
        overrides={"state": str(tmp_path / "s.sqlite"), "rate_limits": "1000000000/hour",
                   "log_format": "off", "webhook_dns": False, **overrides},
    )  # fmt: skip
    return create_app(DEFAULT_SPEC, settings), settings


def with_other_secret(app):
    """A server that signs with a secret other than the one it was given."""

    def middleware(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/v1/webhooks":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            body["secret"] = "whsec_c29tZXRoaW5nLWVsc2UtZW50aXJlbHktZGlmZmVyZW50"
            raw = json.dumps(body).encode()
            import io

            environ["wsgi.input"] = io.BytesIO(raw)
            environ["CONTENT_LENGTH"] = str(len(raw))
        return app(environ, start_response)

    return middleware


def forgetting_subscriptions(app):
    """A server that says 201 to a subscription and keeps nothing, so nothing is sent."""

    def middleware(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/v1/webhooks":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            made = {"id": "whk_forgotten", "url": body.get("url"), "events": body.get("events"),
                    "active": True, "created_at": "2026-01-01T00:00:00Z"}  # fmt: skip
            answer = json.dumps({"status": "success", "data": made}).encode()
            start_response("201 Created", [("Content-Type", "application/json"),
                                           ("Content-Length", str(len(answer)))])  # fmt: skip
            return [answer]
        return app(environ, start_response)

    return middleware


def contract_run(app, settings):
    return run(RunOptions(
        DEFAULT_SPEC, app=app, api_key=settings.default_api_key, max_examples=2, seed=1,
        phases=("examples",), include_path=("/users",),
        webhooks=f"http://127.0.0.1:{free_port()}/hooks", webhook_secret=SECRET,
        webhook_timeout=3,
    ))  # fmt: skip


def test_the_sandbox_delivers_signed_schema_valid_events(tmp_path) -> None:
    report = contract_run(*sandbox(tmp_path))
    assert report.failures == [], [f.fingerprint for f in report.failures]
    assert report.operations["POST /users"].checks["webhook_delivery"] > 0


@pytest.mark.parametrize(
    ("breakage", "title"),
    [
        ("renamed", "Webhook delivered as another event"),
        ("other_secret", "Webhook signature does not verify"),
        ("never_sent", "Webhook not delivered"),
    ],
)
def test_each_broken_promise_is_reported(tmp_path, breakage, title) -> None:
    if breakage == "renamed":
        app, settings = sandbox(tmp_path, webhook_event_names={"user.created": "user.signed_up"})
    elif breakage == "never_sent":  # the subscription is answered, never kept: nothing leaves
        app, settings = sandbox(tmp_path)
        app = forgetting_subscriptions(app)
    else:
        app, settings = sandbox(tmp_path)
        app = with_other_secret(app)
    report = contract_run(app, settings)
    titles = {f.title for f in report.failures if f.check == "webhook_delivery"}
    assert titles == {title}, [f.fingerprint for f in report.failures]
    assert report.exit_code == 1
