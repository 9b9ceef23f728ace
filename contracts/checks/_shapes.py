"""Reading the common shapes of JSON bodies: a record inside an envelope, a list of items
and its paging metadata, a field under any of its usual spellings."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

LIST_NAMES = ("data", "items", "results", "records")
META_NAMES = ("meta", "pagination", "page_info", "pageInfo")
IDENTITY_NAMES = ("id", "uuid", "key", "name")


def record_of(body: Any) -> Any:
    """The resource inside an envelope (``data``), or the body itself."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict | list):
        return body["data"]
    return body


def items_of(body: Any) -> list[Any] | None:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for name in LIST_NAMES:
            if isinstance(body.get(name), list):
                return list(body[name])
        inner = body.get("data")
        if isinstance(inner, dict):
            return items_of(inner)
    return None


def meta_of(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        for name in META_NAMES:
            if isinstance(body.get(name), dict):
                return dict(body[name])
        return body
    return {}


def first(mapping: dict[str, Any], *names: str) -> Any:
    """The first of ``names`` present, spelled in any case, with or without underscores."""
    lowered = {key.lower().replace("_", ""): value for key, value in mapping.items()}
    for name in names:
        value = lowered.get(name.lower().replace("_", ""))
        if value is not None:
            return value
    return None


def identity(item: Any) -> str | None:
    if isinstance(item, dict):
        for name in IDENTITY_NAMES:
            if isinstance(item.get(name), str | int):
                return str(item[name])
    return None


def filled(template: str, params: dict[str, Any]) -> str:
    """``/items/{id}`` with its parameters put in, each percent-encoded as one segment."""

    def value(match: re.Match[str]) -> str:
        found = params.get(match.group(1))
        return match.group(0) if found is None else quote(str(found), safe="")

    return re.sub(r"\{([^}]+)\}", value, template)
