"""The storage interface: records of JSON objects, partitioned by tenant and resource."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Record:
    id: str
    body: dict[str, Any]
    parent: str = ""
    unique: dict[str, str] = field(default_factory=dict)


@dataclass
class ListQuery:
    parent: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    offset: int = 0
    limit: int = 20
    after_id: str | None = None


class StateStore(Protocol):
    def ensure_seeded(
        self, tenant: str, seed: Callable[[], dict[str, list[Record]]], scope: str = ""
    ) -> None:
        """Create a tenant's seed records for ``scope`` (a family of resources; "" for all)
        the first time the tenant asks for that scope, exactly once."""

    def get(self, tenant: str, resource: str, record_id: str, parent: str = "") -> dict | None: ...

    def insert(self, tenant: str, resource: str, records: list[Record]) -> None:
        """Insert all records or none; Conflict when a unique value is taken."""

    def replace(self, tenant: str, resource: str, record: Record) -> bool:
        """Replace an existing record's body; False when it does not exist."""

    def delete(self, tenant: str, resource: str, record_id: str, parent: str = "") -> bool: ...

    def query(self, tenant: str, resource: str, query: ListQuery) -> tuple[list[dict], int, int]:
        """One page of records in order, the total that match the filters, and the offset of
        the page's first record (``after_id`` is resolved to one)."""

    def reset(self) -> None:
        """Forget everything: tenants are seeded again on their next request."""
