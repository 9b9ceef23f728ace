"""Compiled nodes: what generation reads from a schema, worked out once. A `Node` holds a
flattened schema's constraints as fields (types, bounds, lengths, items, patterns...) and caches
filled on first use (the object `Plan`, the examples and enum values that validate, merged
oneOf/anyOf branches, the cost of the smallest value). `Ctx` is the state one value is generated
with: rng, mode, depth, property name and realism scope."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any, Literal

from sandbox.generation.jsonvalues import jsonable
from sandbox.generation.kinds import Realism, Scope
from sandbox.generation.merging import and_schemas
from sandbox.generation.numeric import INF, int_bounds

Mode = Literal["response", "request"]

MISS: Any = object()
SCALARS = ("string", "integer", "number", "boolean")
_FORMAT_INT_BOUNDS = {"int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1)}
_OBJECT_KEYS = (
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "dependentRequired",
)
_ARRAY_KEYS = ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains")
_STRING_KEYS = ("minLength", "maxLength", "pattern")
_NUMBER_KEYS = ("_lo", "_hi", "multipleOf")


class Prop:
    """One property of an object plan, with the mode flags of its schema."""

    __slots__ = ("name", "read", "required", "ro", "schema", "wo")

    def __init__(
        self, name: str, schema: Any, required: bool, ro: bool, wo: bool, read: bool = False
    ) -> None:
        self.name, self.schema, self.required, self.ro, self.wo = name, schema, required, ro, wo
        self.read = read  # a field clients of any API read (names.clients_read): kept


class Plan:
    """How to build an object: its properties in order, and how to make extra keys."""

    __slots__ = ("byname", "deps", "extra", "high", "low", "names", "patterns", "props")

    def __init__(self) -> None:
        self.props: list[Prop] = []
        self.byname: dict[str, Prop] = {}
        self.extra: Any = True
        self.patterns: dict[str, Any] = {}
        self.names: Any = None
        self.low, self.high = 0, INF
        self.deps: dict[str, list[str]] = {}


class Node:
    """A schema compiled for generation: flattened constraints plus lazily built caches."""

    __slots__ = (
        "base_parts",
        "check",
        "contains",
        "contains_schema",
        "cost",
        "default",
        "default_ok",
        "enum",
        "examples",
        "flat",
        "fmt",
        "force",
        "groups",
        "guessable",
        "hi",
        "id_prefix",
        "inferred",
        "int_hi",
        "int_lo",
        "is_object",
        "items",
        "lo",
        "max_items",
        "max_len",
        "merged",
        "min_contains",
        "min_items",
        "min_len",
        "multiple",
        "parts",
        "patterns",
        "plan",
        "prefix",
        "ro",
        "soft",
        "src",
        "types",
        "unique",
        "valid_enum",
        "valid_examples",
        "wo",
        "xfaker",
    )

    def __init__(self, src: Any, parts: list[Mapping[str, Any]], flat: dict[str, Any]) -> None:
        self.src, self.parts, self.flat = src, parts, flat
        get = flat.get
        self.types: frozenset[str] | None = get("_types")
        self.inferred = _infer_types(flat)
        self.enum: list[Any] | None = get("enum")
        self.examples: list[Any] = get("_examples", [])
        said = next((p["description"] for p in parts if isinstance(p.get("description"), str)), "")
        self.id_prefix = shown_id_prefix(self.examples, said)
        self.default = jsonable(flat["default"]) if "default" in flat else MISS
        self.xfaker = get("x-faker")
        self.groups: list[tuple[str, list[Any], Any]] = get("_groups", [])
        self.check = bool(get("_check")) or any(
            kind == "oneOf" and not disc for kind, _, disc in self.groups
        )
        self.ro, self.wo = bool(get("readOnly")), bool(get("writeOnly"))
        self.patterns: list[str] = get("_patterns", [])
        self.fmt: str | None = get("format")
        self.min_len, self.max_len = get("minLength", 0), get("maxLength", INF)
        self.lo, self.hi = get("_lo"), get("_hi")
        self.int_lo, self.int_hi = int_bounds(self.lo, self.hi)
        if self.fmt in _FORMAT_INT_BOUNDS:
            f_lo, f_hi = _FORMAT_INT_BOUNDS[self.fmt]
            self.int_lo = f_lo if self.int_lo is None else max(self.int_lo, f_lo)
            self.int_hi = f_hi if self.int_hi is None else min(self.int_hi, f_hi)
        self.multiple = get("multipleOf")
        self.items = get("items")
        self.prefix: list[Any] = get("prefixItems", [])
        self.min_items, self.max_items = get("minItems", 0), get("maxItems", INF)
        self.unique = bool(get("uniqueItems"))
        self.contains = get("contains")
        self.min_contains = get("minContains", 1)
        self.contains_schema = (
            None
            if self.contains is None
            else and_schemas([self.items if self.items is not None else {}, self.contains])
        )
        self.is_object = any(k in flat for k in _OBJECT_KEYS)
        self.plan: Plan | None = None
        self.force: dict[str, Any] = {}
        self.guessable: dict[int, bool] = {}  # id(Kind) -> can its values match the patterns
        self.soft: tuple[str, str] | None = None
        self.cost: int | None = None
        self.valid_enum: list[Any] | None = None
        self.valid_examples: dict[str, list[Any]] = {}
        self.default_ok: bool | None = None
        self.merged: dict[tuple[int, ...], Node] = {}
        self.base_parts: list[Mapping[str, Any]] | None = None
        if self.patterns and self.fmt:
            self.check = True


_PREFIXED = re.compile(r"([A-Za-z][A-Za-z0-9]{0,9}_)[A-Za-z0-9]{3,}")
_SAYS_PREFIX = re.compile(
    r"(?:prefix(?:ed)?|starts? with|begins? with)\s+(?:with\s+|by\s+)?[`'\"]?"
    r"([A-Za-z][A-Za-z0-9]{0,9}_)",
    re.IGNORECASE,
)


def shown_id_prefix(examples: list[Any], description: str) -> str | None:
    """The prefix the spec's examples of an identifier share (``cus_`` of ``cus_NffrFeU``),
    or the one its description names ("prefixed with `ch_`"), for ids made fresh."""
    found = {m.group(1) for e in examples if isinstance(e, str) and (m := _PREFIXED.fullmatch(e))}
    if len(found) == 1 and all(isinstance(e, str) for e in examples):
        return found.pop()
    said = (
        _SAYS_PREFIX.search(description)
        if "refix" in description or "with" in description
        else None
    )
    return said.group(1) if said else None


def _infer_types(flat: Mapping[str, Any]) -> tuple[str, ...]:
    """Types implied by keywords when a schema has no `type`."""
    found = []
    for name, keys in (
        ("object", _OBJECT_KEYS),
        ("array", _ARRAY_KEYS),
        ("string", _STRING_KEYS),
        ("number", _NUMBER_KEYS),
    ):
        if any(k in flat for k in keys):
            found.append(name)
    if not found and flat.get("format") in _FORMAT_INT_BOUNDS:
        found.append("integer")
    elif not found and flat.get("format") in ("float", "double"):
        found.append("number")
    elif not found and flat.get("format"):
        found.append("string")
    return tuple(found)


class Ctx:
    """Per-value state: rng, mode, depth, property name, the object's realism scope, and
    `fresh` (skip spec examples/defaults below here, so list items differ)."""

    __slots__ = ("depth", "fresh", "mode", "name", "real", "rng", "scope")

    def __init__(
        self,
        rng: random.Random,
        mode: Mode,
        real: Realism,
        depth: int,
        name: str | None,
        scope: Scope,
        fresh: bool = False,
    ) -> None:
        self.rng, self.mode, self.real, self.depth = rng, mode, real, depth
        self.name, self.scope, self.fresh = name, scope, fresh

    def child(self, name: str | None, scope: Scope, fresh: bool = False) -> Ctx:
        return Ctx(self.rng, self.mode, self.real, self.depth + 1, name, scope, fresh or self.fresh)
