"""``/__sandbox/webhooks`` and ``/__sandbox/events``: subscriptions, manual events for demos,
and the delivery log with its redeliver button."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from werkzeug.wrappers import Response

from sandbox.admin.api import json_body
from sandbox.admin.api import json_response as _json
from sandbox.admin.api import problem as _problem
from sandbox.admin.services import AdminServices
from sandbox.errors import DestinationRefused, PayloadTooLarge
from sandbox.webhooks.signing import SCHEMES, new_secret


def _body() -> dict[str, Any] | None:
    body = json_body()
    return body if isinstance(body, dict) else None


def webhooks_blueprint(sandbox: AdminServices) -> Blueprint:
    admin = Blueprint("sandbox_webhooks", __name__, url_prefix="/__sandbox")
    hub = sandbox.webhooks

    @admin.get("/webhooks")
    def list_subscriptions() -> Response:
        return _json({"subscriptions": [s.as_dict() for s in hub.subscriptions.all()],
                      "deliveries": hub.outbox.counts()})  # fmt: skip

    @admin.post("/webhooks")
    def subscribe() -> Response:
        body = _body()
        example = '{"url": "http://127.0.0.1:9000/hook", "events": ["user.*"]}'
        if body is None or not isinstance(body.get("url"), str):
            return _problem(400, "invalid_request", f"Send a JSON object such as {example}.")
        events = body.get("events", ["*"])
        if (
            not isinstance(events, list)
            or not events
            or not all(isinstance(e, str) and e for e in events)
        ):
            return _problem(
                400, "invalid_request", 'events must be a list of names: ["user.created", "*"].'
            )
        scheme = body.get("scheme")
        if scheme is not None and scheme not in SCHEMES:
            return _problem(400, "invalid_request", "scheme must be one of: " + ", ".join(SCHEMES))
        secret = body.get("secret") or new_secret()
        if not isinstance(secret, str):
            return _problem(400, "invalid_request", "secret must be a string.")
        try:
            hub.policy.admit(body["url"])
        except DestinationRefused as exc:
            return _problem(422, "destination_refused", str(exc))
        subscription = hub.subscriptions.create(body["url"], events, secret, scheme)
        return _json(subscription.as_dict(reveal_secret=True), 201)

    @admin.delete("/webhooks/<subscription_id>")
    def unsubscribe(subscription_id: str) -> Response:
        if not hub.subscriptions.delete(subscription_id):
            return _problem(404, "not_found", f"No subscription {subscription_id!r}.")
        return Response(status=204)

    @admin.post("/webhooks/<subscription_id>/rotate")
    def rotate(subscription_id: str) -> Response:
        grace = sandbox.settings.webhook_rotation_grace
        rotated = hub.subscriptions.rotate(subscription_id, new_secret(), grace)
        if rotated is None:
            return _problem(404, "not_found", f"No subscription {subscription_id!r}.")
        return _json(rotated.as_dict(reveal_secret=True))

    @admin.post("/events")
    def trigger() -> Response:
        body = _body()
        if body is None or not isinstance(body.get("type"), str):
            return _problem(400, "invalid_request", 'Send {"type": "user.created"} (and "data").')
        tenant = str(body.get("tenant") or sandbox.settings.default_api_key)
        given = "data" in body
        data = body["data"] if given else sandbox.sample_record(body["type"])
        try:
            event, deliveries = hub.emit(tenant, body["type"], data, as_given=given, always=True)
        except PayloadTooLarge as exc:
            return _problem(413, "payload_too_large", str(exc))
        return _json({"event": event, "deliveries": deliveries}, 202)

    @admin.get("/webhooks/deliveries")
    def deliveries() -> Response:
        try:
            limit = max(1, min(1000, int(request.args.get("limit", 100))))
        except ValueError:
            return _problem(400, "invalid_request", "limit must be a number from 1 to 1000.")
        found = hub.outbox.find(
            status=request.args.get("status"),
            event_type=request.args.get("event_type"),
            subscription_id=request.args.get("subscription_id"),
            event_id=request.args.get("event_id"),
            limit=limit,
        )
        return _json({"deliveries": [d.as_dict() for d in found]})

    @admin.get("/webhooks/deliveries/<delivery_id>")
    def delivery(delivery_id: str) -> Response:
        found = hub.outbox.get(delivery_id)
        if found is None:
            return _problem(404, "not_found", f"No delivery {delivery_id!r}.")
        return _json(found.as_dict())

    @admin.post("/webhooks/deliveries/<delivery_id>/redeliver")
    def redeliver(delivery_id: str) -> Response:
        again = hub.outbox.redeliver(delivery_id, sandbox.settings.webhook_attempts)
        if again is None:
            return _problem(404, "not_found", f"No delivery {delivery_id!r}.")
        hub.worker.wake()
        return _json(again.as_dict(), 202)

    return admin
