"""A tenant's first records.

The first time a tenant touches a resource family (a resource and those nested under it),
``Seeder`` makes ``seed_records`` records of each top-level resource and two of each nested
one for each of the first ten parents, created and updated at times in the past year. With a
seed they are the same records on every run of the day; resources in ``unseeded`` start empty.

Seeds have no scope (``RecordStore``): a collection under path values that name no parent
record (``/repos/{owner}/{repo}/labels``) lists the same seeds in every repository, then
what clients made in that one. Seeding each scope on its first request instead would make
every new path value (a fuzzer draws thousands) cost a family's seeding, and old records,
which carry no scope, would still need the unscoped line in view.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from sandbox.generation.faker import stable_rng
from sandbox.resources.inference import Resource
from sandbox.resources.records import Records, parent_line
from sandbox.resources.shapes import TIMESTAMPS, UPDATED
from sandbox.spec.words import norm
from sandbox.state.protocols import Record


def _root(resource: Resource) -> Resource:
    while resource.parent is not None:
        resource = resource.parent
    return resource


class Seeder:
    """A tenant's first records."""

    def __init__(
        self, records: Records, resources: dict[str, Resource], *, seed: int | None,
        seed_records: int, unseeded: frozenset[str],
    ) -> None:  # fmt: skip
        self.records, self.resources, self.unseeded = records, resources, unseeded
        self.seed, self.seed_records = seed, seed_records
        self.spec, self.checks = records.spec, records.checks

    def ensure(self, tenant: str, resource: Resource) -> None:
        """Seed the family ``resource`` belongs to, unless the tenant has it already."""
        root = _root(resource)
        self.records.store.ensure_seeded(tenant, lambda: self.family(root), scope=root.name)

    def family(self, root: Resource) -> dict[str, list[Record]]:
        """Records for ``root`` and every resource nested under it."""
        family = [r for r in self.resources.values() if _root(r) is root]
        records: dict[str, list[Record]] = {}
        for resource in family:
            if resource.parent is not None or resource.item_schema is None:
                continue
            if resource.name in self.unseeded:
                records[resource.name] = []
                continue
            made: list[Record] = []
            taken: set[tuple[str, str]] = set()
            for index in range(self.seed_records):
                for attempt in range(5):
                    rng = self._rng(resource.name, index, attempt)
                    record = self.records.new(resource, None, rng, "")
                    self._times(resource, record.body, rng)
                    keys = {(f, v) for f, v in record.unique.items()}
                    if not keys & taken:
                        taken |= keys
                        made.append(record)
                        break
            records[resource.name] = made
        for resource in family:
            if resource.parent is None or resource.item_schema is None:
                continue
            children = []
            for parent_record in records.get(resource.parent.name, [])[:10]:
                for index in range(2):
                    rng = self._rng(resource.name, parent_record.id, index)
                    parent = parent_line(parent_record.parent, parent_record.id)
                    children.append(self.records.new(resource, None, rng, parent))
            records[resource.name] = children
        return records

    def _rng(self, *parts: object) -> random.Random:
        if self.seed is None:
            return random.Random()
        return stable_rng("seed-data", self.seed, *parts)

    def _times(self, resource: Resource, obj: dict[str, Any], rng: random.Random) -> None:
        """Seed records look lived-in: created in the past year, updated since."""
        properties = (resource.item_schema or {}).get("properties") or {}
        # anchored to today's midnight, so a seeded run gives the same records all day
        now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        created = now - rng.uniform(3600, 365 * 86400)
        updated = rng.uniform(created, now)
        for name in properties:
            key = norm(name)
            stamp = updated if key in UPDATED else created if key in TIMESTAMPS else None
            if stamp is not None and name in obj:
                text = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                if self.checks.is_valid(self.spec.deref(properties[name]), text):
                    obj[name] = text
