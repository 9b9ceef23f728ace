"""Reading a list request.

Which of an operation's query parameters page (page, limit, offset, cursor), sort and filter
is worked out from their names, once per operation; ``Listing.read`` turns a request's values
into the store's ``ListQuery``, and ``PageAsked.facts`` works out the page facts and the next
cursor once the store has answered. A cursor is an opaque offset (``cur_`` and base64), or the
last record's id where the parameter is named ``starting_after`` or ``after``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus

from sandbox.resources.inference import Binding, Resource
from sandbox.resources.presenting import PageFacts
from sandbox.resources.shapes import is_number
from sandbox.spec.model import Spec
from sandbox.spec.schemas import schema_types
from sandbox.spec.words import AFTER_WORDS, OFFSET_WORDS, PAGE_WORDS, norm
from sandbox.state.protocols import ListQuery

_PAGE, _OFFSET, _AFTER = PAGE_WORDS, OFFSET_WORDS, AFTER_WORDS
_LIMIT = {"limit", "perpage", "pagesize", "size", "count", "maxresults"}
_SORT = {"sort", "sortby", "orderby", "order"}

_MAX_OFFSET = 2**62  # SQLite integers are 64-bit


@dataclass(frozen=True)
class _ListPlan:
    names: list[str]
    defaults: dict[str, Any]
    limit: str | None
    page: str | None
    offset: str | None
    after: str | None
    sort: str | None
    filters: dict[str, set[str]]
    zero_based: bool = False  # pages count from 0 (the page parameter's minimum or default)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _cast_filter(raw: Any, kinds: set[str]) -> Any:
    text = str(raw)
    if "boolean" in kinds and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "integer" in kinds and re.fullmatch(r"-?\d+", text):
        number = int(text) if len(text) <= 20 else None  # no longer value is a stored integer
        # past 64 bits the state store cannot compare it (nor Python read 4,300+ digits)
        return number if number is not None and -(2**63) <= number < 2**63 else text
    if "number" in kinds and re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    return text


def _bounds(schema: Any) -> tuple[Any, ...]:
    """A page parameter's minimum and default: 0 in either says pages count from 0."""
    return (schema.get("minimum"), schema.get("default")) if isinstance(schema, dict) else ()


@lru_cache(maxsize=4096)
def _pair(name: str, value: str) -> str:
    """``name=value`` as ``urlencode`` writes it; a page's links repeat the same few pairs
    (three or four queries per page), and quoting them each time was ~4 µs a query."""
    return f"{quote_plus(name)}={quote_plus(value)}"


def _encode(args: dict[str, str]) -> str:
    """``urlencode(args)`` for string values."""
    return "&".join([_pair(name, value) for name, value in args.items()])


def _encode_cursor(offset: int) -> str:
    return "cur_" + base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    if not cursor.startswith("cur_"):
        return None
    text = cursor[4:]
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return int(decoded[2:]) if decoded.startswith("o:") and is_number(decoded[2:]) else None


@dataclass
class PageAsked:
    """A list request read: the store's query, and what the page facts need from it."""

    query: ListQuery
    page: int
    limit: int
    after_name: str | None  # the parameter that names where the page starts, if any
    args: dict[str, str] = field(default_factory=dict)  # the request's query, first values
    names: tuple[str | None, str | None, str | None] = (None, None, None)  # limit, page, offset
    zero_based: bool = False

    @property
    def by_id(self) -> bool:
        """The cursor is the last record's id (Stripe's ``starting_after``), not an offset."""
        return self.after_name is not None and norm(self.after_name) in ("startingafter", "after")

    def facts(
        self, presented: list[dict[str, Any]], total: int, start: int, id_field: str
    ) -> PageFacts:
        """The page's facts, once the store has answered ``total`` records from ``start``."""
        facts = PageFacts(
            page=self.page - 1 if self.zero_based else self.page,
            limit=self.limit, total=total, offset=start, count=len(presented),
        )  # fmt: skip
        facts.has_more = start + len(presented) < total
        if facts.has_more and presented:
            last_id = str(presented[-1].get(id_field))
            facts.next_cursor = last_id if self.by_id else _encode_cursor(start + len(presented))
            facts.next_query = self._query_at(start + len(presented), facts.next_cursor) or ""
        if start > 0:
            facts.prev_query = self._query_at(max(0, start - self.limit), None)
            facts.first_query = self._query_at(0, None)
        if facts.has_more and total > 0:
            last_start = (total - 1) // self.limit * self.limit
            facts.last_query = self._query_at(last_start, None)
        facts.self_query = _encode(self.args)
        return facts

    def _query_at(self, start: int, cursor: str | None) -> str | None:
        """The query of the page that starts at record ``start``: the same request in the
        parameters this operation pages by (offset, page, or a cursor: an offset cursor names
        any page, a record id only the next); None where they cannot name that page."""
        args = dict(self.args)
        limit, page, offset = self.names
        if limit:
            args[limit] = str(self.limit)
        if offset:
            args[offset] = str(start)
        elif page:
            number = start // self.limit + 1
            args[page] = str(number - 1 if self.zero_based else number)
        elif self.after_name and start == 0 and cursor is None:
            args.pop(self.after_name, None)  # the first page: the request without a cursor
        elif self.after_name and cursor is None and not self.by_id:
            args[self.after_name] = _encode_cursor(start)  # an opaque cursor is an offset
        elif self.after_name and cursor is not None:
            args[self.after_name] = cursor
        else:
            return None
        return _encode(args)


class Listing:
    """Reading a list request."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._list_plans: dict[str, _ListPlan] = {}  # read from the spec on first use

    def read(self, binding: Binding, args: Any, parent: str) -> PageAsked:
        """The store query for a list request's page, filters and sort (``args``: its query)."""
        resource = binding.resource
        plan = self._list_plan(binding)
        value_of = {n: args.get(n, plan.defaults.get(n)) for n in plan.names}
        limit = max(1, _int(value_of.get(plan.limit), 20)) if plan.limit else 20
        page = _int(value_of.get(plan.page), 0 if plan.zero_based else 1) if plan.page else 1
        page = max(1, page + 1 if plan.zero_based else page)  # from here on pages count from 1
        offset = max(0, _int(value_of.get(plan.offset), 0)) if plan.offset else (page - 1) * limit
        after_name = plan.after
        after = args.get(after_name) if after_name else None
        query = ListQuery(parent=parent, offset=min(offset, _MAX_OFFSET), limit=min(limit, 10_000))
        if after:
            decoded = _decode_cursor(after)
            if decoded is not None:
                query.offset = min(decoded, _MAX_OFFSET)
            else:
                query.after_id = after
        query.filters = {
            name: _cast_filter(args.get(name), kinds)
            for name, kinds in plan.filters.items()
            if name in args
        }
        if plan.sort and args.get(plan.sort):
            query.sort = self._sort(resource, str(args.get(plan.sort)))
        first = {name: str(args.get(name)) for name in args if args.get(name) is not None}
        return PageAsked(
            query, page, limit, after_name, first, (plan.limit, plan.page, plan.offset),
            plan.zero_based,
        )  # fmt: skip

    def _list_plan(self, binding: Binding) -> _ListPlan:
        """Which query parameters page, sort and filter a list: read from the spec once."""
        plan = self._list_plans.get(binding.operation.operation_id)
        if plan is not None:
            return plan
        query = [p for p in binding.operation.parameters if p.location == "query"]
        names = {p.name: norm(p.name) for p in query}

        def named(kinds: AbstractSet[str]) -> str | None:
            return next((n for n, k in names.items() if k in kinds), None)

        properties = (binding.resource.item_schema or {}).get("properties") or {}
        reserved = _PAGE | _LIMIT | _OFFSET | _AFTER | _SORT
        plan = _ListPlan(
            names=list(names),
            defaults={p.name: self.spec.deref(p.schema).get("default") for p in query},
            limit=named(_LIMIT), page=named(_PAGE), offset=named(_OFFSET),
            after=named(_AFTER), sort=named(_SORT),
            filters={
                name: schema_types(self.spec.deref(properties[name]))
                for name, key in names.items()
                if key not in reserved and name in properties
            },
            zero_based=any(
                p.name == named(_PAGE) and 0 in _bounds(self.spec.deref(p.schema)) for p in query
            ),
        )  # fmt: skip
        self._list_plans[binding.operation.operation_id] = plan
        return plan

    def _sort(self, resource: Resource, text: str) -> list[tuple[str, bool]]:
        properties = (resource.item_schema or {}).get("properties") or {}
        order: list[tuple[str, bool]] = []
        for part in text.split(","):
            part = part.strip()
            descending = part.startswith("-") or part.lower().endswith((":desc", " desc"))
            name = re.sub(r"^[-+]|[: ](asc|desc)$", "", part, flags=re.I)
            if name in properties:
                order.append((name, descending))
        return order
