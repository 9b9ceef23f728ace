"""Making records (from a client's body or from nothing) and writing them to the store."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox.errors import ApiError, Conflict
from sandbox.resources.inference import Resource
from sandbox.resources.shapes import Shapes, is_number
from sandbox.spec.model import Spec
from sandbox.spec.schemas import SchemaChecks, schema_types
from sandbox.state.protocols import Record, RecordStore


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _typed_like(example: Any, text: str) -> Any:
    return int(text) if isinstance(example, int) and is_number(text.lstrip("-")) else text


def _merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7396 JSON Merge Patch."""
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge_patch(result[key], value)
        else:
            result[key] = value
    return result


class _Records:
    """Making records and writing them to the store."""

    spec: Spec
    faker: Any
    checks: SchemaChecks
    shapes: Shapes
    store: RecordStore
    secret_fields: dict[str, tuple[str, Callable[[], str]]]
    _create_schemas: dict[tuple[Any, ...], tuple[Any, Any]]

    # -- building records ---------------------------------------------------------------
    def _new_record(self, resource: Resource, body: Any, rng: random.Random, parent: str) -> Record:
        schema = resource.item_schema or {}
        made = schema if body is None else self._create_schema(resource, body)
        obj = self.faker.generate(made, rng=rng, mode="response", fresh=True)
        if not isinstance(obj, dict):
            obj = {}
        if body is not None:  # a client's create: invent only what the server would set
            obj = self._server_side(resource, obj)
        obj.update(self._client_fields(resource, body))
        chosen = self._client_id(resource, body)
        obj[resource.id_field] = self._new_id(resource, rng) if chosen is None else chosen
        if (
            parent
            and resource.parent_param
            and resource.parent_param in (schema.get("properties") or {})
        ):
            obj[resource.parent_param] = parent
        self._touch(resource, obj, created=True)
        obj = self._valid(resource, obj, rng)
        return Record(str(obj[resource.id_field]), obj, parent, self._unique_values(resource, obj))

    def _create_schema(self, resource: Resource, body: Any) -> Any:
        """What to generate for a client's create: the item schema cut down to the fields
        the server keeps and the client did not send (the id is drawn on its own), so no
        time goes into values thrown away. Only for plain object schemas; anything with
        composition or object-wide rules is generated whole and cut afterwards."""
        schema = resource.item_schema or {}
        shape = self.shapes.of(resource)
        if not shape.plain:
            return schema
        sent = frozenset(self._client_fields(resource, body)) if isinstance(body, dict) else None
        # timestamps that _touch will set to now: no use drawing a value for them either
        now = _now_text()
        stamped = frozenset(
            name for name, prop, _ in shape.stamps if self.checks.is_valid(prop, now)
        )
        cached = self._create_schemas.get((resource.name, sent, stamped))
        if cached is not None and cached[0] is schema:
            return cached[1]
        skip = (sent or frozenset()) | {resource.id_field} | stamped
        keep = [n for n in shape.kept_on_create if n not in skip]
        properties = schema.get("properties") or {}
        cut = {k: v for k, v in schema.items() if k not in ("properties", "required")}
        cut["properties"] = {n: p for n, p in properties.items() if n in keep}
        cut["required"] = [n for n in schema.get("required") or [] if n in keep]
        if len(self._create_schemas) > 256:
            self._create_schemas.clear()
        self._create_schemas[(resource.name, sent, stamped)] = (schema, cut)
        return cut

    def _new_id(self, resource: Resource, rng: random.Random) -> Any:
        schema = self.spec.deref(resource.id_schema)
        kinds = schema_types(schema)
        if "integer" in kinds and "string" not in kinds:
            return rng.randrange(1, 2**31)
        if schema.get("pattern") or schema.get("format") == "uuid":
            return self.faker.generate(schema, rng=rng, name=resource.id_field, fresh=True)
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return (resource.id_prefix or "") + "".join(rng.choice(alphabet) for _ in range(14))

    def _server_side(self, resource: Resource, generated: dict[str, Any]) -> dict[str, Any]:
        """What a real server adds to a created object: ids, timestamps and other readOnly
        fields, declared defaults, and required fields (so the stored object stays valid).
        Optional fields the client left out stay out."""
        shape = self.shapes.of(resource)
        keep = shape.kept_on_create
        obj = {k: v for k, v in generated.items() if k in keep}
        for name, default in shape.defaults:
            if name not in obj:
                obj[name] = copy.deepcopy(default)
        return obj

    def _client_id(self, resource: Resource, body: Any) -> Any:
        """The id the client chose, where the schema lets it choose (the id is not readOnly):
        a petstore-style API takes the pet's id from the request body."""
        if not isinstance(body, dict) or resource.id_field not in body:
            return None
        value = body[resource.id_field]
        if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
            return None
        prop = self.shapes.of(resource).properties.get(resource.id_field)
        if not isinstance(prop, dict) or prop.get("readOnly"):
            return None
        return value

    def _chosen_ids(self, resource: Resource, bodies: list[Any]) -> set[str]:
        return {str(v) for v in (self._client_id(resource, b) for b in bodies) if v is not None}

    def _client_fields(self, resource: Resource, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            return {}
        server = self._server_fields(resource)
        return {k: v for k, v in body.items() if k not in server}

    def _server_fields(self, resource: Resource) -> frozenset[str]:
        return self.shapes.of(resource).server

    def _required(self, resource: Resource) -> list[str]:
        return list((resource.item_schema or {}).get("required") or [])

    def _touch(self, resource: Resource, obj: dict[str, Any], *, created: bool) -> None:
        stamps = self.shapes.of(resource).stamps
        if not stamps:
            return
        now = _now_text()
        for name, prop, updated in stamps:
            if (created or updated) and self.checks.is_valid(prop, now):
                obj[name] = now

    def _valid(self, resource: Resource, obj: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """Keep what fits the schema; regenerate what does not (stored objects stay valid).
        A record is found by its id, so the id is kept even when nothing else could be."""
        fixed = self.shapes.fit(resource.item_schema or {}, obj, rng)
        if resource.id_field in obj:
            fixed[resource.id_field] = obj[resource.id_field]
        return fixed

    def _unique_values(self, resource: Resource, obj: dict[str, Any]) -> dict[str, str]:
        return {
            name: str(obj[name]).casefold() for name in resource.unique if obj.get(name) is not None
        }

    def _insert(
        self, tenant: str, resource: Resource, records: list[Record], chosen: set[str]
    ) -> None:
        """Insert all or nothing. A taken generated id is drawn again (a seeded rng repeats ids
        for identical requests); a taken id the client chose, or a taken unique value, is a 409."""
        for _ in range(5):
            try:
                self.store.insert(tenant, resource.name, records)
                return
            except Conflict as conflict:
                if conflict.field != "id" or conflict.value in chosen:
                    raise self._conflict(resource, conflict) from None
                fresh = random.Random()  # the whole batch: a repeated request repeats them all
                for record in records:
                    if record.id in chosen:
                        continue
                    record.id = str(self._new_id(resource, fresh))
                    old = record.body[resource.id_field]
                    record.body[resource.id_field] = _typed_like(old, record.id)
        raise ApiError(503, "ID_SPACE_EXHAUSTED", "No free id was found; retry the request.")

    def _conflict(self, resource: Resource, conflict: Conflict) -> ApiError:
        return ApiError(
            409, "CONFLICT",
            f"A {resource.singular} with {conflict.field} {conflict.value!r} already exists "
            f"({conflict.existing_id}).",
            details=[{"field": conflict.field, "message": "is already taken"}],
        )  # fmt: skip
