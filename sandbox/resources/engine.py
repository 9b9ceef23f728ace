"""Stateful behaviour for the operations bound to a resource: create, read, replace, update,
delete, list (page/limit, offset/limit, cursors; filters; sort) and bulk create.

Stored objects are complete and valid against the resource's schema when written; responses
present them through the operation's response schema (``writeOnly`` dropped, the object put
in its slot of the envelope, pagination meta filled in by meaning).

``ResourceEngine`` is what the app calls (``binding``, ``prepare``, ``handle``): it finds the
addressed record and its parent, runs each action's writes in the caller's transaction, and
leaves the rest to its parts: ``Records`` makes and writes records (records.py), ``Seeder`` a
tenant's first ones (seeding.py), ``Listing`` reads list requests (listing.py) and
``Presenter`` turns records into the answer (presenting.py).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from sandbox.errors import ApiError, Conflict, StorageError
from sandbox.http.error_bodies import storage_unavailable
from sandbox.http.uploads import Upload
from sandbox.resources.inference import Binding, Resource, infer_resources
from sandbox.resources.keys import key_in_path, key_of, key_params, put_key
from sandbox.resources.listing import Listing
from sandbox.resources.naming import answers_no_body
from sandbox.resources.presenting import Presenter
from sandbox.resources.records import (
    Records,
    not_found,
    own_id,
    parent_line,
    scope_line,
    typed_like,
)
from sandbox.resources.references import field_for, names
from sandbox.resources.seeding import Seeder
from sandbox.resources.shapes import Shapes
from sandbox.resources.under import filters as under_filters
from sandbox.spec.model import Spec
from sandbox.spec.schemas import SchemaChecks, schema_types
from sandbox.state.protocols import ListQuery, Record, RecordStore

_REMOVE_SCAN = 10_000  # a removal looks through this many of the parent's items
# read answers kept per process (then the lot is dropped); a kept page is ~10 objects the
# collector tracks (dicts of plain values it does not), so they add little to its walks
_ANSWERS_KEPT = 512


class NotStored(Exception):
    """The engine has nothing to say: answer as a stateless sandbox would."""


@dataclass
class Call:
    """One request as the engine needs it."""

    tenant: str
    path_params: dict[str, str]
    query: Any
    body: Any
    request_path: str
    rng: random.Random
    # the request's scheme and host (http://127.0.0.1:8000/), which a list's links point to:
    # asked for only then (werkzeug works it out anew on every read, ~10 µs)
    origin_of: Callable[[], str] = str
    # The caller's write transaction: the engine's writes, and ``changed`` with the records
    # they wrote (for webhook events), run inside it. Records are made before it opens, so
    # the write lock is held for the writes only.
    transaction: Callable[[], AbstractContextManager[Any]] = nullcontext
    changed: Callable[[list[dict[str, Any]]], None] | None = None
    seeded: bool = False  # the caller has just made sure the tenant is seeded (prepare)
    uploads: tuple[Upload, ...] = ()  # a multipart body's files (validation's facts)
    # the id the credentials name (HTTP Basic's user name): the caller's own record exists
    caller: str | None = None
    # ``rng`` is seeded from the request alone (a seeded sandbox): the same request, on the
    # same records, gets the same answer, so a list page's answer can be kept
    repeatable: bool = False

    def wrote(self, records: list[dict[str, Any]]) -> None:
        if self.changed is not None:
            self.changed(records)


@dataclass
class Outcome:
    value: Any
    empty: bool = False
    changed: list[dict[str, Any]] = field(default_factory=list)  # records written (events)
    links: str | None = None  # a list page's RFC 8288 Link header value (None: one page)


class ResourceEngine:
    """The stored answer to each operation bound to a resource (see the module docstring)."""

    def __init__(
        self, spec: Spec, store: RecordStore, faker: Any, checks: SchemaChecks, *,
        seed: int | None, seed_records: int,
        inferred: tuple[dict[str, Resource], dict[str, Binding]] | None = None,
        unseeded: frozenset[str] = frozenset(),
        secret_fields: Mapping[str, tuple[str, Callable[[], str]]] | None = None,
        declared_statuses_only: bool = False,
    ) -> None:  # fmt: skip
        """``unseeded``: resources that start empty (webhook subscriptions, whose seeded URLs
        would point nowhere); ``secret_fields``: resource -> (field, maker), a secret made on
        create when absent and shown only then; ``declared_statuses_only``: an unknown id is
        a 404 only where the operation declares one (else a generated answer)."""
        self.declared_statuses_only = declared_statuses_only
        self.spec = spec
        self.store = store
        self.resources, self.bindings = inferred or infer_resources(spec)
        # resources a client adds to: an unknown id of these is a 404
        self.creatable = {
            b.resource.name
            for b in self.bindings.values()
            if b.action in ("create", "bulk_create", "add")
        }
        secrets = dict(secret_fields or {})
        shapes = Shapes(spec, faker, checks)
        self.records = Records(store, shapes, secrets)
        self.seeder = Seeder(
            self.records, self.resources, seed=seed, seed_records=seed_records, unseeded=unseeded
        )
        self.presenter = Presenter(shapes, secrets)
        self.listing = Listing(spec)
        store.reline(_nested_below_the_second_level(self.resources))
        # read answers by request: (records' version, outcome, rng state after it)
        self._answers: dict[tuple[Any, ...], tuple[int, Outcome, Any]] = {}

    def binding(self, operation_id: str) -> Binding | None:
        return self.bindings.get(operation_id)

    # -- dispatch -----------------------------------------------------------------------
    def prepare(self, tenant: str, binding: Binding) -> None:
        """Seed the binding's resources the first time a tenant touches them (handle does it
        too, when not done yet). One resource family at a time: a spec of a hundred
        resources (DigitalOcean's) does not make anyone's first request wait for all."""
        self.seeder.ensure(tenant, binding.resource)

    def _shown(self, resource: Resource, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Written records as a webhook event carries them: as a client would see them, so
        no writeOnly or secret field, and no parent the store keeps for its own lists."""
        return [self.presenter.present(resource, record) for record in records]

    def handle(self, binding: Binding, call: Call) -> Outcome:
        try:
            if not call.seeded:
                self.prepare(call.tenant, binding)
            handler = getattr(self, f"_{binding.action}")
            return handler(binding, call)
        except StorageError as exc:
            raise storage_unavailable(exc) from None
        except ApiError as error:
            raise _as_declared(binding, error) from None

    def _parent(self, binding: Binding, call: Call) -> str:
        parent_id = self._parent_id(binding.resource, call)
        self._check_parent(binding, call, parent_id)
        return parent_id

    def _parent_id(self, resource: Resource, call: Call) -> str:
        """The record's parent, which its own id is unique within: the store names a record
        by both (a label ``bug`` in two repositories is two records). The ids the path gives
        the parent and the parent's own parents (``parent_line``), from the top's scope
        down (``scope_line``: the path's values above a collection that names no parent
        record, a repository's ``{owner}`` and ``{repo}``); "" for a resource with neither,
        whose ids are unique on their own, and for a path that lacks a scope's value (a
        list or create bound elsewhere): the unscoped line, which every scope sees."""
        if resource.parent is None or resource.parent_param is None:
            if not resource.scope:
                return ""
            values = [call.path_params.get(name, "") for name in resource.scope]
            return scope_line(values) if all(values) else ""
        own = call.path_params.get(resource.parent_param, "")
        return parent_line(self._parent_id(resource.parent, call), own) if own else ""

    def _check_parent(self, binding: Binding, call: Call, parent: str) -> None:
        resource = binding.resource
        if resource.parent is None or resource.parent_param is None:
            return
        parent_id = own_id(parent)
        above = self._parent_id(resource.parent, call)  # the parent's own parent
        if self.store.get(call.tenant, resource.parent.name, parent_id, above) is None:
            if binding.operation.response_for(404) is not None:
                raise not_found(resource.parent, parent_id)
            if self.declared_statuses_only or not self._may_be_id(resource.parent, parent_id):
                raise NotStored()  # the spec promises an answer: it is generated
            # no 404 promised: the parent is taken to exist (the caller's own account, whose
            # id the path names), and is kept so that reading it back agrees
            self._adopt(resource.parent, call, parent_id)

    def _may_be_id(self, resource: Resource, record_id: str) -> bool:
        """The text as the resource's id is valid by the id's schema (Twilio's conference
        sid is ``^CF[0-9a-fA-F]{32}$``: a conference ``0`` cannot be kept, nor read back)."""
        id_schema = self.records.spec.deref(resource.id_schema)
        numeric = bool(schema_types(id_schema) & {"integer", "number"})
        return self.records.checks.is_valid(id_schema, typed_like(0 if numeric else "", record_id))

    def _adopt(self, resource: Resource, call: Call, record_id: str) -> None:
        """Store a record of ``resource`` with the id a path names (and its parents')."""
        parent = self._parent_id(resource, call)
        above = resource.parent
        if above is not None and parent:  # the parent, under its own, made first if absent
            above_parent = self._parent_id(above, call)
            if not self.store.get(call.tenant, above.name, own_id(parent), above_parent):
                self._adopt(above, call, own_id(parent))
        record = self.records.new(resource, None, call.rng, parent)
        self._name(resource, record.body, record_id)
        record.id = record_id
        record.unique = {}
        with suppress(Conflict):  # adopted by a request at the same time: the same record
            self.store.insert(call.tenant, resource.name, [record])

    def _absent(self, binding: Binding, call: Call, record_id: str, parent: str) -> Exception:
        """A 404, in the spec's error shape, even where the operation declares none (the real
        API answers so); with ``declared_statuses_only`` the spec's word wins there and the
        caller falls back to a generated response, as it does for a catalog the client
        cannot add to (any track exists) unless the client deleted that id."""
        resource = binding.resource
        if binding.operation.response_for(404) is None and (
            self.declared_statuses_only
            or (resource.name not in self.creatable
                and self.store.get(call.tenant, _gone(resource), _gone_id(record_id, parent),
                                   parent) is None)
        ):  # fmt: skip
            return NotStored()
        return not_found(resource, record_id)

    def _item_id(self, binding: Binding, call: Call) -> str:
        resource = binding.resource
        if resource.key_parts:
            return key_in_path(resource.key_parts, call.path_params)
        return call.path_params.get(resource.id_param or "", "")

    def _name(self, resource: Resource, body: dict[str, Any], record_id: str) -> None:
        """Write the id a path gave a record into it, where it shows it."""
        if not resource.key_parts:
            body[resource.id_field] = typed_like(body.get(resource.id_field), record_id)
            return
        put_key(resource.key_parts, body, key_params(resource.key_parts, record_id))

    # -- actions ------------------------------------------------------------------------
    def _existing(self, binding: Binding, call: Call) -> Record:
        """The addressed record; 404 (or fallback) when absent."""
        parent = self._parent(binding, call)
        record_id = self._item_id(binding, call)
        stored = self.store.get(call.tenant, binding.resource.name, record_id, parent)
        if stored is None and record_id and record_id == call.caller:
            # the caller's own record (Twilio's account, whose SID is the Basic user name)
            # exists as a parent named by a path does: made with that id and kept
            self._adopt(binding.resource, call, record_id)
            stored = self.store.get(call.tenant, binding.resource.name, record_id, parent)
        if stored is None:
            raise self._absent(binding, call, record_id, parent)
        return Record(record_id, stored, parent)

    def _check(self, binding: Binding, call: Call) -> Outcome:
        """A GET that answers yes or no with no body (``GET /user/following/{username}``):
        the declared success where the item is stored, else 404 (from what PUT and DELETE
        did, not a generated yes)."""
        self._existing(binding, call)
        return Outcome(None, empty=True)

    def _read(self, binding: Binding, call: Call) -> Outcome:
        """The record, presented; kept as a list page is (``_kept``)."""
        return self._kept(binding, call, self._parent(binding, call), self._one)

    def _one(self, binding: Binding, call: Call, parent: str) -> Outcome:
        stored = self._existing(binding, call).body
        return Outcome(self.presenter.one(binding, stored, call.rng))

    def _create(self, binding: Binding, call: Call) -> Outcome:
        resource = binding.resource
        parent = self._parent_id(resource, call)
        record = self.records.requested(binding, call.body, call.rng, parent, call.uploads,
                                        call.path_params)  # fmt: skip
        # the event's copy made before the write lock is taken, and again only where the
        # insert drew the record's id anew (a taken one): the lock is held for the writes
        shown = self._shown(resource, [record.body]) if call.changed is not None else []
        with call.transaction():
            self._check_parent(binding, call, parent)
            if self.records.insert(call.tenant, resource, [record], sent=[call.body]):
                shown = self._shown(resource, [record.body])
            call.wrote(shown)
        # Location comes from the responder, which reads the id from the body it is given
        shown = self.presenter.one(binding, record.body, call.rng, reveal=True)
        return Outcome(shown, changed=[record.body])

    def _bulk_create(self, binding: Binding, call: Call) -> Outcome:
        resource = binding.resource
        items = (
            (call.body or {}).get(binding.bulk_field or "", [])
            if isinstance(call.body, dict)
            else []
        )
        # under the path's scope where it has one; a nested resource's are kept at the top
        # as they always were (its bulk path names no parent check)
        parent = self._parent_id(resource, call) if resource.parent is None else ""
        records = [self.records.new(resource, item, call.rng, parent) for item in items]
        with call.transaction():
            self.records.insert(call.tenant, resource, records, sent=items)
            call.wrote(self._shown(resource, [r.body for r in records]))
        presented = [self.presenter.present(resource, r.body) for r in records]
        return Outcome(
            self.presenter.envelope(binding, presented, call.rng, total=len(presented)),
            changed=[r.body for r in records],
        )

    def _add(self, binding: Binding, call: Call) -> Outcome:
        """Items added by reference (``{"uris": [...]}``), stored under the parent in the
        order sent; the answer is the operation's declared one (a snapshot id)."""
        resource = binding.resource
        parent = self._parent_id(resource, call)
        records = [
            self.records.referenced(resource, value, binding.bulk_field or "", call.rng, parent)
            for value in self._sent_list(binding, call)
        ]
        with call.transaction():
            self._check_parent(binding, call, parent)
            self.records.insert(call.tenant, resource, records, sent=[])
            call.wrote(self._shown(resource, [r.body for r in records]))
        return Outcome(None, empty=True, changed=[r.body for r in records])

    def _remove(self, binding: Binding, call: Call) -> Outcome:
        """The parent's items the body names (``{"items": [{"uri": ...}]}``), every one of
        them, removed; the answer is the operation's declared one."""
        resource = binding.resource
        sent = self._sent_list(binding, call)
        field_name = field_for(binding.bulk_field or "")
        with call.transaction():
            parent = self._parent(binding, call)
            query = ListQuery(parent=parent, limit=_REMOVE_SCAN)
            stored, _total, _start = self.store.query(call.tenant, resource.name, query)
            gone = [item for item in stored if any(names(item, s, field_name) for s in sent)]
            for item in gone:
                named = key_of(resource.key_parts, item) if resource.key_parts else ""
                self.store.delete(call.tenant, resource.name,
                                  named or str(item[resource.id_field]), parent)  # fmt: skip
            call.wrote(self._shown(resource, gone))
        return Outcome(None, empty=True, changed=gone)

    def _sent_list(self, binding: Binding, call: Call) -> list[Any]:
        body = call.body if isinstance(call.body, dict) else {}
        sent = body.get(binding.bulk_field or "")
        return sent if isinstance(sent, list) else []

    def _replace(self, binding: Binding, call: Call) -> Outcome:
        declared = binding.operation.responses  # create-or-replace (RFC 9110 §9.3.4), where
        # the PUT may create, cannot refuse, or answers no body (PUT /user/following/{username}
        # follows: a 404 there is for a user that does not exist, which the sandbox cannot say)
        if (
            "201" in declared
            or "404" not in declared
            or answers_no_body(self.spec, binding.operation)
        ):
            made = self._put_new(binding, call)
            if made is not None:
                return made
        return self._change(binding, call, merge=False)

    def _put_new(self, binding: Binding, call: Call) -> Outcome | None:
        """The item a PUT names, made as sent where it is absent and the PUT declares 201
        (GitHub's ``PUT /orgs/{org}/dependabot/secrets/{secret_name}``) or no 404 (GitHub's
        ``PUT /repos/{owner}/{repo}/environments/{environment_name}``); None where it
        exists, for the replace, or where the path's value cannot be the item's id (GitHub's
        ``/authorizations/clients/{client_id}`` names an app, not the numeric id)."""
        resource = binding.resource
        record_id = self._item_id(binding, call)
        parent = self._parent_id(resource, call)
        if not resource.key_parts and not self._may_be_id(resource, record_id):
            return None
        with call.transaction():
            self._check_parent(binding, call, parent)
            if self.store.get(call.tenant, resource.name, record_id, parent) is not None:
                return None
            record = self.records.requested(binding, call.body, call.rng, parent, call.uploads)
            self._name(resource, record.body, record_id)
            record.id = record_id
            self.records.insert(call.tenant, resource, [record], sent=[call.body])
            call.wrote(self._shown(resource, [record.body]))
        shown = self.presenter.one(binding, record.body, call.rng, reveal=True)
        return Outcome(shown, changed=[record.body])

    def _update(self, binding: Binding, call: Call) -> Outcome:
        return self._change(binding, call, merge=True)

    def _change(self, binding: Binding, call: Call, *, merge: bool) -> Outcome:
        with call.transaction():  # read, change and write back as one
            current = self._existing(binding, call)
            updated = self.records.change(
                call.tenant, binding.resource, current, call.body, call.rng, merge=merge,
                uploads=call.uploads,
            )  # fmt: skip
            call.wrote(self._shown(binding.resource, [updated]))
        return Outcome(self.presenter.one(binding, updated, call.rng), changed=[updated])

    def _delete(self, binding: Binding, call: Call) -> Outcome:
        resource = binding.resource
        with call.transaction():
            parent = self._parent(binding, call)
            record_id = self._item_id(binding, call)
            last = self.store.get(call.tenant, resource.name, record_id, parent)
            if last is None or not self.store.delete(call.tenant, resource.name, record_id, parent):
                last = None
                absent = self._absent(binding, call, record_id, parent)
                if not isinstance(absent, NotStored) or self.declared_statuses_only:
                    raise absent
            else:
                call.wrote(self._shown(resource, [last]))
            if resource.name not in self.creatable and not self.declared_statuses_only:
                # a catalog answers any id as if it were there: not this one, from now on
                with suppress(Conflict):
                    gone = Record(_gone_id(record_id, parent), {}, parent)
                    self.store.insert(call.tenant, _gone(resource), [gone])
        if last is None:
            raise NotStored()  # answered as any other id of the catalog is
        answer = self.presenter.deleted(binding, last, call.rng)
        return Outcome(answer, empty=answer is None, changed=[last])

    def _list(self, binding: Binding, call: Call) -> Outcome:
        return self._kept(binding, call, self._parent(binding, call), self._page)

    def _kept(
        self, binding: Binding, call: Call, parent: str,
        make: Callable[[Binding, Call, str], Outcome],
    ) -> Outcome:  # fmt: skip
        """A read's answer, or the same request's answer kept from before while the
        resource's records are unchanged (their version, read first: see
        ``state.sqlite.versions``). A list page made anew was a third of a list request's
        CPU (the store's rows parsed, presented, the envelope composed and its page facts
        checked against their schemas, ~90 of ~260 µs); a kept one is a dictionary
        look-up. Kept only where the request's rng is seeded by the request alone, with
        that rng's state after the answer was made, so what is generated after it
        (declared headers) is the same either way. A read that fails (a 404) is not kept,
        nor anything where asking the version is a round trip of its own (Redis)."""
        key = _answer_key(binding, call, parent) if self.store.versions_are_local else None
        version = self.store.version(binding.resource.name) if key is not None else None
        if key is not None and version is not None:
            held = self._answers.get(key)
            if held is not None and held[0] == version:
                call.rng.setstate(held[2])
                return held[1]
        outcome = make(binding, call, parent)
        if key is not None and version is not None:
            if len(self._answers) >= _ANSWERS_KEPT:
                self._answers.clear()
            self._answers[key] = (version, outcome, call.rng.getstate())
        return outcome

    def _page(self, binding: Binding, call: Call, parent: str) -> Outcome:
        resource = binding.resource
        asked = self.listing.read(binding, call.query, parent)
        if binding.under:  # the items made under the parent it names (resources.under)
            asked.query.filters.update(under_filters(binding, call.path_params))
        items, total, start = self.store.query(call.tenant, resource.name, asked.query)
        # the store's dicts are this request's own: shown as they are unless fields are hidden
        presented = [self.presenter.present(resource, item, fresh=True) for item in items]
        facts = asked.facts(presented, total, start, resource.id_field)
        facts.path, facts.origin = call.request_path, call.origin_of()
        facts.key = binding.slot[-1] if binding.slot else None
        answer = self.presenter.envelope(binding, presented, call.rng, facts=facts)
        return Outcome(answer, links=facts.link_header())


def _answer_key(binding: Binding, call: Call, parent: str) -> tuple[Any, ...] | None:
    """What a read's answer depends on besides the records: the tenant, the operation, the
    path, the query (every value, in order), the origin its links name. None where the
    answer cannot be kept: its rng is not the request's alone, or a body was sent."""
    query = call.query
    if not call.repeatable or call.body is not None or not isinstance(query, MultiDict):
        return None
    pairs = tuple(query.items(multi=True))
    return (
        call.tenant, binding.operation.operation_id, parent, call.request_path, pairs,
        call.origin_of(),
    )  # fmt: skip


def _as_declared(binding: Binding, error: ApiError) -> ApiError:
    """A duplicate (409) answered 422 where the operation declares that and no 409: the
    spec's way of saying "already exists" (GitHub's labels, refs and repositories)."""
    operation = binding.operation
    if (
        error.status == 409
        and operation.response_for(409) is None
        and operation.response_for(422) is not None
    ):
        return dataclasses.replace(error, status=422)
    return error


def _nested_below_the_second_level(
    resources: dict[str, Resource],
) -> list[tuple[str, str]]:
    """(resource, its parent resource) for each resource whose parent has one too, top down:
    those whose records an older release kept under their parent's id alone (``reline``)."""
    found: list[tuple[int, str, str]] = []
    for resource in resources.values():
        depth, above = 0, resource.parent
        while above is not None:
            depth, above = depth + 1, above.parent
        if depth >= 2 and resource.parent is not None:
            found.append((depth, resource.name, resource.parent.name))
    return [(name, parent) for _, name, parent in sorted(found)]


def _gone(resource: Resource) -> str:
    """Where the ids deleted from a catalog the client cannot add to are kept: any other
    id of it is answered, these are 404s."""
    return f"{resource.name}#deleted"


def _gone_id(record_id: str, parent: str) -> str:
    """The deleted id with its parent's, kept under that parent: a user removed from one
    group is still in another. (The store kept one record per id whatever its parent when
    these were first written; state files keep them so, and they are found so.)"""
    return f"{parent}\x1f{record_id}" if parent else record_id
