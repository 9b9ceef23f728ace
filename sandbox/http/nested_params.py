"""Bracketed keys, in query strings and form bodies, read as the JSON the schema describes.

SDKs flatten nested values into keys: ``billing[address][line1]=…``, ``items[0][price]=p``,
``types[0]=zengin``, ``expand[]=a``, ``metadata[key]=v`` (Stripe's, Rails' and PHP's form
encoders all do). OpenAPI names this ``style: deepObject``, but openapi-core reads it only
for an exploded object of scalars: for an array (``expand``), an ``anyOf`` of object or
integer (``created``) or the ``encoding`` of a form body it fails, even when the client sent
nothing for that parameter. This layer, in front of openapi-core, turns the keys into the
value: objects by name, arrays by index (``[0]``, in index order) or by append (``[]``),
any depth; each leaf string coerced by the schema at its place (an integer where only an
integer or ``""`` fits, ``true`` for a boolean), and ``anyOf``/``oneOf`` branches chosen by
the shape of the next key. Validation then checks that value against the schema as it is.

What it owns: query parameters declared ``style: deepObject`` and query keys with brackets
whose base is a declared query parameter; form bodies (urlencoded or multipart) with a
bracketed key or a ``deepObject`` encoding. Everything else is left to the validator as it
was. An owned parameter that is absent is simply absent (an error only when required).

Cost: nothing on the compiled fast path (it is consulted only where openapi-core decides).
There, an operation with no deepObject parameter and a query without ``[`` pays one scan of
the query's keys: 0.3 µs for three keys (``NestedParameters.owned``, timeit, one core). A
Stripe customer body of 12 keys, nested three deep, is read in about 90 µs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from sandbox.jsonio import loads

_KEY = re.compile(r"\[([^\[\]]*)\]")
_INTEGER = re.compile(r"^-?\d+$")
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array"}
_JSON_TYPES[type(None)] = "null"

Deref = Callable[[Any], Any]


def split_key(key: str) -> tuple[str, list[str]] | None:
    """``a[b][0][]`` -> ``("a", ["b", "0", ""])``; None for a key that is not bracketed
    all the way (``a[b``, ``a[b]c``)."""
    base, bracket, rest = key.partition("[")
    if not bracket or not base:
        return None
    rest = "[" + rest
    tokens = _KEY.findall(rest)
    if "".join(f"[{t}]" for t in tokens) != rest:
        return None
    return base, tokens


def nest(pairs: Iterable[tuple[str, Any]], schema: Any, deref: Deref) -> dict[str, Any]:
    """The object that ``name[sub]…=value`` pairs stand for, read by ``schema`` (an object
    schema, or None when nothing is known). Plain keys are top-level fields; a field given
    several times is an array where the schema says so, else its last value."""
    tree: dict[str, Any] = {}
    for key, value in pairs:
        parsed = split_key(key)
        base, tokens = parsed if parsed is not None else (key, [])
        _place(tree, [base, *tokens], value)
    return _object(tree, deref(schema), deref)


class _Many(list[Any]):
    """The values of a key given more than once (``expand=a&expand=b``)."""


def _place(tree: dict[str, Any], tokens: list[str], value: Any) -> None:
    node = tree
    for depth, token in enumerate(tokens):
        last = depth == len(tokens) - 1
        if token == "":  # append: a fresh slot per value
            token = f"\0{len(node)}"
        if last:
            held = node.get(token)
            if isinstance(held, _Many):
                held.append(value)
            elif token in node and not isinstance(held, dict):
                node[token] = _Many([held, value])
            else:
                node[token] = value
            return
        child = node.get(token)
        if not isinstance(child, dict):
            child = node[token] = {}
        node = child


def _build(tree: dict[str, Any], schema: Any, deref: Deref) -> Any:
    """A node of the tree as the schema reads it: an array when its keys are indexes or
    appends and an array fits, else an object."""
    indexed = all(k.isdigit() or k.startswith("\0") for k in tree)
    array = _branch(schema, "array", deref) if indexed else None
    if array is not None or (indexed and tree and _branch(schema, "object", deref) is None):
        items = deref((array or {}).get("items"))
        ordered = sorted(tree.items(), key=lambda kv: _order(kv[0]))
        return [_value(value, items, deref) for _, value in ordered]
    return _object(tree, schema, deref)


def _object(tree: dict[str, Any], schema: Any, deref: Deref) -> dict[str, Any]:
    shape = _branch(schema, "object", deref) or {}
    properties = shape.get("properties") or {}
    extra = shape.get("additionalProperties")
    out: dict[str, Any] = {}
    for name, value in tree.items():
        prop = properties.get(name, extra if isinstance(extra, dict) else None)
        out[name] = _value(value, deref(prop), deref)
    for name in shape.get("required") or []:  # sent as {} or [], which a form cannot spell
        if isinstance(name, str) and name not in out:
            empty = unspelled(deref(properties.get(name)), deref)
            if empty is not None:
                out[name] = empty
    return out


def unspelled(schema: Any, deref: Deref) -> dict[str, Any] | list[Any] | None:
    """The empty object or array the schema accepts, if it accepts one. A form has no
    spelling for either: encoders write nothing (Stripe's, Schemathesis's ``deepObject``)
    or ``key=`` (Schemathesis's nested keys), so a required one absent, or an empty text
    where no string fits, is that empty value, not a missing field."""
    shape = _branch(schema, "object", deref)
    if shape is not None and not shape.get("required") and not shape.get("minProperties"):
        return {}
    array = _branch(schema, "array", deref)
    if array is not None and not array.get("minItems"):
        return []
    return None


def _order(token: str) -> tuple[int, int]:
    return (1, int(token[1:])) if token.startswith("\0") else (0, int(token))


def _value(value: Any, schema: Any, deref: Deref) -> Any:
    if isinstance(value, dict):
        return _build(value, schema, deref)
    if isinstance(value, _Many):
        array = _branch(schema, "array", deref)
        if array is not None:
            items = deref(array.get("items"))
            return [coerce(v, items, deref) for v in value]
        return coerce(value[-1], schema, deref)
    if value == "" and "string" not in kinds(schema, deref):
        empty = unspelled(schema, deref)
        if empty is not None:
            return empty
        if _branch(schema, "array", deref) is None and _branch(schema, "object", deref):
            return {}  # an object is spelled by its keys alone: no text is one
    array = _branch(schema, "array", deref) if isinstance(value, str) else None
    if array is not None and not (value == "" and "string" in kinds(schema, deref)):
        return [coerce(value, deref(array.get("items")), deref)]
    return coerce(value, schema, deref)


def _branch(schema: Any, kind: str, deref: Deref) -> dict[str, Any] | None:
    """The (sub)schema of ``kind`` ("object" or "array"), looking into anyOf/oneOf/allOf."""
    if not isinstance(schema, dict):
        return None
    declared = schema.get("type")
    declared_kinds = declared if isinstance(declared, list) else [declared]
    if kind in declared_kinds:
        return schema
    if declared is None:
        if kind == "object" and ("properties" in schema or "additionalProperties" in schema):
            return schema
        if kind == "array" and "items" in schema:
            return schema
    for keyword in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(keyword) or []:
            found = _branch(deref(sub), kind, deref)
            if found is not None:
                return found
    return None


def kinds(schema: Any, deref: Deref) -> set[str]:
    """The JSON types a schema admits, through anyOf/oneOf/allOf; empty for any."""
    if not isinstance(schema, dict):
        return set()
    declared = schema.get("type")
    found = set(declared) if isinstance(declared, list) else {declared} if declared else set()
    if not declared:  # ``enum: [""]`` alone admits a string
        listed = [*(schema.get("enum") or []), *([schema["const"]] if "const" in schema else [])]
        found |= {_JSON_TYPES.get(type(value), "object") for value in listed}
    for keyword in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(keyword) or []:
            found |= kinds(deref(sub), deref)
    if schema.get("nullable") is True:
        found.add("null")
    return found


def coerce(text: Any, schema: Any, deref: Deref) -> Any:
    """A form or query string as the schema types it; a typed reading wins over a string
    where both fit (``anyOf: [integer, enum [""]]``), unless it is not well formed."""
    if not isinstance(text, str):
        return text  # a file part, already read
    allowed = kinds(schema, deref)
    if "integer" in allowed and _INTEGER.match(text):
        return int(text)
    if "number" in allowed and _NUMBER.match(text):
        return float(text) if not _INTEGER.match(text) else int(text)
    if "boolean" in allowed and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "null" in allowed and text == "null" and "string" not in allowed:
        return None
    if allowed & {"object", "array"} and "string" not in allowed and text[:1] in ("{", "["):
        try:  # a multipart part sent as JSON (OpenAPI's default for an object or array)
            return loads(text)
        except ValueError:
            pass
    return text


class NestedParameters:
    """What one operation's parameters and form bodies need of this layer, worked out once."""

    def __init__(self, parameters: Iterable[Any], deref: Deref) -> None:
        self.deref = deref
        self.query: dict[str, Any] = {}  # name -> parameter, for every query parameter
        self.deep: set[str] = set()  # those declared style: deepObject
        for parameter in parameters:
            if parameter.location == "query":
                self.query[parameter.name] = parameter
                if parameter.raw.get("style") == "deepObject":
                    self.deep.add(parameter.name)

    def owned(self, keys: Iterable[str]) -> set[str]:
        """The query parameters this layer reads for a query with these keys: every
        deepObject one, and every declared one given with brackets."""
        if not self.query:
            return set()
        owned = set(self.deep)
        for key in keys:
            if "[" in key:
                base = key.partition("[")[0]
                if base in self.query:
                    owned.add(base)
        return owned

    def query_values(self, pairs: Iterable[tuple[str, str]], owned: set[str]) -> dict[str, Any]:
        """The values of the owned parameters that were sent (absent ones are left out)."""
        mine = [(k, v) for k, v in pairs if k.partition("[")[0] in owned]
        if not mine:
            return {}
        schema = {
            "type": "object",
            "properties": {name: self.query[name].schema for name in owned},
        }
        return nest(mine, schema, self.deref)


def owns_form(media: dict[str, Any], keys: Iterable[str]) -> bool:
    """Whether a form body is this layer's: a bracketed key, or a deepObject encoding."""
    if any("[" in key for key in keys):
        return True
    encoding = media.get("encoding") or {}
    return any(
        isinstance(each, dict) and each.get("style") == "deepObject" for each in encoding.values()
    )


def is_form(mimetype: str | None) -> bool:
    return mimetype in _FORMS
