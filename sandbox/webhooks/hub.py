"""Events in, deliveries out: names each change, shapes its payload, finds who listens, and
writes one delivery per subscription into the outbox for the worker to send."""

from __future__ import annotations

import random
import re
import string
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox.errors import PayloadTooLarge
from sandbox.jsonio import dumps
from sandbox.spec.model import Spec
from sandbox.state.protocols import NewDelivery, Outbox, Subscription
from sandbox.webhooks.callbacks import PlannedCallback
from sandbox.webhooks.delivery import DeliveryWorker, RetryPolicy
from sandbox.webhooks.safety import DestinationPolicy
from sandbox.webhooks.subscriptions import Subscriptions

CHANGES = {"create": "created", "bulk_create": "created", "replace": "updated",
           "update": "updated", "delete": "deleted"}  # fmt: skip
_ALPHANUMERIC = string.ascii_letters + string.digits


class WebhookHub:
    def __init__(
        self,
        spec: Spec,
        faker: Any,
        *,
        outbox: Outbox,
        subscriptions: Subscriptions,
        retry: RetryPolicy,
        policy: DestinationPolicy,
        signing: str,
        renames: dict[str, str],
        max_payload: int,
        api_subscriptions: Callable[[str], list[Subscription]] | None = None,
    ) -> None:
        self.spec = spec
        self.faker = faker
        self.signing = signing
        self.renames = renames
        self.max_payload = max_payload
        self.retry = retry
        self.policy = policy
        self.outbox = outbox
        self.subscriptions = subscriptions
        self.worker = DeliveryWorker(self.outbox, retry, policy)
        self.api_subscriptions = api_subscriptions or (lambda _tenant: [])
        self.schemas = declared_event_schemas(spec)

    def event_name(self, singular: str, action: str) -> str | None:
        change = CHANGES.get(action)
        if change is None:
            return None
        name = f"{singular}.{change}"
        return self.renames.get(name, name)

    def emit(
        self,
        tenant: str,
        event_type: str,
        data: Any,
        *,
        as_given: bool = False,
        always: bool = False,
        wake: bool = True,
    ) -> tuple[Any, list[str]]:
        """Queue the event for every subscription that wants it; the event and delivery ids.
        ``as_given``: a demo's hand-written data goes out untouched, fitting the spec or not.
        Without listeners nothing is built (None), unless ``always`` asks for the event."""
        listeners = [
            s for s in [*self.subscriptions.all(), *self.api_subscriptions(tenant)]
            if s.wants(event_type)
        ]  # fmt: skip
        if not listeners and not always:
            return None, []
        event = self.payload(event_type, data, reshape=not as_given)
        body = dumps(event)
        if len(body) > self.max_payload:
            raise PayloadTooLarge(
                f"The {event_type} payload is {len(body)} bytes; webhook_max_payload allows "
                f"{self.max_payload}."
            )
        if not listeners:
            return event, []
        now = time.time()
        event_id = event.get("id") if isinstance(event, dict) else None
        event_id = event_id if isinstance(event_id, str) else "evt_" + _token(16)
        ids = self.outbox.enqueue(
            (
                NewDelivery(event_id, event_type, tenant, s.id, s.url, s.scheme or self.signing,
                            s.signing_secrets(now), body)
                for s in listeners
            ),
            self.retry.attempts,
        )  # fmt: skip
        if wake:  # inside a caller's transaction, the caller wakes the worker after commit
            self.worker.wake()
        return event, ids

    def call_back(self, tenant: str, callback: PlannedCallback, secret: str) -> str:
        """Queue one OpenAPI callback; its delivery id."""
        body = dumps(callback.body)
        (delivery_id,) = self.outbox.enqueue(
            [NewDelivery("evt_" + _token(16), f"callback.{callback.name}", tenant,
                         f"callback:{callback.name}", callback.url, self.signing, [secret], body)],
            self.retry.attempts,
        )  # fmt: skip
        self.worker.wake()
        return delivery_id

    def payload(self, event_type: str, data: Any, *, reshape: bool = True) -> Any:
        """The default ``{id, event, type, timestamp, data}``, or, where the spec declares a
        schema for the event that this does not fit, a body generated from that schema with
        the same facts filled in wherever it has room for them."""
        event = {
            "id": "evt_" + _token(16),
            "event": event_type,
            "type": event_type,
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": data,
        }
        schema = self.schemas.get(event_type)
        if schema is None or not reshape or self.faker.is_valid(schema, event):
            return event
        shaped = self.faker.generate(schema, rng=random.Random(), mode="request")
        if isinstance(shaped, dict):
            for key, value in event.items():
                if key in shaped and self.faker.is_valid(schema, {**shaped, key: value}):
                    shaped[key] = value
        return shaped

    def start(self) -> None:
        """Start this process's delivery worker (each gunicorn worker calls this after fork)."""
        self.worker.ensure_running()

    def reset(self) -> None:
        self.outbox.clear()


def declared_event_schemas(spec: Spec) -> dict[str, Any]:
    """Event name -> body schema, from the 3.1 ``webhooks`` section. The name is the body
    example's ``type``/``event`` when there is one, else the key: ``userCreated`` is
    ``user.created``."""
    found: dict[str, Any] = {}
    for key, path_item in (spec.document.get("webhooks") or {}).items():
        path_item = spec.deref(path_item)
        operation = (path_item or {}).get("post") or {}
        body = spec.deref(operation.get("requestBody") or {})
        media = (body.get("content") or {}).get("application/json") or {}
        schema = media.get("schema")
        if schema is None:
            continue
        name = _example_name(media) or _dotted(key)
        found[name] = schema
    return found


def _example_name(media: dict[str, Any]) -> str | None:
    examples = [media.get("example")] + [
        (e or {}).get("value") for e in (media.get("examples") or {}).values()
    ]
    for example in examples:
        if isinstance(example, dict):
            for field in ("type", "event"):
                if isinstance(example.get(field), str):
                    return example[field]
    return None


def _dotted(key: str) -> str:
    words = re.findall(r"[a-z0-9]+|[A-Z][a-z0-9]*", key.replace("-", "_").replace(".", "_"))
    words = [w.lower() for w in words]
    return ".".join(["_".join(words[:-1]), words[-1]]) if len(words) > 1 else key


def _token(length: int) -> str:
    return "".join(random.choices(_ALPHANUMERIC, k=length))
