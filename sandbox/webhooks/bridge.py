"""The spec's own subscription endpoint (``POST /v1/webhooks``) as a source of subscriptions.

The resource engine stores those records like any other resource; this finds which resource
they are (one with ``url`` and ``events`` fields) and reads a tenant's as subscriptions.
"""

from __future__ import annotations

from typing import Any

from sandbox.resources.inference import Resource
from sandbox.state.protocols import ListQuery, RecordStore, Subscription


def subscription_resource(resources: dict[str, Resource]) -> Resource | None:
    for resource in resources.values():
        properties = (resource.item_schema or {}).get("properties") or {}
        if resource.parent is None and {"url", "events"} <= set(properties):
            return resource
    return None


def stored_subscriptions(store: RecordStore, resource: Resource, tenant: str) -> list[Subscription]:
    items, _, _ = store.query(tenant, resource.name, ListQuery(limit=10_000))
    return [_subscription(resource, item) for item in items if _usable(item)]


class StoredSubscriptions:
    """A tenant's subscriptions, read on every stored change (inside its write transaction):
    kept per tenant while the store's counter for the resource stands still, so a create
    with no subscriber reads nothing (three queries before). A store without a counter is
    read every time."""

    _KEPT = 1024  # tenants; beyond that the copies start over

    def __init__(self, store: RecordStore, resource: Resource) -> None:
        self.store, self.resource = store, resource
        self._kept: dict[str, tuple[int, list[Subscription]]] = {}

    def __call__(self, tenant: str) -> list[Subscription]:
        version = self.store.version(self.resource.name)  # first: see state.sqlite.versions
        if version is None:
            return stored_subscriptions(self.store, self.resource, tenant)
        held = self._kept.get(tenant)
        if held is not None and held[0] == version:
            return held[1]
        found = stored_subscriptions(self.store, self.resource, tenant)
        if len(self._kept) >= self._KEPT:
            self._kept = {}
        self._kept[tenant] = (version, found)
        return found


def _usable(item: dict[str, Any]) -> bool:
    return isinstance(item.get("url"), str) and isinstance(item.get("events"), list)


def _subscription(resource: Resource, item: dict[str, Any]) -> Subscription:
    return Subscription(
        id=str(item.get(resource.id_field, "")),
        url=item["url"],
        events=tuple(str(e) for e in item["events"]),
        secret=str(item.get("secret") or ""),
        scheme=item.get("scheme") if isinstance(item.get("scheme"), str) else None,
        active=item.get("active", True) is not False,
        source="api",
    )
