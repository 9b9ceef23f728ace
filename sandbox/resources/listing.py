"""Reading a list request: which query parameters page, sort and filter, and cursors."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from sandbox.resources.inference import Binding, Resource
from sandbox.resources.shapes import is_number, norm
from sandbox.spec.model import Spec
from sandbox.spec.schemas import schema_types

_PAGE = {"page", "pagenumber", "pageno"}
_LIMIT = {"limit", "perpage", "pagesize", "size", "count", "maxresults"}
_OFFSET = {"offset", "skip", "start"}
_AFTER = {"startingafter", "after", "cursor", "pagetoken", "nextcursor", "continuationtoken"}
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
        return int(text)
    if "number" in kinds and re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    return text


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


class _Listing:
    """Reading a list request."""

    spec: Spec
    _list_plans: dict[str, _ListPlan]

    def _list_plan(self, binding: Binding) -> _ListPlan:
        """Which query parameters page, sort and filter a list: read from the spec once."""
        plan = self._list_plans.get(binding.operation.operation_id)
        if plan is not None:
            return plan
        query = [p for p in binding.operation.parameters if p.location == "query"]
        names = {p.name: norm(p.name) for p in query}

        def named(kinds: set[str]) -> str | None:
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
