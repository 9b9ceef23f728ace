"""Request parameters read the way OpenAPI's ``style`` and ``explode`` say, then typed.

openapi-core reads only some of the combinations (an exploded ``form`` object such as
``?offset=1&limit=123`` for ``pagination {offset, limit}`` is "missing", ``spaceDelimited``
splits on a literal ``%20``, ``label`` and ``matrix`` path values are never found), so every
parameter is read here, for all four locations and all seven styles, and handed to
validation as the value the schema describes:

=================  ==========================  =================================
style              explode: false              explode: true
=================  ==========================  =================================
form (query,       ``id=3,4`` / ``p=a,1,b,2``  ``id=3&id=4`` / ``a=1&b=2``
cookie)
spaceDelimited     ``id=3 4`` / ``p=a 1 b 2``  ``id=3&id=4``
pipeDelimited      ``id=3|4`` / ``p=a|1|b|2``  ``id=3&id=4``
deepObject         (none)                      ``p[a]=1&p[b]=2`` (nested too)
simple (path,      ``3,4`` / ``a,1,b,2``       ``3,4`` / ``a=1,b=2``
header)
label (path)       ``.3,4`` / ``.a,1,b,2``     ``.3.4`` / ``.a=1.b=2``
matrix (path)      ``;id=3,4`` / ``;p=a,1,b,2``  ``;id=3;id=4`` / ``;a=1;b=2``
=================  ==========================  =================================

Text is then typed by the schema (``"1"`` is 1 under ``type: integer``); text that does not
fit stays text, for the schema check to report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.errors import JSONError
from sandbox.jsonio import loads
from sandbox.spec.model import Parameter, is_json_media

MISSING: Any = object()  # the request does not carry the parameter
_DEFAULT_STYLES = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}
_DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|", "form": ","}
_INTEGER = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


@dataclass(frozen=True)
class Reading:
    """How to read one declared parameter from a request."""

    name: str
    location: str
    style: str
    explode: bool
    shape: str  # "array", "object" or "scalar": what the text is split into
    schema: dict[str, Any]  # its references followed, for typing the text
    media_type: str | None  # a parameter declared with ``content`` instead of a schema
    others: frozenset[str]  # the other query parameters' names: not fields of an object

    @classmethod
    def of(
        cls, parameter: Parameter, deref: Callable[[Any], Any], others: frozenset[str]
    ) -> Reading:
        raw = parameter.raw
        style = str(raw.get("style") or _DEFAULT_STYLES.get(parameter.location, "form"))
        content = raw.get("content")
        media = next(iter(content), None) if isinstance(content, dict) and content else None
        schema = deref(parameter.schema)
        schema = schema if isinstance(schema, dict) else {}
        return cls(
            name=parameter.name,
            location=parameter.location,
            style=style,
            explode=bool(raw.get("explode", style == "form")),
            shape=_shape(schema, deref),
            schema=schema,
            media_type=media,
            others=others - {parameter.name},
        )


def read(
    reading: Reading,
    query: Any,
    path: Mapping[str, str],
    headers: Any,
    cookies: Any,
    deref: Callable[[Any], Any],
) -> Any:
    """The parameter's value, typed by its schema; MISSING when the request has none.
    Raises ValueError (its message for the client) for text that cannot be read at all."""
    if reading.location == "query":
        text = _from_pairs(reading, query)
    elif reading.location == "cookie":
        text = _from_pairs(reading, cookies)
    elif reading.location == "path":
        text = _from_path(reading, path.get(reading.name))
    else:
        value = headers.get(reading.name)
        text = MISSING if value is None else _split_simple(reading, value)
    if text is MISSING:
        return MISSING
    if reading.media_type is not None:
        return _from_content(reading, text)
    return typed(text, reading.schema, deref)


def _from_pairs(reading: Reading, pairs: Any) -> Any:
    """Query and cookie parameters (``form``, the delimited styles, ``deepObject``)."""
    name, shape = reading.name, reading.shape
    if reading.media_type is not None or shape == "scalar":
        values = pairs.getlist(name) if hasattr(pairs, "getlist") else [pairs.get(name)]
        values = [v for v in values if v is not None]
        return values[0] if values else MISSING
    if reading.style == "deepObject":
        return _deep_object(name, pairs)
    if shape == "object" and reading.explode:  # ?offset=1&limit=2: the fields, side by side
        fields = _object_fields(reading.schema)
        found = {
            key: pairs.get(key)
            for key in pairs
            if key not in reading.others and (fields is None or key in fields)
        }
        return found or MISSING
    values = pairs.getlist(name) if hasattr(pairs, "getlist") else [pairs[name]]
    if name not in pairs:
        return MISSING
    if shape == "array" and reading.explode:
        return list(values)
    separator = _DELIMITERS.get(reading.style, ",")
    parts = values[0].split(separator) if values[0] != "" else []
    return parts if shape == "array" else _pairs(parts)


def _from_path(reading: Reading, value: str | None) -> Any:
    if value is None:
        return MISSING
    if reading.style == "label":
        if not value.startswith("."):
            raise ValueError("a label-style value starts with '.'")
        return _split(reading, value[1:], "." if reading.explode else ",")
    if reading.style == "matrix":
        return _matrix(reading, value)
    return _split_simple(reading, value)


def _split_simple(reading: Reading, value: str) -> Any:
    return _split(reading, value, ",")


def _split(reading: Reading, value: str, separator: str) -> Any:
    """A value in one piece of text: scalars as they are, arrays split, objects as
    ``k,v,k,v`` or, exploded, ``k=v`` pairs."""
    if reading.shape == "scalar" or reading.media_type is not None:
        return value
    parts = value.split(separator) if value != "" else []
    if reading.shape == "array":
        return parts
    if reading.explode:
        return dict(part.partition("=")[::2] for part in parts)
    return _pairs(parts)


def _matrix(reading: Reading, value: str) -> Any:
    if not value.startswith(";"):
        raise ValueError("a matrix-style value starts with ';'")
    pieces = [piece.partition("=") for piece in value[1:].split(";")]
    if reading.shape == "object" and reading.explode:
        return {key: text for key, _, text in pieces}
    mine = [text for key, _, text in pieces if key == reading.name]
    if not mine:
        raise ValueError(f"a matrix-style value names the parameter: ;{reading.name}=...")
    if reading.shape == "array" and reading.explode:
        return mine
    return _split(reading, mine[0], ",")


def _pairs(parts: list[str]) -> dict[str, str]:
    if len(parts) % 2:
        raise ValueError("an object is written as name,value pairs")
    return dict(zip(parts[::2], parts[1::2], strict=True))


def _deep_object(name: str, pairs: Any) -> Any:
    """``p[a]=1&p[b][c]=2`` -> ``{"a": "1", "b": {"c": "2"}}``."""
    found: dict[str, Any] = {}
    prefix = name + "["
    for key in pairs:
        if not (key.startswith(prefix) and key.endswith("]")):
            continue
        path = key[len(prefix) : -1].split("][")
        node = found
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"{key} mixes a value and fields")
            node = child
        node[path[-1]] = pairs.get(key)
    return found or MISSING


def _from_content(reading: Reading, text: Any) -> Any:
    if reading.media_type is not None and is_json_media(reading.media_type):
        try:
            return loads(text)
        except JSONError as exc:
            raise ValueError(f"not JSON ({exc.msg})") from None
    return text


def typed(value: Any, schema: Any, deref: Callable[[Any], Any]) -> Any:
    """Text typed as the schema says, recursively; what does not fit stays as it is."""
    schema = deref(schema)
    if not isinstance(schema, dict):
        return value
    if isinstance(value, list):
        items = schema.get("items")
        return [typed(item, items, deref) for item in value]
    if isinstance(value, dict):
        declared = schema.get("properties")
        properties: dict[str, Any] = declared if isinstance(declared, dict) else {}
        extra = schema.get("additionalProperties")
        fallback = extra if isinstance(extra, dict) else None
        return {
            key: typed(item, properties.get(key, fallback), deref) for key, item in value.items()
        }
    if not isinstance(value, str):
        return value
    kinds = _kinds(schema, deref)
    if "string" in kinds or not kinds:
        return value
    if "integer" in kinds and _INTEGER.fullmatch(value):
        return int(value)
    if "number" in kinds and _NUMBER.fullmatch(value):
        return float(value) if not _INTEGER.fullmatch(value) else int(value)
    if "boolean" in kinds and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if "null" in kinds and value in ("", "null"):
        return None
    return value


def _kinds(schema: dict[str, Any], deref: Callable[[Any], Any]) -> set[str]:
    """The JSON types a schema admits, through ``allOf``/``anyOf``/``oneOf`` branches."""
    kind = schema.get("type")
    kinds = {kind} if isinstance(kind, str) else {k for k in kind or [] if isinstance(k, str)}
    if schema.get("nullable") is True:
        kinds.add("null")
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword) or []:
            branch = deref(branch)
            if isinstance(branch, dict):
                kinds |= _kinds(branch, deref)
    return kinds


def _shape(schema: dict[str, Any], deref: Callable[[Any], Any]) -> str:
    kinds = _kinds(schema, deref) - {"null"}
    if kinds == {"array"} or (not kinds and "items" in schema):
        return "array"
    if kinds == {"object"} or (not kinds and "properties" in schema):
        return "object"
    return "scalar"


def _object_fields(schema: dict[str, Any]) -> set[str] | None:
    """The query keys an exploded object takes: its declared fields, or (free-form, or with
    ``additionalProperties``) every key no other parameter claims (None)."""
    properties = schema.get("properties")
    extra = schema.get("additionalProperties", False)
    if isinstance(properties, dict) and properties and extra is False:
        return set(properties)
    return None
