"""Stateful behaviour for the operations bound to a resource: create, read, replace, update,
delete, list (page/limit, offset/limit, cursors; filters; sort) and bulk create.

Stored objects are complete and valid against the resource's schema when written; responses
present them through the operation's response schema (``writeOnly`` dropped, the object put
in its slot of the envelope, pagination meta filled in by meaning).
"""

from __future__ import annotations

import base64
import copy
import math
import random
import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.errors import ApiError, Conflict, StorageError
from sandbox.generation.faker import stable_rng
from sandbox.http.error_bodies import storage_unavailable
from sandbox.resources.inference import Binding, Resource, infer_resources
from sandbox.spec.model import Spec
from sandbox.spec.schemas import SchemaChecks, merged, schema_types
from sandbox.state.protocols import ListQuery, Record, RecordStore

_PAGE = {"page", "pagenumber", "pageno"}
_LIMIT = {"limit", "perpage", "pagesize", "size", "count", "maxresults"}
_OFFSET = {"offset", "skip", "start"}
_AFTER = {"startingafter", "after", "cursor", "pagetoken", "nextcursor", "continuationtoken"}
_SORT = {"sort", "sortby", "orderby", "order"}
_TIMESTAMPS = {"createdat", "created", "creationdate", "updatedat", "updated", "modifiedat"}
_UPDATED = {"updatedat", "updated", "modifiedat"}


def _root(resource: Resource) -> Resource:
    while resource.parent is not None:
        resource = resource.parent
    return resource


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


class NotStored(Exception):
    """The engine has nothing to say: answer as a stateless sandbox would."""


_MAX_OFFSET = 2**62  # SQLite integers are 64-bit


@dataclass
class Call:
    """One request as the engine needs it."""

    tenant: str
    path_params: dict[str, str]
    query: Any
    body: Any
    request_path: str
    rng: random.Random
    # The caller's write transaction: the engine's writes, and ``changed`` with the records
    # they wrote (for webhook events), run inside it. Records are made before it opens, so
    # the write lock is held for the writes only.
    transaction: Callable[[], AbstractContextManager[Any]] = nullcontext
    changed: Callable[[list[dict[str, Any]]], None] | None = None
    seeded: bool = False  # the caller has just made sure the tenant is seeded (prepare)

    def wrote(self, records: list[dict[str, Any]]) -> None:
        if self.changed is not None:
            self.changed(records)


@dataclass
class Outcome:
    value: Any
    empty: bool = False
    changed: list[dict[str, Any]] = field(default_factory=list)  # records written (events)


class ResourceEngine:
    def __init__(
        self, spec: Spec, store: RecordStore, faker: Any, checks: SchemaChecks, *,
        seed: int | None, seed_records: int,
        inferred: tuple[dict[str, Resource], dict[str, Binding]] | None = None,
        unseeded: frozenset[str] = frozenset(),
        secret_fields: Mapping[str, tuple[str, Callable[[], str]]] | None = None,
    ) -> None:  # fmt: skip
        """``unseeded``: resources that start empty (webhook subscriptions, whose seeded URLs
        would point nowhere); ``secret_fields``: resource -> (field, maker), a secret made on
        create when absent and shown only then."""
        self.spec = spec
        self.store = store
        self.faker = faker
        self.checks = checks
        self.seed = seed
        self.seed_records = seed_records
        self.resources, self.bindings = inferred or infer_resources(spec)
        self.unseeded = unseeded
        self.secret_fields = dict(secret_fields or {})
        self._list_plans: dict[str, _ListPlan] = {}
        # read from the spec on first use, never per request (see _shape_of, _answer_plan)
        self._shapes: dict[str, tuple[Resource, Any, _ItemShape]] = {}
        self._answers: dict[str, tuple[Binding, _AnswerPlan]] = {}
        self._create_schemas: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self._shown: dict[tuple[str, bool], Any] = {}

    def binding(self, operation_id: str) -> Binding | None:
        return self.bindings.get(operation_id)

    # -- dispatch -----------------------------------------------------------------------
    def prepare(self, tenant: str, binding: Binding) -> None:
        """Seed the binding's resources the first time a tenant touches them (handle does it
        too, when not done yet). One resource family at a time: a spec of a hundred
        resources (DigitalOcean's) does not make anyone's first request wait for all."""
        root = _root(binding.resource)
        self.store.ensure_seeded(tenant, lambda: self._seed_family(root), scope=root.name)

    def handle(self, binding: Binding, call: Call) -> Outcome:
        try:
            if not call.seeded:
                self.prepare(call.tenant, binding)
            handler = getattr(self, f"_{binding.action}")
            return handler(binding, call)
        except StorageError as exc:
            raise storage_unavailable(exc) from None

    def _parent(self, binding: Binding, call: Call) -> str:
        parent_id = self._parent_id(binding.resource, call)
        self._check_parent(binding, call, parent_id)
        return parent_id

    def _parent_id(self, resource: Resource, call: Call) -> str:
        if resource.parent is None or resource.parent_param is None:
            return ""
        return call.path_params.get(resource.parent_param, "")

    def _check_parent(self, binding: Binding, call: Call, parent_id: str) -> None:
        resource = binding.resource
        if resource.parent is None or resource.parent_param is None:
            return
        if self.store.get(call.tenant, resource.parent.name, parent_id) is None:
            if binding.operation.response_for(404) is None:
                raise NotStored()  # the spec promises an answer: it is generated
            raise self._not_found(resource.parent, parent_id)

    def _not_found(self, resource: Resource, record_id: str) -> ApiError:
        return ApiError(404, "NOT_FOUND", f"No {resource.singular} with id {record_id!r}.")

    def _absent(self, binding: Binding, record_id: str) -> Exception:
        """A 404, unless the operation promises no such answer: then the spec's word wins and
        the caller falls back to a generated response."""
        if binding.operation.response_for(404) is None:
            return NotStored()
        return self._not_found(binding.resource, record_id)

    def _item_id(self, binding: Binding, call: Call) -> str:
        return call.path_params.get(binding.resource.id_param or "", "")

    # -- actions ------------------------------------------------------------------------
    def _existing(self, binding: Binding, call: Call) -> tuple[str, str, dict[str, Any]]:
        """The addressed record's id, parent and body; 404 (or fallback) when absent."""
        parent = self._parent(binding, call)
        record_id = self._item_id(binding, call)
        stored = self.store.get(call.tenant, binding.resource.name, record_id, parent)
        if stored is None:
            raise self._absent(binding, record_id)
        return record_id, parent, stored

    def _read(self, binding: Binding, call: Call) -> Outcome:
        _, _, stored = self._existing(binding, call)
        return Outcome(self._envelope(binding, self._present(binding.resource, stored), call))

    def _create(self, binding: Binding, call: Call) -> Outcome:
        resource = binding.resource
        parent = self._parent_id(resource, call)
        record = self._new_record(
            resource, self._with_defaults(binding, call.body), call.rng, parent
        )
        secret = self.secret_fields.get(resource.name)
        if secret is not None and not (isinstance(call.body, dict) and call.body.get(secret[0])):
            record.body[secret[0]] = secret[1]()
        with call.transaction():
            self._check_parent(binding, call, parent)
            self._insert(call.tenant, resource, [record], self._chosen_ids(resource, [call.body]))
            call.wrote([record.body])
        # Location comes from the responder, which reads the id from the body it is given
        shown = self._present(resource, record.body, reveal=True)
        return Outcome(self._envelope(binding, shown, call), changed=[record.body])

    def _with_defaults(self, binding: Binding, body: Any) -> Any:
        """The request schema's defaults for fields the client left out (``active: true``
        on a webhook), as a server that applies its own schema would."""
        if not isinstance(body, dict):
            return body
        filled = dict(body)
        for name, default in self._answer_plan(binding).request_defaults:
            if name not in filled:
                filled[name] = copy.deepcopy(default)
        return filled

    def _bulk_create(self, binding: Binding, call: Call) -> Outcome:
        resource = binding.resource
        items = (
            (call.body or {}).get(binding.bulk_field or "", [])
            if isinstance(call.body, dict)
            else []
        )
        records = [self._new_record(resource, item, call.rng, "") for item in items]
        with call.transaction():
            self._insert(call.tenant, resource, records, self._chosen_ids(resource, items))
            call.wrote([r.body for r in records])
        presented = [self._present(resource, r.body) for r in records]
        return Outcome(
            self._envelope(binding, presented, call, total=len(presented)),
            changed=[r.body for r in records],
        )

    def _replace(self, binding: Binding, call: Call) -> Outcome:
        return self._change(binding, call, merge=False)

    def _update(self, binding: Binding, call: Call) -> Outcome:
        return self._change(binding, call, merge=True)

    def _change(self, binding: Binding, call: Call, *, merge: bool) -> Outcome:
        with call.transaction():  # read, change and write back as one
            updated = self._changed(binding, call, merge=merge)
            call.wrote([updated])
        return Outcome(
            self._envelope(binding, self._present(binding.resource, updated), call),
            changed=[updated],
        )

    def _changed(self, binding: Binding, call: Call, *, merge: bool) -> dict[str, Any]:
        resource = binding.resource
        record_id, parent, current = self._existing(binding, call)
        sent = self._client_fields(resource, call.body)
        if merge:
            updated = _merge_patch(current, sent)
        else:
            updated = {k: v for k, v in current.items() if k in self._server_fields(resource)}
            updated.update(sent)
        for name in self._required(resource):
            if name not in updated and name in current:
                updated[name] = current[name]  # a required field cannot be removed
        self._touch(resource, updated, created=False)
        updated = self._valid(resource, updated, call.rng)
        record = Record(record_id, updated, parent, self._unique_values(resource, updated))
        try:
            replaced = self.store.replace(call.tenant, resource.name, record)
        except Conflict as conflict:
            raise self._conflict(resource, conflict) from None
        if not replaced:
            raise self._not_found(resource, record_id)
        return updated

    def _delete(self, binding: Binding, call: Call) -> Outcome:
        resource = binding.resource
        with call.transaction():
            parent = self._parent(binding, call)
            record_id = self._item_id(binding, call)
            last = self.store.get(call.tenant, resource.name, record_id, parent)
            if last is None or not self.store.delete(call.tenant, resource.name, record_id, parent):
                raise self._absent(binding, record_id)
            call.wrote([last])
        return Outcome(None, empty=True, changed=[last])

    def _list(self, binding: Binding, call: Call) -> Outcome:
        resource = binding.resource
        parent = self._parent(binding, call)
        plan = self._list_plan(binding)
        value_of = {n: call.query.get(n, plan.defaults.get(n)) for n in plan.names}
        limit = max(1, _int(value_of.get(plan.limit), 20)) if plan.limit else 20
        page = max(1, _int(value_of.get(plan.page), 1)) if plan.page else 1
        offset = max(0, _int(value_of.get(plan.offset), 0)) if plan.offset else (page - 1) * limit
        after_name = plan.after
        after = call.query.get(after_name) if after_name else None
        query = ListQuery(parent=parent, offset=min(offset, _MAX_OFFSET), limit=min(limit, 10_000))
        if after:
            decoded = _decode_cursor(after)
            if decoded is not None:
                query.offset = min(decoded, _MAX_OFFSET)
            else:
                query.after_id = after
        query.filters = {
            name: _cast_filter(call.query.get(name), kinds)
            for name, kinds in plan.filters.items()
            if name in call.query
        }
        if plan.sort and call.query.get(plan.sort):
            query.sort = self._sort(resource, str(call.query.get(plan.sort)))
        items, total, start = self.store.query(call.tenant, resource.name, query)
        # the store's dicts are this request's own: shown as they are unless fields are hidden
        presented = [self._present(resource, item, fresh=True) for item in items]
        facts = _PageFacts(page=page, limit=limit, total=total, offset=start, count=len(items))
        facts.has_more = start + len(items) < total
        if facts.has_more and presented:
            by_id = after_name is not None and _norm(after_name) in ("startingafter", "after")
            last_id = str(presented[-1].get(resource.id_field))
            facts.next_cursor = last_id if by_id else _encode_cursor(start + len(items))
        return Outcome(self._envelope(binding, presented, call, facts=facts))

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
        shape = self._shape_of(resource)
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
        shape = self._shape_of(resource)
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
        prop = self._shape_of(resource).properties.get(resource.id_field)
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
        return self._shape_of(resource).server

    def _required(self, resource: Resource) -> list[str]:
        return list((resource.item_schema or {}).get("required") or [])

    def _touch(self, resource: Resource, obj: dict[str, Any], *, created: bool) -> None:
        stamps = self._shape_of(resource).stamps
        if not stamps:
            return
        now = _now_text()
        for name, prop, updated in stamps:
            if (created or updated) and self.checks.is_valid(prop, now):
                obj[name] = now

    def _shape_of(self, resource: Resource) -> _ItemShape:
        """What the item schema says about each field, read once per resource."""
        cached = self._shapes.get(resource.name)
        if cached is not None and cached[0] is resource and cached[1] is resource.item_schema:
            return cached[2]
        schema = resource.item_schema or {}
        properties = {
            name: self.spec.deref(prop) for name, prop in (schema.get("properties") or {}).items()
        }
        server = {resource.id_field}
        hidden, defaults, stamps = set(), [], []
        for name, prop in properties.items():
            key = _norm(name)
            if (isinstance(prop, dict) and prop.get("readOnly")) or key in _TIMESTAMPS:
                server.add(name)
            if isinstance(prop, dict) and prop.get("writeOnly"):
                hidden.add(name)
            if isinstance(prop, dict) and "default" in prop:
                defaults.append((name, prop["default"]))
            if key in _TIMESTAMPS and isinstance(prop, dict):
                stamps.append((name, prop, key in _UPDATED))
        shape = _ItemShape(
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
        )
        self._shapes[resource.name] = (resource, resource.item_schema, shape)
        return shape

    def _valid(self, resource: Resource, obj: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """Keep what fits the schema; regenerate what does not (stored objects stay valid).
        A record is found by its id, so the id is kept even when nothing else could be."""
        fixed = self._fit(resource.item_schema or {}, obj, rng)
        if resource.id_field in obj:
            fixed[resource.id_field] = obj[resource.id_field]
        return fixed

    def _fit(self, schema: Any, obj: Any, rng: random.Random) -> Any:
        """``obj`` if it matches ``schema``, else a generated object with as many of its
        fields as still match."""
        if self.checks.is_valid(schema, obj):
            return obj
        fixed = self.faker.generate(schema, rng=rng, mode="response", fresh=True)
        if not isinstance(fixed, dict) or not isinstance(obj, dict):
            return fixed
        for name, value in obj.items():
            trial = {**fixed, name: value}
            if self.checks.is_valid(schema, trial):
                fixed = trial
        return fixed

    def _shown_schema(self, binding: Binding, many: bool) -> Any:
        """The schema this response gives a record where it is not the resource's own (one
        path listing another shape of the same records, as Spotify's and Twilio's do), or
        None where they agree. Worked out once per operation."""
        key = (binding.operation.operation_id, many)
        if key not in self._shown:
            schema = self._response_schema(binding)
            for name in binding.slot:
                shape = merged(self.spec.deref, schema) or {}
                schema = (shape.get("properties") or {}).get(name)
            if many:
                schema = (merged(self.spec.deref, schema) or {}).get("items")
            schema = self.spec.deref(schema)
            own = binding.resource.item_schema
            same = not isinstance(schema, dict) or schema is own or schema == own
            self._shown[key] = None if same else schema
        return self._shown[key]

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

    # -- seeding ------------------------------------------------------------------------
    def _seed_family(self, root: Resource) -> dict[str, list[Record]]:
        """Records for ``root`` and every resource nested under it."""
        family = [r for r in self.resources.values() if _root(r) is root]
        records: dict[str, list[Record]] = {}
        for resource in family:
            if resource.parent is not None or resource.item_schema is None:
                continue
            if resource.name in self.unseeded:
                records[resource.name] = []
                continue
            made: list[Record] = []
            taken: set[tuple[str, str]] = set()
            for index in range(self.seed_records):
                for attempt in range(5):
                    rng = self._seed_rng(resource.name, index, attempt)
                    record = self._new_record(resource, None, rng, "")
                    self._seed_times(resource, record.body, rng)
                    keys = {(f, v) for f, v in record.unique.items()}
                    if not keys & taken:
                        taken |= keys
                        made.append(record)
                        break
            records[resource.name] = made
        for resource in family:
            if resource.parent is None or resource.item_schema is None:
                continue
            children = []
            for parent_record in records.get(resource.parent.name, [])[:10]:
                for index in range(2):
                    rng = self._seed_rng(resource.name, parent_record.id, index)
                    children.append(self._new_record(resource, None, rng, parent_record.id))
            records[resource.name] = children
        return records

    def _seed_rng(self, *parts: object) -> random.Random:
        if self.seed is None:
            return random.Random()
        return stable_rng("seed-data", self.seed, *parts)

    def _seed_times(self, resource: Resource, obj: dict[str, Any], rng: random.Random) -> None:
        """Seed records look lived-in: created in the past year, updated since."""
        properties = (resource.item_schema or {}).get("properties") or {}
        # anchored to today's midnight, so a seeded run gives the same records all day
        now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        created = now - rng.uniform(3600, 365 * 86400)
        updated = rng.uniform(created, now)
        for name in properties:
            key = _norm(name)
            stamp = updated if key in _UPDATED else created if key in _TIMESTAMPS else None
            if stamp is not None and name in obj:
                text = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                if self.checks.is_valid(self.spec.deref(properties[name]), text):
                    obj[name] = text

    # -- presenting ---------------------------------------------------------------------
    def _present(
        self, resource: Resource, stored: dict[str, Any], *, reveal: bool = False,
        fresh: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """The stored object as clients see it (writeOnly and secret fields left out); a
        copy, unless ``fresh`` says nobody else holds ``stored`` and nothing is hidden."""
        hidden = self._shape_of(resource).hidden
        secret = self.secret_fields.get(resource.name)
        if secret is not None and not reveal:
            hidden = hidden | {secret[0]}
        if not hidden:
            return stored if fresh else dict(stored)
        return {k: v for k, v in stored.items() if k not in hidden}

    def _envelope(
        self, binding: Binding, value: Any, call: Call, *, total: int | None = None,
        facts: _PageFacts | None = None,
    ) -> Any:  # fmt: skip
        shown = self._shown_schema(binding, isinstance(value, list))
        if shown is not None:
            if isinstance(value, list):
                value = [self._fit(shown, item, call.rng) for item in value]
            else:
                value = self._fit(shown, value, call.rng)
        if not binding.slot:
            return value
        plan = self._answer_plan(binding)
        envelope = self._compose(plan.compose, value, call.rng)
        if facts is None:
            facts = _PageFacts(page=1, limit=max(1, total or 1), total=total or 0, count=total or 0)
        if isinstance(value, list):
            self._fill_meta(plan.meta, envelope, facts)
        return envelope

    def _answer_plan(self, binding: Binding) -> _AnswerPlan:
        """The binding's envelope and page fields, and its request defaults, read once."""
        key = binding.operation.operation_id
        cached = self._answers.get(key)
        if cached is not None and cached[0] is binding:
            return cached[1]
        schema = self._response_schema(binding)
        content = ((binding.operation.request_body or {}).get("content")) or {}
        media = next((m for name, m in content.items() if "json" in name), None) or {}
        body_schema = self.spec.deref(media.get("schema") or {})
        defaults = []
        if isinstance(body_schema, dict):
            for name, prop in (body_schema.get("properties") or {}).items():
                prop = self.spec.deref(prop)
                if isinstance(prop, dict) and "default" in prop:
                    defaults.append((name, prop["default"]))
        plan = _AnswerPlan(
            compose=self._compose_plan(schema, binding.slot) if binding.slot else [],
            meta=self._meta_plan(schema, 0),
            request_defaults=defaults,
        )
        self._answers[key] = (binding, plan)
        return plan

    def _response_schema(self, binding: Binding) -> Any:
        operation = binding.operation
        for status in operation.success_statuses or [200]:
            found = operation.response_for(status)
            if found:
                for media_type, media in ((found[1] or {}).get("content") or {}).items():
                    if isinstance(media, dict) and "json" in media_type:
                        return media.get("schema")
        return None

    def _compose_plan(self, schema: Any, slot: list[str]) -> list[tuple[str, bool, Any]]:
        """The envelope's fields in order: (name, False, schema) for a sibling to generate,
        (name, True, inner plan or None) for the step towards the slot (None: the value)."""
        shape = merged(self.spec.deref, schema) or {}
        properties = shape.get("properties") or {}
        required = set(shape.get("required") or [])
        plan: list[tuple[str, bool, Any]] = []
        for name, prop in properties.items():
            if name == slot[0]:
                plan.append((name, True, self._compose_plan(prop, slot[1:]) if slot[1:] else None))
            elif name in required or _is_meta(name):
                plan.append((name, False, prop))
        return plan

    def _compose(self, plan: list[tuple[str, bool, Any]], value: Any, rng: random.Random) -> Any:
        """The envelope around ``value``: siblings generated, the slot filled with ours."""
        envelope: dict[str, Any] = {}
        for name, is_slot, payload in plan:
            if is_slot:
                envelope[name] = value if payload is None else self._compose(payload, value, rng)
            else:
                # fresh: a spec example here (a fixed requestId, say) would repeat on every call
                envelope[name] = self.faker.generate(
                    payload, rng=rng, name=name, mode="response", fresh=True
                )
        return envelope

    def _meta_plan(self, schema: Any, depth: int) -> list[tuple[str, str, Any, bool, Any]]:
        """The envelope's fields that may mean a page fact: (name, normalized name, schema,
        required, nested plan), three levels deep."""
        if depth > 2:
            return []
        shape = merged(self.spec.deref, schema) or {}
        required = set(shape.get("required") or [])
        plan = []
        for name, prop in (shape.get("properties") or {}).items():
            prop = self.spec.deref(prop)
            plan.append(
                (name, _norm(name), prop, name in required, _LazyMeta(self, prop, depth + 1))
            )
        return plan

    def _fill_meta(
        self, plan: list[tuple[str, str, Any, bool, Any]], node: Any, facts: _PageFacts
    ) -> None:
        """Put the real page facts wherever the envelope has a field that means one."""
        if not isinstance(node, dict):
            return
        values = facts.table()
        for name, key, prop, required, nested in plan:
            wanted = values.get(key)
            if wanted is not None and isinstance(prop, dict) and self.checks.is_valid(prop, wanted):
                node[name] = wanted
            elif key == "nextcursor" and name in node and facts.next_cursor is None:
                if self.checks.is_valid(prop, None):
                    node[name] = None
                elif not required:
                    del node[name]
            elif isinstance(node.get(name), dict):
                self._fill_meta(nested.plan, node[name], facts)

    def _list_plan(self, binding: Binding) -> _ListPlan:
        """Which query parameters page, sort and filter a list: read from the spec once."""
        plan = self._list_plans.get(binding.operation.operation_id)
        if plan is not None:
            return plan
        query = [p for p in binding.operation.parameters if p.location == "query"]
        names = {p.name: _norm(p.name) for p in query}

        def named(kinds: set[str]) -> str | None:
            return next((n for n, k in names.items() if k in kinds), None)

        properties = (binding.resource.item_schema or {}).get("properties") or {}
        reserved = _PAGE | _LIMIT | _OFFSET | _AFTER | _SORT
        plan = _ListPlan(
            names=list(names),
            defaults={p.name: self.spec.deref(p.schema).get("default") for p in query},
            limit=named(_LIMIT), page=named(_PAGE), offset=named(_OFFSET),
            after=named(_AFTER), sort=named(_SORT),
            filters={
                name: schema_types(self.spec.deref(properties[name]))
                for name, key in names.items()
                if key not in reserved and name in properties
            },
        )  # fmt: skip
        self._list_plans[binding.operation.operation_id] = plan
        return plan

    def _sort(self, resource: Resource, text: str) -> list[tuple[str, bool]]:
        properties = (resource.item_schema or {}).get("properties") or {}
        order: list[tuple[str, bool]] = []
        for part in text.split(","):
            part = part.strip()
            descending = part.startswith("-") or part.lower().endswith((":desc", " desc"))
            name = re.sub(r"^[-+]|[: ](asc|desc)$", "", part, flags=re.I)
            if name in properties:
                order.append((name, descending))
        return order


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_meta(name: str) -> bool:
    return _norm(name) in {"meta", "pagination", "paging", "hasmore", "nextcursor", "total",
                           "totalcount", "page", "links"}  # fmt: skip


class _LazyMeta:
    """A nested envelope's meta plan, worked out the first time a response has that field
    (a recursive schema would otherwise be walked to the depth limit up front)."""

    __slots__ = ("_depth", "_engine", "_plan", "_schema")

    def __init__(self, engine: ResourceEngine, schema: Any, depth: int) -> None:
        self._engine, self._schema, self._depth = engine, schema, depth
        self._plan: list[tuple[str, str, Any, bool, Any]] | None = None

    @property
    def plan(self) -> list[tuple[str, str, Any, bool, Any]]:
        if self._plan is None:
            self._plan = self._engine._meta_plan(self._schema, self._depth)
        return self._plan


# keywords of an object schema that a cut-down copy (some properties left out) generates
# like the original; anything else (allOf, oneOf, minProperties, ...) is generated whole
_PLAIN_KEYS = {
    "type", "properties", "required", "additionalProperties", "description", "title",
    "example", "examples", "readOnly", "writeOnly", "nullable", "xml", "externalDocs",
    "deprecated",
}  # fmt: skip


@dataclass(frozen=True)
class _ItemShape:
    plain: bool  # a plain object schema (see _create_schema)
    properties: dict[str, Any]  # name -> schema, $ref followed
    server: frozenset[str]  # the id, readOnly fields and timestamps: the server sets these
    kept_on_create: frozenset[str]  # server fields and required ones
    hidden: frozenset[str]  # writeOnly: never shown
    defaults: list[tuple[str, Any]]
    stamps: list[tuple[str, Any, bool]]  # timestamp fields: (name, schema, is "updated")


@dataclass(frozen=True)
class _AnswerPlan:
    compose: list[tuple[str, bool, Any]]
    meta: list[tuple[str, str, Any, bool, Any]]
    request_defaults: list[tuple[str, Any]]


@dataclass(frozen=True)
class _ListPlan:
    names: list[str]
    defaults: dict[str, Any]
    limit: str | None
    page: str | None
    offset: str | None
    after: str | None
    sort: str | None
    filters: dict[str, set[str]]


@dataclass
class _PageFacts:
    page: int
    limit: int
    total: int
    count: int
    offset: int = 0
    has_more: bool = False
    next_cursor: str | None = None

    def value_for(self, key: str) -> Any:
        return self.table().get(key)

    def table(self) -> dict[str, Any]:
        pages = math.ceil(self.total / self.limit) if self.limit else 0
        return {
            "page": self.page, "pagenumber": self.page, "currentpage": self.page,
            "limit": self.limit, "perpage": self.limit, "pagesize": self.limit,
            "total": self.total, "totalcount": self.total, "totalitems": self.total,
            "totalresults": self.total, "totalrecords": self.total,
            "totalpages": pages, "pagecount": pages, "pages": pages,
            "hasmore": self.has_more, "hasnext": self.has_more, "hasnextpage": self.has_more,
            "nextcursor": self.next_cursor, "offset": self.offset, "count": self.count,
        }  # fmt: skip


def _is_number(text: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true and ``int("²")`` fails."""
    return text.isascii() and text.isdigit()


def _typed_like(example: Any, text: str) -> Any:
    return int(text) if isinstance(example, int) and _is_number(text.lstrip("-")) else text


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _cast_filter(raw: Any, kinds: set[str]) -> Any:
    text = str(raw)
    if "boolean" in kinds and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "integer" in kinds and re.fullmatch(r"-?\d+", text):
        return int(text)
    if "number" in kinds and re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    return text


def _encode_cursor(offset: int) -> str:
    return "cur_" + base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    if not cursor.startswith("cur_"):
        return None
    text = cursor[4:]
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return int(decoded[2:]) if decoded.startswith("o:") and _is_number(decoded[2:]) else None


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
