"""What a resource's item schema says about its fields, and fitting objects to schemas.

Making a record and presenting one ask the same questions of the item schema: which fields
the server sets (the id, ``readOnly`` fields, timestamps), which are never shown
(``writeOnly``), which have defaults, whether the schema is plain enough to cut down.
``Shapes.of`` answers them once per resource (the spec is read on first use, never per
request); ``Shapes.fit`` keeps what of an object matches a schema and generates the rest, so
stored records stay valid and a record shown through another schema fits it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sandbox.resources.inference import Resource
from sandbox.spec.model import Spec
from sandbox.spec.schemas import SchemaChecks, merged
from sandbox.spec.words import norm

TIMESTAMPS = {"createdat", "created", "creationdate", "updatedat", "updated", "modifiedat"}
UPDATED = {"updatedat", "updated", "modifiedat"}
_COMPLETE_DEPTH = 4  # how deep a sent object is completed field by field


# keywords of an object schema that a cut-down copy (some properties left out) generates
# like the original; anything else (allOf, oneOf, minProperties, ...) is generated whole
_PLAIN_KEYS = {
    "type", "properties", "required", "additionalProperties", "description", "title",
    "example", "examples", "readOnly", "writeOnly", "nullable", "xml", "externalDocs",
    "deprecated",
}  # fmt: skip


@dataclass(frozen=True)
class ItemShape:
    plain: bool  # a plain object schema (see _create_schema)
    properties: dict[str, Any]  # name -> schema, $ref followed
    server: frozenset[str]  # the id, readOnly fields and timestamps: the server sets these
    kept_on_create: frozenset[str]  # server fields and required ones
    hidden: frozenset[str]  # writeOnly: never shown
    defaults: list[tuple[str, Any]]
    stamps: list[tuple[str, Any, bool]]  # timestamp fields: (name, schema, is "updated")
    by_norm: dict[str, str]  # a field's name by meaning (norm) -> its name


def is_number(text: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true and ``int("²")`` fails."""
    return text.isascii() and text.isdigit()


class Shapes:
    """What an item schema says about its fields, and fitting objects to a schema."""

    def __init__(self, spec: Spec, faker: Any, checks: SchemaChecks) -> None:
        self.spec = spec
        self.faker = faker
        self.checks = checks
        # read from the spec on first use, never per request
        self._shapes: dict[str, tuple[Resource, Any, ItemShape]] = {}

    def of(self, resource: Resource) -> ItemShape:
        """What the item schema says about each field, read once per resource."""
        cached = self._shapes.get(resource.name)
        if cached is not None and cached[0] is resource and cached[1] is resource.item_schema:
            return cached[2]
        schema = resource.item_schema or {}
        properties = {
            name: self.spec.deref(prop) for name, prop in (schema.get("properties") or {}).items()
        }
        # a key made of several fields or held in an object is the client's to choose
        server = set() if resource.key_parts else {resource.id_field}
        hidden, defaults, stamps = set(), [], []
        for name, prop in properties.items():
            key = norm(name)
            if (isinstance(prop, dict) and prop.get("readOnly")) or key in TIMESTAMPS:
                server.add(name)
            if isinstance(prop, dict) and prop.get("writeOnly"):
                hidden.add(name)
            if isinstance(prop, dict) and "default" in prop:
                defaults.append((name, prop["default"]))
            if key in TIMESTAMPS and isinstance(prop, dict):
                stamps.append((name, prop, key in UPDATED))
        shape = ItemShape(
            plain=isinstance(schema, dict)
            and set(schema) <= _PLAIN_KEYS | {k for k in schema if k.startswith("x-")}
            and schema.get("type", "object") == "object"
            and isinstance(schema.get("properties"), dict),
            properties=properties,
            server=frozenset(server),
            kept_on_create=frozenset(server | set(schema.get("required") or [])),
            hidden=frozenset(hidden),
            defaults=defaults,
            stamps=stamps,
            by_norm={norm(name): name for name in properties},
        )
        self._shapes[resource.name] = (resource, resource.item_schema, shape)
        return shape

    def fit(self, schema: Any, obj: Any, rng: random.Random, depth: int = 0) -> Any:
        """``obj`` if it matches ``schema``, else a generated object with as many of its
        fields as still match; a field that is an object missing what its schema requires
        is completed rather than dropped (Stripe's ``recurring[interval]=month`` alone)."""
        if self.checks.is_valid(schema, obj):
            return obj
        fixed = self.faker.generate(schema, rng=rng, mode="response", fresh=True)
        if not isinstance(fixed, dict) or not isinstance(obj, dict):
            return fixed
        properties = (merged(self.spec.deref, schema) or {}).get("properties") or {}
        for name, value in obj.items():
            trial = {**fixed, name: value}
            if not self.checks.is_valid(schema, trial) and isinstance(value, dict):
                if name not in properties or depth >= _COMPLETE_DEPTH:
                    continue
                trial = {**fixed, name: self._completed(properties[name], value, rng, depth + 1)}
            if self.checks.is_valid(schema, trial):
                fixed = trial
        return fixed

    def _completed(self, schema: Any, value: dict[str, Any], rng: random.Random, depth: int) -> Any:
        """``value`` with what ``schema`` (or one of its ``anyOf``/``oneOf`` branches)
        requires filled in, keeping every field of it that fits; None if none fits."""
        shape = merged(self.spec.deref, schema) or {}
        for branch in shape.get("anyOf") or shape.get("oneOf") or [schema]:
            made = self.fit(branch, value, rng, depth)
            if isinstance(made, dict) and self.checks.is_valid(schema, made):
                return made
        return None
