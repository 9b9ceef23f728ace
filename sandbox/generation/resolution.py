"""Resolution: from a schema in the spec to the compiled node generation works on. A schema's own
keywords, its `$ref` target and its `allOf` members are its parts; merging.py flattens them into
a `Node`, and an object node gets a `Plan` of its properties. Values are checked with an OpenAPI
validator whose root document holds every `$ref` target the schema reaches. Nodes and validators
are cached by object identity, so the same (pre-bundled) spec objects must be passed each
time."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from openapi_schema_validator import OAS30Validator, OAS31Validator

from sandbox.generation.merging import and_schemas, merge_parts
from sandbox.generation.names import clients_read
from sandbox.generation.nodes import Mode, Node, Plan, Prop
from sandbox.generation.numeric import INF
from sandbox.spec.discriminators import guarded

_CACHE_LIMIT = 50_000


class Resolver:
    """Parts, compiled nodes, object plans and validators of the spec's schemas (cached), and
    which properties a mode leaves out."""

    def __init__(self, resolve: Callable[[str], Any], v30: bool) -> None:
        self._resolve = resolve
        self.v30 = v30
        self._nodes: dict[int, tuple[Any, Node]] = {}
        self._validators: dict[int, tuple[Any, Any]] = {}

    def node(self, schema: Any) -> Node:
        entry = self._nodes.get(id(schema))
        if entry is not None and entry[0] is schema:
            return entry[1]
        if len(self._nodes) > _CACHE_LIMIT:
            self._nodes.clear()
        node = self._build(schema)
        self._nodes[id(schema)] = (schema, node)
        return node

    def _build(self, schema: Any) -> Node:
        parts = self.parts(schema, frozenset())
        node = Node(schema, parts, merge_parts(parts, self.v30))
        if schema is False or any("_false" in p for p in parts):
            node.types = frozenset()
        disc = node.flat.get("_disc")
        ref = schema.get("$ref") if isinstance(schema, Mapping) else None
        if disc and isinstance(ref, str):
            key = disc_key(ref, disc)
            if key is not None:
                node.soft = (disc["propertyName"], key)
        return node

    def parts(self, schema: Any, seen: frozenset[int]) -> list[Mapping[str, Any]]:
        """The schema objects that must all hold: itself, its `$ref` target and `allOf`."""
        if schema is True or schema is None:
            return []
        if schema is False:
            return [{"_false": True}]
        if id(schema) in seen:
            return []
        seen = seen | {id(schema)}
        ref = schema.get("$ref")
        if "$ref" not in schema and "allOf" not in schema:
            return [schema]
        parts: list[Mapping[str, Any]] = [
            {k: v for k, v in schema.items() if k not in ("$ref", "allOf")}
        ]
        if isinstance(ref, str):
            parts += self.parts(self._resolve(ref), seen)
        for member in schema.get("allOf") or ():
            parts += self.parts(member, seen)
        return parts

    def validator(self, schema: Any) -> Any:
        entry = self._validators.get(id(schema))
        if entry is None or entry[0] is not schema:
            cls = OAS30Validator if self.v30 else OAS31Validator
            entry = (
                schema,
                guarded(cls)(self._ref_root(schema), format_checker=cls.FORMAT_CHECKER),
            )
            self._validators[id(schema)] = entry
        return entry[1]

    def valid(self, schema: Any, value: Any) -> bool:
        return bool(self.validator(schema).is_valid(value))

    def _try_resolve(self, ref: str) -> Any:
        try:
            return self._resolve(ref)
        except (KeyError, LookupError, ValueError, TypeError):
            return None

    def _ref_root(self, schema: Any) -> dict[str, Any]:
        """A root document holding `schema` and every `$ref` target it reaches, at its pointer."""
        root: dict[str, Any] = {"allOf": [schema]}
        for ref in sorted(self._reachable_refs(schema), key=len):
            _place(root, ref, self._resolve(ref))
        root.pop("\x00ours", None)
        return root

    def _reachable_refs(self, schema: Any) -> set[str]:
        refs: set[str] = set()
        stack = [schema]
        while stack:
            item = stack.pop()
            if isinstance(item, Mapping):
                for key, value in item.items():
                    if key == "$ref" and isinstance(value, str) and value.startswith("#/"):
                        if value not in refs and (target := self._try_resolve(value)) is not None:
                            refs.add(value)
                            stack.append(target)
                    elif key == "mapping" and isinstance(value, Mapping):
                        for target_ref in value.values():
                            if (
                                isinstance(target_ref, str)
                                and target_ref.startswith("#/")
                                and target_ref not in refs
                                and (target := self._try_resolve(target_ref)) is not None
                            ):
                                refs.add(target_ref)
                                stack.append(target)
                    else:
                        stack.append(value)
            elif isinstance(item, list):
                stack.extend(item)
        return refs

    def plan(self, node: Node) -> Plan:
        if node.plan is None:
            node.plan = self._make_plan(node.flat)
        return node.plan

    def _make_plan(self, flat: Mapping[str, Any]) -> Plan:
        plan = Plan()
        props = flat.get("properties") or {}
        required = list(flat.get("required") or ())
        plan.patterns = dict(flat.get("patternProperties") or {})
        plan.extra = flat.get("additionalProperties", True)
        plan.names = flat.get("propertyNames")
        plan.low, plan.high = flat.get("minProperties", 0), flat.get("maxProperties", INF)
        plan.deps = dict(flat.get("dependentRequired") or {})
        for name in [*props, *(r for r in required if r not in props)]:
            schema = props[name] if name in props else self.extra_schema(plan, name)
            hits = [s for p, s in plan.patterns.items() if re.search(p, name)]
            if hits:
                schema = and_schemas([schema, *hits])
            child = self.node(schema) if schema is not False else None
            prop = Prop(
                name, schema, name in required, bool(child and child.ro), bool(child and child.wo),
                read=clients_read(name, child.fmt if child else None),
            )  # fmt: skip
            plan.props.append(prop)
            plan.byname[name] = prop
        return plan

    def extra_schema(self, plan: Plan, name: str) -> Any:
        """The schema an undeclared key must satisfy (pattern matches, else additional)."""
        hits = [s for p, s in plan.patterns.items() if re.search(p, name)]
        if hits:
            return and_schemas(hits)
        return {} if plan.extra is True else plan.extra

    def blocked(self, prop: Prop, mode: Mode) -> bool:
        """readOnly stays out of requests, writeOnly out of responses.

        3.0 says a required readOnly/writeOnly property is required only where it may appear;
        3.1 (plain JSON Schema) keeps `required` absolute, so required ones stay.
        """
        flag = prop.wo if mode == "response" else prop.ro
        return flag and (self.v30 or not prop.required)


def ref_of(schema: Any) -> str | None:
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    return ref if isinstance(ref, str) else None


def disc_key(ref: str | None, disc: Mapping[str, Any]) -> str | None:
    """The discriminator value that makes a validator pick `ref` (mapping key or schema name)."""
    if ref is None:
        return None
    mapping = disc.get("mapping") or {}
    for key, target in mapping.items():
        if target == ref:
            return str(key)
    prefix = "#/components/schemas/"
    if ref.startswith(prefix):
        name = ref[len(prefix) :]
        if "/" not in name and name not in mapping:
            return name
    return None


def _place(root: dict[str, Any], ref: str, target: Any) -> None:
    """Put `target` into `root` at the JSON pointer of `ref`, creating only our own dicts."""
    tokens = [unquote(t).replace("~1", "/").replace("~0", "~") for t in ref[2:].split("/")]
    current: Any = root
    ours = True  # never add keys inside the spec's own objects
    for token in tokens[:-1]:
        if isinstance(current, list):
            current, ours = current[int(token)], False
        elif token in current:
            current, ours = current[token], ours and token != "allOf" and _is_ours(current[token])
        elif ours:
            current[token] = current = {"\x00ours": True}
        else:
            return
    if ours and isinstance(current, dict) and tokens[-1] not in current:
        current[tokens[-1]] = target


def _is_ours(value: Any) -> bool:
    return isinstance(value, dict) and "\x00ours" in value
