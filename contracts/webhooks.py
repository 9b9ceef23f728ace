"""Webhooks as a contract: creating a resource must deliver the declared event, whose body
matches the spec's webhook schema and whose signature verifies with the secret registered.

The runner starts a receiver at the ``--webhooks`` address (it must be reachable by the
target), registers it through the spec's own subscription endpoint when there is one, and
the ``webhook_delivery`` check waits for each created resource's event there.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from contracts.facts import ContractFacts
from contracts.target import Target
from sandbox.jsonio import loads
from sandbox.spec.model import Operation
from sandbox.webhooks.hub import declared_event_schemas


class WebhookSetupError(RuntimeError):
    """The receiver cannot listen, or the target refused the subscription."""


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    received_at: float

    def json(self) -> Any:
        try:
            return loads(self.body)
        except ValueError:
            return None


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any) -> None:
        pass


@dataclass
class WebhookWatch:
    """The receiver, what it got, and what the spec promises to send."""

    url: str
    secret: str | None = None
    timeout: float = 10.0
    schemas: dict[str, Any] = field(default_factory=dict)  # event name -> body schema
    deliveries: list[Delivery] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)  # events already reported as never sent
    subscribed: Any = None  # (facts, target, operation, id) of our subscription, if we made it
    renewals: int = 0
    _arrived: threading.Condition = field(default_factory=threading.Condition)
    _server: Any = None

    def start(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise WebhookSetupError(
                f"--webhooks {self.url!r}: give an http://HOST:PORT/path the target can reach"
            )
        try:
            self._server = make_server(
                parts.hostname, parts.port, self._app, threaded=True, request_handler=_Quiet
            )
        except OSError as exc:
            raise WebhookSetupError(
                f"cannot listen on {parts.hostname}:{parts.port}: {exc}"
            ) from None
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        delivery = Delivery(dict(request.headers), request.get_data(), time.time())
        with self._arrived:
            self.deliveries.append(delivery)
            self._arrived.notify_all()
        return Response('{"received": true}', content_type="application/json")(
            environ, start_response
        )

    def wait_for(self, resource_id: str) -> Delivery | None:
        """The first delivery whose ``data`` is the resource, waiting up to the timeout."""
        deadline = time.monotonic() + self.timeout
        with self._arrived:
            while True:
                for delivery in self.deliveries:
                    if _about(delivery.json(), resource_id):
                        return delivery
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._arrived.wait(left)

    def still_subscribed(self) -> bool:
        """True when our subscription is there, or was just made again (the run's own
        DELETE requests may remove it: generated ids can hit it)."""
        if self.subscribed is None:
            return True
        facts, target, operation, subscription_id = self.subscribed
        reader = facts.item_read(operation.path)
        if reader is None or subscription_id is None:
            return True
        if not self._gone(target, reader.path, subscription_id) or self.renewals >= 3:
            return True  # three renewals that never deliver: the server drops them
        self.renewals += 1
        _subscribe(facts, target, operation, self)
        # one the server cannot read back even now was never kept: not the run's doing
        return self._gone(target, reader.path, self.subscribed[3])

    @staticmethod
    def _gone(target: Target, item_template: str, subscription_id: Any) -> bool:
        if subscription_id is None:
            return False
        path = item_template.rsplit("/", 1)[0] + f"/{subscription_id}"
        return target.request("GET", path).status == 404

    def expected_event(self, collection_path: str) -> str | None:
        """The declared ``<singular>.created`` event for a collection, if the spec has one."""
        last = collection_path.rstrip("/").rpartition("/")[2].lower()
        for name in self.schemas:
            prefix, _, action = name.rpartition(".")
            if action == "created" and _plural_of(prefix.lower(), last):
                return name
        return None


def _plural_of(singular: str, plural: str) -> bool:
    return plural in (singular, singular + "s", singular + "es") or (
        singular.endswith("y") and plural == singular[:-1] + "ies"
    )


def _about(event: Any, resource_id: str) -> bool:
    data = event.get("data") if isinstance(event, dict) else None
    if isinstance(data, dict) and isinstance(data.get("object"), dict):  # Stripe-style
        data = data["object"]
    return isinstance(data, dict) and str(data.get("id")) == resource_id


def prepare(facts: ContractFacts, target: Target, url: str, secret: str | None,
            timeout: float) -> WebhookWatch:  # fmt: skip
    """Listen, then subscribe through the spec's subscription endpoint when it has one."""
    watch = WebhookWatch(url, secret, timeout, declared_event_schemas(facts.spec))
    watch.start()
    try:
        subscription = _subscription_operation(facts)
        if subscription is not None:
            watch.secret = _subscribe(facts, target, subscription, watch)
    except Exception:
        watch.close()
        raise
    return watch


def _subscription_operation(facts: ContractFacts) -> Operation | None:
    """A create whose body takes a ``url`` and a list of ``events``: ``POST /webhooks``."""
    for operation in facts.spec.operations:
        if operation.method != "POST" or facts.is_item_path(operation.path):
            continue
        schema = facts.full(facts.request_schema(operation))
        properties = schema.get("properties") or {}
        if "url" in properties and "events" in properties:
            return operation
    return None


def _subscribe(facts: ContractFacts, target: Target, operation: Operation,
               watch: WebhookWatch) -> str | None:  # fmt: skip
    schema = facts.full(facts.request_schema(operation))
    events_schema = (schema.get("properties") or {}).get("events")
    # everything, when the API takes a wildcard: a renamed event is then seen, not missed
    events = ["*"] if facts.checks.is_valid(events_schema, ["*"]) else sorted(watch.schemas)
    body: dict[str, Any] = {"url": watch.url, "events": events}
    if watch.secret and "secret" in (schema.get("properties") or {}):
        body["secret"] = watch.secret
    answer = target.request("POST", operation.path, json=body)
    if not 200 <= answer.status < 300:
        raise WebhookSetupError(
            f"subscribing {watch.url} with POST {operation.path} answered {answer.status}: "
            f"{answer.body[:200]!r}"
        )
    record = answer.json()
    record = record.get("data", record) if isinstance(record, dict) else {}
    record = record if isinstance(record, dict) else {}
    watch.subscribed = (facts, target, operation, record.get("id"))
    returned = record.get("secret")
    return watch.secret or (returned if isinstance(returned, str) else None)
