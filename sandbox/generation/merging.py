"""Flattening: the schema objects that must all hold (a schema, its `$ref` target, its `allOf`
members) merged into one dict of constraints. Each keyword has a merger: the stricter bound is
kept, enums intersect, `required` is a union, item schemas are ANDed, object parts keep each
other's `additionalProperties` rules, and `oneOf`, `anyOf` and `if` become groups to choose from.
Keywords that cannot be met by construction (`not`, `propertyNames`, `dependentSchemas`...) set
`_check`, so the value is validated and made again."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sandbox.generation.jsonvalues import freeze, jsonable
from sandbox.generation.numeric import lcm_step

_ALL_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
_CHECKED = frozenset(
    {
        "not",
        "if",
        "dependentSchemas",
        "propertyNames",
        "unevaluatedItems",
        "contains",
        "$dynamicRef",
        "additionalItems",
    }
)


def _and_types(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    both = a & b
    if ("number" in a and "integer" in b) or ("integer" in a and "number" in b):
        both |= {"integer"}
    return both


def and_schemas(schemas: Sequence[Any]) -> Any:
    """One schema meaning all of `schemas` (False if any is False)."""
    kept = [s for s in schemas if s is not True and s != {}]
    if any(s is False for s in kept):
        return False
    if not kept:
        return {}
    return kept[0] if len(kept) == 1 else {"allOf": kept}


def _part_types(part: Mapping[str, Any], v30: bool) -> frozenset[str] | None:
    """Types one schema object allows (None = any); 3.0 `nullable` adds null."""
    declared = part.get("type")
    if declared is None:
        return None
    types = frozenset([declared]) if isinstance(declared, str) else frozenset(declared)
    if v30 and part.get("nullable") is True:
        types |= {"null"}
    return types


def _tighten(flat: dict[str, Any], key: str, value: Any, exclusive: bool) -> None:
    """Keep the stricter of two numeric bounds (`_lo` keeps the max, `_hi` the min)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    current = flat.get(key)
    sign = 1 if key == "_lo" else -1
    if current is None or sign * value > sign * current[0] or (value == current[0] and exclusive):
        flat[key] = (value, exclusive)


def _merge_bounds(flat: dict[str, Any], part: Mapping[str, Any]) -> None:
    """Read 3.0 (boolean) and 3.1 (numeric) exclusive bounds alike."""
    for key, low_key, ex_key in (
        ("_lo", "minimum", "exclusiveMinimum"),
        ("_hi", "maximum", "exclusiveMaximum"),
    ):
        bound, exclusive = part.get(low_key), part.get(ex_key)
        if isinstance(exclusive, bool):
            if bound is not None:
                _tighten(flat, key, bound, exclusive)
            continue
        if bound is not None:
            _tighten(flat, key, bound, False)
        if exclusive is not None:
            _tighten(flat, key, exclusive, True)


def _keep_max(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat[key] = max(flat.get(key, value), value)


def _keep_min(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat[key] = min(flat.get(key, value), value)


def _union(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    seen = flat.setdefault(key, [])
    seen.extend(v for v in value if v not in seen)


def _enum(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    values = [jsonable(value)] if key == "const" else [jsonable(v) for v in value or ()]
    if "enum" not in flat:
        flat["enum"] = values
        return
    keys = {freeze(v) for v in values}
    flat["enum"] = [v for v in flat["enum"] if freeze(v) in keys]


def _append(target: str) -> Callable[[dict[str, Any], str, Any, Mapping[str, Any]], None]:
    def add(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
        flat.setdefault(target, []).append(value)

    return add


def _needs_check(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat["_check"] = True
    flat.setdefault(key, value)


def _group(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat.setdefault("_groups", []).append((key, list(value), part.get("discriminator")))


def _disc(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    if "oneOf" not in part and "anyOf" not in part:
        flat.setdefault("_disc", value)


def _multiple(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    current = flat.get(key)
    flat[key] = value if current is None or current == value else lcm_step(current, value)


def _items(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat[key] = value if key not in flat else and_schemas([flat[key], value])


def _flag(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat[key] = bool(flat.get(key)) or value is True


def _examples(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    found = flat.setdefault("_examples", [])
    if key == "example":
        found.append(jsonable(value))
    elif isinstance(value, list):
        found.extend(jsonable(v) for v in value)


def _cond(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    """`if/then/else` becomes a choice: (if and then) or (else); the check rejects a bad mix."""
    flat["_check"] = True
    then = and_schemas([value, part.get("then", True)])
    flat.setdefault("_groups", []).append(("if", [then, part.get("else", True)], None))


def _not(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    flat["_check"] = True
    if isinstance(value, Mapping) and set(value) == {"type"}:
        banned = _part_types(value, False) or frozenset()
        flat["_banned"] = flat.get("_banned", frozenset()) | banned
    flat.setdefault("_not", []).append(value)


def _ignore(flat: dict[str, Any], key: str, value: Any, part: Mapping[str, Any]) -> None:
    return None


Merger = Callable[[dict[str, Any], str, Any, Mapping[str, Any]], None]
_MERGE: dict[str, Merger] = {
    **dict.fromkeys(
        (
            "type",
            "nullable",
            "$ref",
            "allOf",
            "title",
            "description",
            "$schema",
            "$id",
            "$comment",
            "deprecated",
            "xml",
            "externalDocs",
            "then",
            "else",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "properties",
            "patternProperties",
            "additionalProperties",
            "unevaluatedProperties",
            "$defs",
            "definitions",
            "$anchor",
        ),
        _ignore,
    ),
    **dict.fromkeys(("minLength", "minItems", "minProperties", "minContains"), _keep_max),
    **dict.fromkeys(("maxLength", "maxItems", "maxProperties", "maxContains"), _keep_min),
    **dict.fromkeys(("oneOf", "anyOf"), _group),
    **dict.fromkeys(_CHECKED, _needs_check),
    **dict.fromkeys(("readOnly", "writeOnly", "uniqueItems"), _flag),
    **dict.fromkeys(("example", "examples"), _examples),
    "required": _union,
    "enum": _enum,
    "const": _enum,
    "pattern": _append("_patterns"),
    "multipleOf": _multiple,
    "items": _items,
    "discriminator": _disc,
    "if": _cond,
    "not": _not,
}


def _pattern_hit(part: Mapping[str, Any], name: str) -> bool:
    return any(re.search(p, name) for p in part.get("patternProperties") or ())


def _merge_objects(flat: dict[str, Any], parts: Sequence[Mapping[str, Any]]) -> None:
    """Union properties; a closed part (additionalProperties false/schema) constrains the rest."""
    props: dict[str, list[Any]] = {}
    patterns: dict[str, list[Any]] = {}
    for part in parts:
        for name, schema in (part.get("properties") or {}).items():
            props.setdefault(name, []).append(schema)
        for pat, schema in (part.get("patternProperties") or {}).items():
            patterns.setdefault(pat, []).append(schema)
    closers = [p for p in parts if p.get("additionalProperties", True) is not True]
    for name, schemas in props.items():
        for closer in closers:
            if name not in (closer.get("properties") or {}) and not _pattern_hit(closer, name):
                schemas.append(closer["additionalProperties"])
    flat["properties"] = {name: and_schemas(s) for name, s in props.items()}
    flat["patternProperties"] = {pat: and_schemas(s) for pat, s in patterns.items()}
    extras = [c["additionalProperties"] for c in closers]
    if any(p.get("unevaluatedProperties") is False for p in parts):
        extras.append(False)
    flat["additionalProperties"] = and_schemas(extras) if extras else True


def merge_parts(parts: Sequence[Mapping[str, Any]], v30: bool) -> dict[str, Any]:
    """Merge schema objects that must all hold (allOf) into one flat constraint dict."""
    flat: dict[str, Any] = {}
    types: frozenset[str] | None = None
    for part in parts:
        part_types = _part_types(part, v30)
        if part_types is not None:
            types = part_types if types is None else _and_types(types, part_types)
        _merge_bounds(flat, part)
        for key, value in part.items():
            merger = _MERGE.get(key)
            if merger is None:
                flat.setdefault(key, value)
            else:
                merger(flat, key, value, part)
    if any(
        k in p
        for p in parts
        for k in (
            "properties",
            "additionalProperties",
            "patternProperties",
            "unevaluatedProperties",
        )
    ):
        _merge_objects(flat, parts)
    banned = flat.get("_banned")
    if banned:
        types = (types if types is not None else _ALL_TYPES) - banned
    flat["_types"] = types
    return flat
