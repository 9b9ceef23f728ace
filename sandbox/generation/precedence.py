"""The values a spec offers for a schema, the first rungs of the precedence x-faker > example >
default > enum/const (composition and type come after): an `x-faker` hint calls the Faker
provider it names, examples lose the properties their mode forbids, and each is used only when
it validates against the schema, found once per node and kept on it."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from sandbox.generation.formats import render
from sandbox.generation.jsonvalues import json_type, jsonable
from sandbox.generation.nodes import MISS, Ctx, Mode, Node
from sandbox.generation.resolution import Resolver


class SpecValues:
    """x-faker hints, examples, defaults and enums, where they validate."""

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver

    def xfaker(self, node: Node, ctx: Ctx) -> Any:
        """Call the Faker provider an `x-faker` hint names; use it only if it validates."""
        hint = node.xfaker
        method, args, kwargs = _parse_hint(hint)
        provider = getattr(ctx.real.gen, method, None)
        if provider is None:
            return MISS
        try:
            value = _coerce(provider(*args, **kwargs), node)
        except Exception:
            return MISS
        return value if self._resolver.valid(node.src, value) else MISS

    def valid_examples(self, node: Node, mode: Mode) -> list[Any]:
        found = node.valid_examples.get(mode)
        if found is None:
            stripped = (self._strip(ex, node, mode) for ex in node.examples)
            found = node.valid_examples[mode] = [
                ex for ex in stripped if self._resolver.valid(node.src, ex)
            ]
        return found

    def default_ok(self, node: Node) -> bool:
        if node.default_ok is None:
            node.default_ok = self._resolver.valid(node.src, node.default)
        return node.default_ok

    def valid_enum(self, node: Node) -> list[Any]:
        if node.valid_enum is None:
            node.valid_enum = [v for v in node.enum or () if self._resolver.valid(node.src, v)]
        return node.valid_enum

    def _strip(self, value: Any, node: Node, mode: Mode) -> Any:
        """Drop properties an example may not carry in this mode (readOnly in requests...)."""
        if isinstance(value, dict) and node.is_object:
            plan = self._resolver.plan(node)
            out = {}
            for key, item in value.items():
                prop = plan.byname.get(key)
                if prop is not None and self._resolver.blocked(prop, mode):
                    continue
                if prop is not None and isinstance(prop.schema, Mapping):
                    item = self._strip(item, self._resolver.node(prop.schema), mode)
                out[key] = item
            return out
        if isinstance(value, list) and isinstance(node.items, Mapping):
            child = self._resolver.node(node.items)
            return [self._strip(v, child, mode) for v in value]
        return value


def _parse_hint(hint: Any) -> tuple[str, list[Any], dict[str, Any]]:
    """`x-faker: company`, `x-faker: internet.email` or `{method: pyint, args: {...}}`."""
    if isinstance(hint, Mapping):
        method = str(hint.get("method", ""))
        args = hint.get("args", hint.get("kwargs", {}))
        positional = list(args) if isinstance(args, list) else []
        keywords = dict(args) if isinstance(args, Mapping) else {}
    else:
        method, positional, keywords = str(hint), [], {}
    method = method.rsplit(".", 1)[-1]
    method = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", method).lower()
    return method, positional, keywords


def _coerce(value: Any, node: Node) -> Any:
    """A Faker result as the JSON type the schema wants."""
    value = jsonable(value)
    if isinstance(value, (set, frozenset)):
        value = list(value)
    if isinstance(value, bytes):
        value = base64.b64encode(value).decode()
    types = node.types or frozenset(node.inferred)
    if "string" in types and not isinstance(value, str) and json_type(value) not in types:
        return render(value, node.fmt)
    if "integer" in types and isinstance(value, float) and value.is_integer():
        return int(value)
    return value
