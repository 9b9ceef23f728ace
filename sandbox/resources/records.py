"""Making records and writing them to the store.

A client's create becomes a complete record, valid against the item schema: what the client
sent, the request schema's defaults for what it left out, and generated values for only what
the server would set (the id, timestamps, ``readOnly`` and required fields). Replace and
update change a stored record the same way. Writes go through ``Records`` so that a taken
generated id is drawn again, and a taken id the client chose or a taken unique value is a 409.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sandbox.errors import ApiError, Conflict
from sandbox.http.uploads import Upload
from sandbox.resources.inference import Binding, Resource
from sandbox.resources.keys import kept_key, key_of, put_at, value_at
from sandbox.resources.references import References, field_for
from sandbox.resources.shapes import Shapes, is_number
from sandbox.resources.under import carried
from sandbox.resources.under import mark as under_marks
from sandbox.resources.under import record as under_record
from sandbox.resources.uploads import file_facts, without_parts
from sandbox.spec.schemas import schema_types
from sandbox.spec.words import norm
from sandbox.state.protocols import PARENT_LINE, SCOPE_END, Record, RecordStore

_second: tuple[int, str] = (-1, "")  # the last second written out, and its text
_IDENTIFIERS = frozenset({"id", "uuid", "guid", "sid", "nodeid"})  # what names one item
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_ATOMS = frozenset({str, int, float, bool})


def _random_text(rng: random.Random) -> str:
    """A made-up text id (or key part): 14 letters and digits, 83 bits."""
    return "".join(rng.choice(_ALPHABET) for _ in range(14))


def _now_text() -> str:
    """Now, to the second, as the stamps are written: formatted once a second."""
    global _second
    whole = int(time.time())
    if _second[0] != whole:
        _second = (whole, datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _second[1]


def _copied(value: Any) -> Any:
    """A default's own copy: a text, number, boolean or null is its own (``deepcopy`` of
    one returns it after a memo and a dispatch, ~1 µs a field of every create)."""
    return value if value is None or type(value) in _ATOMS else copy.deepcopy(value)


def parent_line(above: str, own: str) -> str:
    """A record's parent as the store names it (``Record.parent``), where its parent's id is
    ``own`` and that parent's own is ``above``: the ids from the top down, so discussion 1
    of team ``core`` in org ``a`` is not that of ``core`` in ``b`` (GitHub numbers each
    team's discussions from 1). A parent at the top is its id alone, as it always was; one
    at the top of a scope (``scope_line``) follows the scope's end."""
    if not above or above.endswith(SCOPE_END):
        return f"{above}{own}"
    return f"{above}{PARENT_LINE}{own}"


def scope_line(values: list[str]) -> str:
    """The line a collection's records start from where path values above it name no
    parent record (``Resource.scope``: ``octo`` and ``hello`` of ``/repos/octo/hello/
    labels``): those values and the scope's end, so label ``bug`` of one repository is not
    that of another (``RecordStore`` says what else a scoped line sees); "" for none."""
    return f"{PARENT_LINE.join(values)}{SCOPE_END}" if values else ""


def own_id(parent: str) -> str:
    """The id of a record's parent itself, the last of its line (``parent_line``)."""
    return parent.rpartition(SCOPE_END)[2].rpartition(PARENT_LINE)[2]


def typed_like(example: Any, text: str) -> Any:
    """A path's id as the stored id's type: a number where the record's id is one."""
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


def not_found(resource: Resource, record_id: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"No {resource.singular} with id {record_id!r}.")


class Records:
    """Making records and writing them to the store."""

    def __init__(
        self, store: RecordStore, shapes: Shapes,
        secret_fields: Mapping[str, tuple[str, Callable[[], str]]],
    ) -> None:  # fmt: skip
        self.store, self.shapes, self.secret_fields = store, shapes, secret_fields
        self.spec, self.faker, self.checks = shapes.spec, shapes.faker, shapes.checks
        # read from the spec on first use, never per request (see _request_defaults)
        self._defaults: dict[str, tuple[Binding, list[tuple[str, Any]]]] = {}
        self._create_schemas: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self._id_plans: dict[str, tuple[Any, Any, tuple[str, Any]]] = {}
        self._id_makers: dict[str, tuple[Any, Callable[[random.Random], Any]]] = {}
        self._stamped: dict[str, tuple[str, Any, frozenset[str]]] = {}
        self._sent: dict[tuple[str, tuple[Any, ...]], tuple[Any, frozenset[str]]] = {}
        self._without_stamps: dict[tuple[str, frozenset[str]], tuple[Any, dict[str, Any]]] = {}
        self.references = References(
            self.spec,
            lambda schema, rng: self.faker.generate(schema, rng=rng, mode="response", fresh=True),
            self.checks.is_valid,
        )

    def requested(
        self, binding: Binding, body: Any, rng: random.Random, parent: str,
        uploads: tuple[Upload, ...] = (), path_params: dict[str, str] | None = None,
    ) -> Record:  # fmt: skip
        """The record a client's create asks for: what it sent, the request schema's defaults
        for what it left out, and what the server sets (a secret too, where the resource has
        one and the client sent none). A file sent fills the fields about it, not a field of
        its own (``sandbox.resources.uploads``); a create under a parent its item path does
        not name keeps that parent (``sandbox.resources.under``)."""
        resource = binding.resource
        body = without_parts(body, uploads, self.shapes.of(resource))
        under = (binding, path_params or {}) if binding.under else None
        record = self.new(resource, self._with_defaults(binding, body), rng, parent, uploads,
                          under)  # fmt: skip
        secret = self.secret_fields.get(resource.name)
        if secret is not None and not (isinstance(body, dict) and body.get(secret[0])):
            record.body[secret[0]] = secret[1]()
        return record

    def _with_defaults(self, binding: Binding, body: Any) -> Any:
        """The request schema's defaults for fields the client left out (``active: true``
        on a webhook), as a server that applies its own schema would."""
        if not isinstance(body, dict):
            return body
        filled = dict(body)
        for name, default in self._request_defaults(binding):
            if name not in filled:
                filled[name] = _copied(default)
        return filled

    def _request_defaults(self, binding: Binding) -> list[tuple[str, Any]]:
        """The request body schema's declared defaults, read once per operation."""
        key = binding.operation.operation_id
        cached = self._defaults.get(key)
        if cached is not None and cached[0] is binding:
            return cached[1]
        content = ((binding.operation.request_body or {}).get("content")) or {}
        media = next((m for name, m in content.items() if "json" in name), None) or {}
        body_schema = self.spec.deref(media.get("schema") or {})
        defaults = []
        if isinstance(body_schema, dict):
            for name, prop in (body_schema.get("properties") or {}).items():
                prop = self.spec.deref(prop)
                if isinstance(prop, dict) and "default" in prop:
                    defaults.append((name, prop["default"]))
        self._defaults[key] = (binding, defaults)
        return defaults

    def new(
        self, resource: Resource, body: Any, rng: random.Random, parent: str,
        uploads: tuple[Upload, ...] = (), under: tuple[Binding, dict[str, str]] | None = None,
    ) -> Record:  # fmt: skip
        """A complete record, valid against the item schema: the client's fields (none for a
        seed record) and its files' facts, and generated values for the rest."""
        schema = resource.item_schema or {}
        made = schema if body is None else self._create_schema(resource, body)
        obj = (
            {} if made is None else self.faker.generate(made, rng=rng, mode="response", fresh=True)
        )
        if not isinstance(obj, dict):
            obj = {}
        if body is not None:  # a client's create: invent only what the server would set
            obj = self._server_side(resource, obj)
        sent = self._client_fields(resource, body)
        obj.update(sent)
        obj.update(file_facts(uploads, self.shapes.of(resource), sent, resource.id_field))
        if not resource.key_parts:
            chosen = self._client_id(resource, body)
            obj[resource.id_field] = self._new_id(resource, rng) if chosen is None else chosen
            named = resource.id_param
            if named and named in obj and named not in self._item_fields(resource):
                obj[named] = obj[resource.id_field]  # the id sent by the path's name: the same id
        if (
            parent
            and resource.parent_param
            and resource.parent_param != resource.id_field  # /transfers/{id}/reversals: the
            and resource.parent_param in (schema.get("properties") or {})  # parent's, not its id
        ):
            obj[resource.parent_param] = own_id(parent)
        if under is not None:
            under_marks(*under, obj)
        self._touch(resource, obj, created=True)
        obj = self._valid(resource, obj, rng)
        if under is not None:
            under_record(*under, obj)
        return Record(self.record_id(resource, obj, rng), obj, parent,
                      self._unique_values(resource, obj))  # fmt: skip

    def record_id(self, resource: Resource, obj: dict[str, Any], rng: random.Random) -> str:
        """The store's id of a record: its id field, or its key's values where the key is
        not one field (one the record does not show: drawn, and replaced by its path's)."""
        if not resource.key_parts:
            return str(obj[resource.id_field])
        return key_of(resource.key_parts, obj) or str(self._new_id(resource, rng))

    def referenced(
        self, resource: Resource, value: Any, list_name: str, rng: random.Random, parent: str
    ) -> Record:
        """A whole item made for a reference a client added (``spotify:track:…`` sent in
        ``uris``): the reference in the field it means (``sandbox.resources.references``),
        or a sent object's fields."""
        record = self.new(resource, None, rng, parent)
        if isinstance(value, dict):
            record.body.update(self._client_fields(resource, value))
        else:
            schema = resource.item_schema or {}
            self.references.place(schema, record.body, field_for(list_name), value, rng)
        record.body = self._valid(resource, record.body, rng)
        return record

    def _create_schema(self, resource: Resource, body: Any) -> Any:
        """What to generate for a client's create: the item schema cut down to the fields
        the server keeps and the client did not send (the id is drawn on its own), so no
        time goes into values thrown away. Only for plain object schemas; anything with
        composition or object-wide rules is generated whole and cut afterwards. None where
        nothing is left to make (``_makes_nothing``): the client and the defaults set it all."""
        schema = resource.item_schema or {}
        shape = self.shapes.of(resource)
        if not shape.plain:
            return schema
        sent = self._sent_names(resource, body)
        # timestamps that _touch will set to now: no use drawing a value for them either
        _, stamped = self._stamps_now(resource)
        cached = self._create_schemas.get((resource.name, sent, stamped))
        if cached is not None and cached[0] is schema:
            return cached[1]
        skip = (sent or frozenset()) | stamped | ({resource.id_field} - {""})
        keep = [n for n in shape.kept_on_create if n not in skip]
        properties = schema.get("properties") or {}
        cut = {k: v for k, v in schema.items() if k not in ("properties", "required")}
        cut["properties"] = {n: p for n, p in properties.items() if n in keep}
        cut["required"] = [n for n in schema.get("required") or [] if n in keep]
        made = None if self._makes_nothing(cut) else cut
        if len(self._create_schemas) > 256:
            self._create_schemas.clear()
        self._create_schemas[(resource.name, sent, stamped)] = (schema, made)
        return made

    def _makes_nothing(self, cut: dict[str, Any]) -> bool:
        """Whether generating ``cut`` (no property left) gives an empty object and draws
        nothing from the request's generator, found once per cut with a probe: what draws
        nothing does the same whatever the generator holds, so a create whose fields the
        client and the defaults set skips the call (3 µs a create) and its rng is left as
        the call leaves it."""
        if cut["properties"] or cut["required"]:
            return False
        probe = random.Random(0)
        before = probe.getstate()
        try:
            made = self.faker.generate(cut, rng=probe, mode="response", fresh=True)
        except Exception:  # the create's own call will say what is wrong
            return False
        return made == {} and type(made) is dict and probe.getstate() == before

    def _sent_names(self, resource: Resource, body: Any) -> frozenset[str] | None:
        """The item's names of the fields a client's body sets (``_client_fields``), by the
        body's keys: the same few key sets come again and again (~3 µs a create to work out)."""
        if not isinstance(body, dict):
            return None
        shape = self.shapes.of(resource)
        key = (resource.name, tuple(body))
        held = self._sent.get(key)
        if held is not None and held[0] is shape:
            return held[1]
        names = frozenset(self._client_fields(resource, body))
        if len(self._sent) > 256:
            self._sent.clear()
        self._sent[key] = (shape, names)
        return names

    def _new_id(self, resource: Resource, rng: random.Random) -> Any:
        kind, schema = self._id_plan(resource)
        if kind == "number":
            return rng.randrange(1, 2**31)  # a whole number fits a number id too
        if kind == "schema":
            made = self._id_maker(resource, schema)(rng)
            if made is not None:
                return made
        return (resource.id_prefix or "") + _random_text(rng)

    def _id_maker(self, resource: Resource, schema: Any) -> Callable[[random.Random], Any]:
        """How an id of the schema is made (``DataFaker.fresh_maker``), once per resource."""
        held = self._id_makers.get(resource.name)
        if held is None or held[0] is not schema:
            held = (schema, self.faker.fresh_maker(schema, resource.id_field))
            self._id_makers[resource.name] = held
        return held[1]

    def _id_plan(self, resource: Resource) -> tuple[str, Any]:
        """How the resource's ids are drawn ("number", "schema" with the schema to generate,
        or "text"), worked out once per resource. The schema is the same object every time:
        the generator caches what it learns of a schema by its identity, and a copy made per
        create was compiled anew each time (the pattern parsed, the realistic guesses tried):
        150 of a create's 760 µs."""
        item, path = self.spec.deref(resource.id_schema), resource.path_id_schema
        cached = self._id_plans.get(resource.name)
        if cached is not None and cached[0] is item and cached[1] is path:
            return cached[2]
        schema, path = item, path or {}
        kinds = schema_types(schema)
        if not (schema.get("pattern") or schema.get("format")) and kinds == schema_types(path):
            # the item path's parameter may say more of the id than the item does
            # (DigitalOcean's {byoip_prefix_uuid}: format uuid; the prefix's uuid: a string):
            # an id made by it can be read back
            schema = {**schema, **{k: path[k] for k in ("pattern", "format") if k in path}}
        plan: tuple[str, Any] = ("text", None)
        if kinds & {"integer", "number"} and "string" not in kinds:
            plan = ("number", None)
        elif schema.get("pattern") or schema.get("format") == "uuid":
            # an id is never null, even where the schema says it may be (Twilio's sids do)
            plan = ("schema", {k: v for k, v in schema.items() if k != "nullable"})
        self._id_plans[resource.name] = (item, resource.path_id_schema, plan)
        return plan

    def _server_side(self, resource: Resource, generated: dict[str, Any]) -> dict[str, Any]:
        """What a real server adds to a created object: ids, timestamps and other readOnly
        fields, declared defaults, and required fields (so the stored object stays valid).
        Optional fields the client left out stay out."""
        shape = self.shapes.of(resource)
        keep = shape.kept_on_create
        obj = {k: v for k, v in generated.items() if k in keep}
        for name, default in shape.defaults:
            if name not in obj:
                obj[name] = _copied(default)
        return obj

    def _client_id(self, resource: Resource, body: Any) -> Any:
        """The id the client chose, where the schema lets it choose (the id is not readOnly):
        a petstore-style API takes the pet's id from the request body; an item added by
        reference is named by the item path's parameter (OpenAI's ``POST /vector_stores/
        {id}/files`` sends the ``file_id`` that ``/files/{file_id}`` reads it by)."""
        if not isinstance(body, dict) or resource.key_parts:
            return None
        named = resource.id_param  # the name the item's path reads it by comes first
        if named in body and named not in self._item_fields(resource):
            key = named
        elif resource.id_field in body:
            key = resource.id_field
        else:
            return None
        value = body[key]
        if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
            return None
        prop = self.shapes.of(resource).properties.get(resource.id_field)
        if not isinstance(prop, dict) or prop.get("readOnly"):
            return None
        return value

    def _item_fields(self, resource: Resource) -> dict[str, Any]:
        return self.shapes.of(resource).properties

    def _chosen_ids(self, resource: Resource, bodies: list[Any]) -> set[str]:
        return {str(v) for v in (self._client_id(resource, b) for b in bodies) if v is not None}

    def _client_fields(self, resource: Resource, body: Any) -> dict[str, Any]:
        """What the client sent that it may set, under the item's own names: a form's
        ``To`` or ``FriendlyName`` is the item's ``to`` or ``friendly_name`` (by meaning:
        case and separators aside)."""
        if not isinstance(body, dict):
            return {}
        server = self._server_fields(resource)
        properties = self.shapes.of(resource).properties
        by_norm = self.shapes.of(resource).by_norm
        sent: dict[str, Any] = {}
        for key, value in body.items():
            name = str(key) if key in properties else by_norm.get(norm(str(key)), str(key))
            if name not in server:
                sent[name] = value
        return sent

    def _server_fields(self, resource: Resource) -> frozenset[str]:
        return self.shapes.of(resource).server

    def _required(self, resource: Resource) -> list[str]:
        return list((resource.item_schema or {}).get("required") or [])

    def _touch(self, resource: Resource, obj: dict[str, Any], *, created: bool) -> None:
        stamps = self.shapes.of(resource).stamps
        if not stamps:
            return
        now, fitting = self._stamps_now(resource)
        for name, _prop, updated in stamps:
            if (created or updated) and name in fitting:
                obj[name] = now

    def _stamps_now(self, resource: Resource) -> tuple[str, frozenset[str]]:
        """Now, and the timestamp fields whose schemas take it: checked once a second per
        resource, not twice per field per create (10 µs of a create)."""
        now = _now_text()
        stamps = self.shapes.of(resource).stamps
        cached = self._stamped.get(resource.name)
        if cached is not None and cached[0] == now and cached[1] is stamps:
            return now, cached[2]
        fitting = frozenset(name for name, prop, _ in stamps if self.checks.is_valid(prop, now))
        self._stamped[resource.name] = (now, stamps, fitting)
        return now, fitting

    def _valid(self, resource: Resource, obj: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """Keep what fits the schema; regenerate what does not (stored objects stay valid).
        A record is found by its id, so the id is kept even when nothing else could be."""
        schema = resource.item_schema or {}
        fixed = obj if self._fits_but_stamps(resource, schema, obj) else None
        if fixed is None:
            fixed = self.shapes.fit(schema, obj, rng)
        if resource.key_parts:
            kept_key(resource.key_parts, obj, fixed)
        elif resource.id_field in obj:
            fixed[resource.id_field] = obj[resource.id_field]
        return fixed

    def _fits_but_stamps(self, resource: Resource, schema: Any, obj: dict[str, Any]) -> bool:
        """Whether ``obj`` is valid, checked without its timestamps that hold this second's
        stamp: ``_stamps_now`` found that text valid for their schemas once this second,
        and a plain object schema (``ItemShape.plain``) checks each property on its own, so
        the object is valid where the rest of it is valid against the schema without those
        properties. The two date-time checks were half of checking a created user (~4 of
        7.6 µs). False sends the object to ``Shapes.fit``, which checks it whole."""
        shape = self.shapes.of(resource)
        if not shape.plain or not shape.stamps or not isinstance(schema, dict):
            return False
        now, fitting = self._stamps_now(resource)
        known = frozenset(name for name in fitting if obj.get(name) == now)
        if not known:
            return False
        key = (resource.name, known)
        held = self._without_stamps.get(key)
        if held is None or held[0] is not schema:
            properties = schema.get("properties") or {}
            reduced = {k: v for k, v in schema.items() if k not in ("properties", "required")}
            reduced["properties"] = {n: p for n, p in properties.items() if n not in known}
            if "required" in schema:
                reduced["required"] = [n for n in schema["required"] or [] if n not in known]
            if len(self._without_stamps) > 256:
                self._without_stamps.clear()
            held = self._without_stamps[key] = (schema, reduced)
        rest = {k: v for k, v in obj.items() if k not in known}
        return self.checks.is_valid(held[1], rest)

    def _unique_values(self, resource: Resource, obj: dict[str, Any]) -> dict[str, str]:
        return {
            name: str(obj[name]).casefold() for name in resource.unique if obj.get(name) is not None
        }

    def change(
        self, tenant: str, resource: Resource, current: Record, body: Any, rng: random.Random,
        *, merge: bool, uploads: tuple[Upload, ...] = (),
    ) -> dict[str, Any]:  # fmt: skip
        """``current`` changed by a client's body (merged into it, or replacing all the client
        may set; a file sent, by its facts) and written back; 409 for a unique value another
        record has."""
        shape = self.shapes.of(resource)
        sent = self._client_fields(resource, without_parts(body, uploads, shape))
        sent.update(file_facts(uploads, shape, sent, resource.id_field))
        if merge:
            updated = _merge_patch(current.body, sent)
        else:
            updated = {k: v for k, v in current.body.items() if k in self._server_fields(resource)}
            updated.update(sent)
        for name in self._required(resource):
            if name not in updated and name in current.body:
                updated[name] = current.body[name]  # a required field cannot be removed
        self._touch(resource, updated, created=False)
        updated = self._valid(resource, updated, rng)
        if resource.recorded:
            carried(resource.recorded, current.body, updated)
        record = Record(current.id, updated, current.parent, self._unique_values(resource, updated))
        moved = key_of(resource.key_parts, updated) if resource.key_parts else ""
        if moved and moved != current.id and all(p.field for p in resource.key_parts):
            # a key field changed (a repository renamed): the record is found by its new key
            record.id = moved
            try:  # the new key first: one taken leaves the record where it was
                self.store.insert(tenant, resource.name, [record])
            except Conflict as conflict:
                raise self._conflict(resource, conflict) from None
            self.store.delete(tenant, resource.name, current.id, current.parent)
            return updated
        try:
            replaced = self.store.replace(tenant, resource.name, record)
        except Conflict as conflict:
            raise self._conflict(resource, conflict) from None
        if not replaced:
            raise not_found(resource, current.id)
        return updated

    def insert(
        self, tenant: str, resource: Resource, records: list[Record], *, sent: list[Any]
    ) -> bool:
        """Insert all or nothing (``sent``: the bodies the records were made from). A taken
        generated id is drawn again (a seeded rng repeats ids for identical requests); a taken
        id the client chose, or a taken unique value, is a 409. True where ids were drawn
        again (the records changed), False where they went in as they were. The ids the
        client chose are worked out at the first conflict, not before every insert: inside
        the caller's write lock."""
        chosen: set[str] | None = None
        for attempt in range(5):
            try:
                self.store.insert(tenant, resource.name, records)
                return attempt > 0
            except Conflict as conflict:
                if chosen is None:
                    chosen = self._chosen_ids(resource, sent)
                if conflict.field != "id" or conflict.value in chosen:
                    raise self._conflict(resource, conflict) from None
                fresh = random.Random()  # the whole batch: a repeated request repeats them all
                if any(part.field for part in resource.key_parts):
                    self._redraw_keys(resource, records, sent, fresh, conflict)
                for record, body in zip(records, [*sent, *[None] * len(records)], strict=False):
                    if record.id in chosen:
                        continue
                    self._redraw_identifiers(resource, record, body, fresh)
                    if any(part.field for part in resource.key_parts):
                        continue
                    record.id = str(self._new_id(resource, fresh))
                    if resource.id_field in record.body:
                        old = record.body[resource.id_field]
                        record.body[resource.id_field] = typed_like(old, record.id)
                        named = resource.id_param  # the same id by its path's name, drawn with it
                        if named and named != resource.id_field and record.body.get(named) == old:
                            record.body[named] = record.body[resource.id_field]
        raise ApiError(503, "ID_SPACE_EXHAUSTED", "No free id was found; retry the request.")

    def _redraw_identifiers(
        self, resource: Resource, record: Record, body: Any, rng: random.Random
    ) -> None:
        """The server-made identifiers beside the key (a team keyed by its ``slug`` has a
        numeric ``id`` and a ``node_id`` too) drawn again with it: the same create twice made
        the same values, and two items that show one ``id`` read as one item repeated."""
        shape = self.shapes.of(resource)
        sent = body if isinstance(body, dict) else {}
        for name in shape.properties:
            if norm(name) not in _IDENTIFIERS or name == resource.id_field or name in sent:
                continue
            if name in record.body:
                made = self.faker.generate(shape.properties[name], rng=rng, name=name, fresh=True)
                record.body[name] = record.body[name] if made is None else made

    def _redraw_keys(
        self, resource: Resource, records: list[Record], sent: list[Any], rng: random.Random,
        conflict: Conflict,
    ) -> None:  # fmt: skip
        """A taken key is the client's conflict where it sent all of it (a repository's
        owner and name); where the server made a part (the owner of one created at
        ``/orgs/{org}/repos``), that part is drawn again, as a generated id is."""
        for record, body in zip(records, [*sent, *[None] * len(records)], strict=False):
            made = [p for p in resource.key_parts if p.field and value_at(body, p.field) is None]
            if not made:
                raise self._conflict(resource, conflict)
            for part in made:
                old = value_at(record.body, part.field)
                number = isinstance(old, int) and not isinstance(old, bool)
                put_at(record.body, part.field,
                       rng.randrange(1, 2**31) if number else _random_text(rng))  # fmt: skip
            record.id = key_of(resource.key_parts, record.body) or record.id

    def _conflict(self, resource: Resource, conflict: Conflict) -> ApiError:
        named = resource.id_field if conflict.field == "id" and resource.id_field else None
        field_name = named or conflict.field  # a label's id is its name: "name", not "id"
        return ApiError(
            409, "CONFLICT",
            f"A {resource.singular} with {field_name} {conflict.value!r} already exists "
            f"({conflict.existing_id}).",
            details=[{"field": field_name, "message": "is already taken"}],
        )  # fmt: skip
