"""JSON values: copies a caller may mutate, YAML's dates as JSON strings, hashable keys with
JSON equality (for `uniqueItems` and intersecting enums) and the JSON type of a value."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def clone(value: Any) -> Any:
    """A copy of a JSON value, so callers may mutate what we return."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


def jsonable(value: Any) -> Any:
    """YAML gives datetimes and dates for unquoted timestamps; make them JSON strings."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    return value


def freeze(value: Any) -> Any:
    """A hashable key with JSON equality (1 == 1.0, but True != 1) for uniqueItems."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, Mapping):
        return ("o", frozenset((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("a", tuple(freeze(v) for v in value))
    return ("s", value)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
