"""Finding the stateful resources a spec describes, from its paths alone.

``/users`` with ``/users/{id}`` is a resource; ``/users/{userId}/orders`` is one nested in it;
``/users/bulk`` and ``/orders/{id}/cancel`` are actions, not items. ``x-sandbox-resource`` on a
path item or an operation overrides what is inferred (``false`` makes it stateless).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ConfigError
from sandbox.generation.nodes import shown_id_prefix
from sandbox.http.responder import PrefixedIds
from sandbox.resources.keys import KeyFinder, KeyPart
from sandbox.resources.naming import (
    ITEM_SEGMENT,
    answers_no_body,
    body_properties,
    id_field_for,
    is_partial_of,
    says_update,
    stem,
    words,
)
from sandbox.resources.under import settle_under
from sandbox.spec.model import Operation, Spec, is_json_media
from sandbox.spec.schemas import merged, schema_types
from sandbox.spec.words import norm

_PARAM = re.compile(r"^\{([^{}]+)\}$")
_PARAMS = re.compile(r"\{([^{}]+)\}")
ITEM_SLOTS = ("data", "item", "result", "resource", "object", "record")
LIST_SLOTS = ("data", "items", "results", "records", "entries", "list", "values", "rows")
BULK_WORDS = {"bulk", "batch", "import"}


@dataclass
class Resource:
    name: str
    singular: str
    collection_path: str
    item_path: str | None = None
    id_param: str | None = None
    id_field: str = "id"
    id_prefix: str | None = None
    item_schema: dict[str, Any] | None = None
    parent: Resource | None = None
    parent_param: str | None = None
    unique: list[str] = field(default_factory=list)
    id_rule: str = "the default id field"  # why id_field is what it is (sandbox check)
    path_id_schema: dict[str, Any] | None = None  # the item path parameter's own schema
    # where the key is not one top-level field (sandbox.resources.keys): () where it is
    key_parts: tuple[KeyPart, ...] = ()
    # its item path is a parent for the paths under it; an item two parameters name is not
    # (no record is looked up or made for /repos/{owner}/{repo}/labels), and the values
    # scope what is under it instead (``scope``)
    nests: bool = True
    # the parameters of paths it is created under that its own paths lack, each kept in a
    # field of the record's own that clients never see (sandbox.resources.under)
    recorded: frozenset[str] = frozenset()
    # the path parameters above its collection where no parent record stands for them
    # (``{owner}``, ``{repo}`` of ``/repos/{owner}/{repo}/labels``): their values scope its
    # records as a parent's id does (``sandbox.resources.records.scope_line``); () for a
    # nested resource, whose parent's line carries its parent's scope
    scope: tuple[str, ...] = ()

    @property
    def id_schema(self) -> dict[str, Any]:
        properties = (self.item_schema or {}).get("properties") or {}
        schema = properties.get(self.id_field)
        return schema if isinstance(schema, dict) else {"type": "string"}


@dataclass
class Binding:
    """What an operation does to a resource, and where the resource sits in its response."""

    resource: Resource
    action: str  # list | create | read | replace | update | delete | bulk_create | add | remove
    operation: Operation
    slot: list[str] = field(default_factory=list)
    bulk_field: str | None = None  # the body's list (bulk_create; add, remove: references)
    rule: str = ""  # why the operation is bound so (sandbox check)
    envelope: Any = None  # the oneOf branch answers are made in, where there is a choice
    # list, create: the path's parameters the resource's own collection path lacks
    # (``{pull_number}`` of ``/pulls/{pull_number}/comments``), and for a create the item's
    # fields that name them (``{org}``: a repository's ``owner.login``)
    under: tuple[str, ...] = ()
    fills: tuple[tuple[str, tuple[str, ...]], ...] = ()


_WRITES = ("create", "replace", "update")
# actions whose answer is the operation's declared one, not a record: no slot needed
_ANSWERED_AS_DECLARED = ("delete", "add", "remove", "check")


def _segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/") if s]


def _shape(path: str) -> str:
    """A path with every parameter (and an item's format suffix) as ``{}``."""
    return "/" + "/".join("{}" if ITEM_SEGMENT.match(s) else s for s in _segments(path))


def singular(name: str) -> str:
    lowered = name.lower()
    if lowered.endswith("ies") and len(name) > 3:
        return name[:-3] + "y"
    if lowered.endswith(("sses", "xes", "ches", "shes")):
        return name[:-2]
    if lowered.endswith("s") and not lowered.endswith("ss") and len(name) > 1:
        return name[:-1]
    return name


def _override(spec: Spec, path: str, operation: Operation | None = None) -> Any:
    if operation is not None and "x-sandbox-resource" in operation.raw:
        return operation.raw["x-sandbox-resource"]
    path_item = spec.deref((spec.document.get("paths") or {}).get(path)) or {}
    return path_item.get("x-sandbox-resource")


class Inference:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.by_path: dict[str, dict[str, Operation]] = {}
        for operation in spec.operations:
            self.by_path.setdefault(operation.path, {})[operation.method] = operation
        self.resources: dict[str, Resource] = {}
        self.bindings: dict[str, Binding] = {}
        self._chosen: dict[str, Any] = {}  # operationId -> the oneOf branch its slot is in
        self.keys = KeyFinder(spec)

    def run(self) -> tuple[dict[str, Resource], dict[str, Binding]]:
        shapes = {_shape(path): path for path in self.by_path}
        for path in sorted(self.by_path, key=lambda p: len(_segments(p))):
            self._item_path(path, shapes)
        for path in sorted(self.by_path, key=lambda p: len(_segments(p))):
            self._elsewhere(path)
        for path in sorted(self.by_path, key=lambda p: len(_segments(p))):
            self._collection_only(path)
        for path in self.by_path:
            self._bulk(path)
        self._query_keyed()
        settle_under(self.spec, self.bindings)
        for resource in self.resources.values():
            if resource.parent is None:
                resource.scope = tuple(_PARAMS.findall(resource.collection_path))
        return self.resources, self.bindings

    def _query_keyed(self) -> None:
        """An operation whose path key holds a query (``/responses?beta=true``) acts on what
        the plain path's operation of its method acts on: the same records, in its own
        answer's shape (bound only where that answer has a slot for them)."""
        for operation in self.spec.operations:
            if not operation.query_selector or operation.operation_id in self.bindings:
                continue
            plain = self.by_path.get(operation.route_path, {}).get(operation.method)
            binding = self.bindings.get(plain.operation_id) if plain is not None else None
            if binding is None or plain is None:
                continue
            rule = f"as {plain.key} does: its path key adds the query a request carries"
            self._bind(binding.resource, binding.action, operation, rule)

    # -- resources ----------------------------------------------------------------------
    def _item_path(self, path: str, shapes: dict[str, str]) -> None:
        segments = _segments(path)
        last = ITEM_SEGMENT.match(segments[-1]) if segments else None
        if len(segments) < 2 or last is None:
            return
        params = [last.group(1)]
        before = ITEM_SEGMENT.match(segments[-2])
        if before is not None:  # /repos/{owner}/{repo}: an item two parameters name
            if len(segments) < 3 or ITEM_SEGMENT.match(segments[-3]) or before.group(2):
                return
            params.insert(0, before.group(1))
        # /Messages/{Sid}.json is an item of /Messages.json: the suffix goes with both
        collection = "/" + "/".join(segments[: -len(params)]) + (last.group(2) or "")
        if len(params) > 1 and collection in self.resources:
            return
        # either path may carry the override; `false` on either makes the resource stateless
        overrides = (_override(self.spec, path), _override(self.spec, collection))
        if False in overrides:
            return
        override = next((o for o in overrides if o is not None), None)
        known = collection in self.resources
        resource = self._resource(collection, override)
        if resource is None:
            return
        operations = self.by_path[path]
        if not self._settle_id(resource, operations, override, params):
            if not known:  # two parameters, not both found in the item: not one item
                del self.resources[collection]
            return
        resource.item_path = path
        resource.id_param = last.group(1)
        resource.nests = len(params) == 1
        resource.path_id_schema = self.keys.param_schema(operations, resource.id_param)
        rule = f"item path {path}"
        for method, action in (
            ("GET", "read"),
            ("PUT", "replace"),
            ("PATCH", "update"),
            ("POST", "update"),
            ("DELETE", "delete"),
        ):
            operation = operations.get(method)
            if operation is None or _override(self.spec, path, operation) is False:
                continue
            why = rule
            if method == "POST":
                why = self._post_updates(resource, operation)
                if not why:
                    continue
            if method == "GET" and answers_no_body(self.spec, operation):
                action, why = "check", f"{rule}: GET answers yes (2xx) or no (404), no body"
            self._bind(resource, action, operation, why)
        self._collection_operations(resource)
        self._finish(resource)

    def _resource(self, collection: str, override: Any) -> Resource | None:
        if collection in self.resources:
            return self.resources[collection]
        segments = _segments(collection)
        if not segments or ITEM_SEGMENT.match(segments[-1]):
            return None
        name = stem(segments[-1])
        resource = Resource(name=name, singular=singular(name), collection_path=collection)
        parent_shape = _shape("/" + "/".join(segments[:-1])) if len(segments) > 1 else None
        if parent_shape:
            for candidate in self.resources.values():
                if (
                    candidate.nests
                    and candidate.item_path
                    and _shape(candidate.item_path) == parent_shape
                ):
                    resource.parent = candidate
                    match = _PARAM.match(segments[-2])
                    resource.parent_param = match.group(1) if match else None
                    resource.name = f"{candidate.name}.{name}"
        taken = {other.name for other in self.resources.values()}
        plain = ".".join(stem(s) for s in segments if not ITEM_SEGMENT.match(s))
        if resource.name in taken:  # /v1/models and /v2/gen-ai/models keep their own records
            resource.name = plain
        number = 1  # still taken (/repositories after /user/installations/{id}/repositories,
        while resource.name in taken:  # which was named first): numbered, never shared
            number += 1
            resource.name = f"{plain}~{number}"
        if isinstance(override, dict):
            resource.name = str(override.get("name", resource.name))
            resource.singular = str(override.get("singular", singular(resource.name)))
            if "id_field" in override:
                resource.id_field = str(override["id_field"])
                resource.id_rule = "x-sandbox-resource id_field"
            resource.id_prefix = override.get("id_prefix")
            resource.unique = list(override.get("unique") or [])
        self.resources[collection] = resource
        return resource

    def _collection_operations(self, resource: Resource) -> None:
        operations = self.by_path.get(resource.collection_path, {})
        for method, action in (("GET", "list"), ("POST", "create")):
            operation = operations.get(method)
            if operation is None or operation.operation_id in self.bindings:
                continue  # bound already, to a resource whose items live elsewhere
            if _override(self.spec, resource.collection_path, operation) is False:
                continue
            self._bind(resource, action, operation, f"collection path {resource.collection_path}")

    def _collection_only(self, path: str) -> None:
        """A list without an item path (``GET /events``) is a read-only resource; under an
        item, one only where the same path adds to it (``/playlists/{id}/items``: POST adds
        tracks by reference, DELETE names those to remove), else it is an action's path or
        a catalog (an album's tracks) answered statelessly."""
        if path in self.resources or _override(self.spec, path) is False:
            return
        segments = _segments(path)
        if not segments or ITEM_SEGMENT.match(segments[-1]):
            return
        adds = self._list_body(self.by_path[path].get("POST"))
        if self._is_action(path) and adds is None:
            return
        listing = self.by_path[path].get("GET")
        if listing is None or listing.operation_id in self.bindings:
            return
        if self._list_slot(listing) is None:
            return
        resource = self._resource(path, _override(self.spec, path))
        if resource is None:
            return
        self._collection_operations(resource)
        for method, action, field_name in (
            ("POST", "add", adds),
            ("DELETE", "remove", self._list_body(self.by_path[path].get("DELETE"))),
        ):
            operation = self.by_path[path].get(method)
            if operation is None or field_name is None or operation.operation_id in self.bindings:
                continue
            why = f"{method} {path} sends the list's {field_name!r}"
            binding = self._bind(resource, action, operation, why)
            if binding is not None:
                binding.bulk_field = field_name
        self._finish(resource)

    def _list_body(self, operation: Operation | None) -> str | None:
        """The name of the JSON body's only array property (what is added or removed),
        where it is all the body may require."""
        if operation is None or _override(self.spec, operation.path, operation) is False:
            return None
        body = _json_schema(self.spec, (operation.request_body or {}).get("content"))
        body = merged(self.spec.deref, body)
        if not isinstance(body, dict):
            return None
        lists = [
            name
            for name, prop in (body.get("properties") or {}).items()
            if "array" in schema_types(merged(self.spec.deref, prop))
        ]
        if len(lists) != 1 or not set(body.get("required") or []) <= set(lists):
            return None  # a body that needs more says more than "these" (GitHub's reviews)
        return lists[0]

    def _settle_id(
        self, resource: Resource, operations: dict[str, Operation], override: Any,
        params: list[str],
    ) -> bool:  # fmt: skip
        """The item's key, by meaning (``KeyFinder``): one field of its own, a field of an
        object it holds, or the values of two parameters. An item two parameters name needs
        both (False where one is not found: no such item). An item with no collection path
        whose PUT makes it, and which shows no key at all, is named by its path alone."""
        if resource.id_rule == "x-sandbox-resource id_field":
            return len(params) == 1
        resource.id_param = params[-1]
        shown_at = [
            self._item_properties(operation, resource)
            for method in ("GET", "PUT", "PATCH", "POST", "DELETE")
            if (operation := operations.get(method)) is not None
        ]
        if not any(shown_at):  # the item path answers no body (GET /user/following/{username}
            shown_at = [self._listed_properties(resource)]  # answers 204): its list's items
        found = self.keys.find(operations, params, resource.singular, shown_at)
        if found:
            shown = ", ".join(f"{{{p.param}}} names {'.'.join(p.field)!r}" for p in found)
            resource.id_field, resource.id_rule = found[-1].field[0], shown
            if len(found) > 1 or len(found[0].field) > 1:
                resource.key_parts = found
            return True
        if len(params) > 1:
            return False
        if "PUT" in operations and resource.collection_path not in self.by_path:
            resource.key_parts = (KeyPart(params[0], ()),)
            resource.id_field = ""
            resource.id_rule = f"{{{params[0]}}} alone: its PUT makes it, and it shows no key"
        return True

    def _listed_properties(self, resource: Resource) -> dict[str, Any]:
        """The properties of the items the resource's collection path lists."""
        listing = self.by_path.get(resource.collection_path, {}).get("GET")
        slot = self._list_slot(listing) if listing is not None else None
        if listing is None or slot is None:
            return {}
        schema = merged(self.spec.deref, self.envelope(listing))
        for name in slot:
            schema = merged(self.spec.deref, (schema.get("properties") or {}).get(name))
            if not isinstance(schema, dict):
                return {}
        items = merged(self.spec.deref, schema.get("items")) if isinstance(schema, dict) else None
        properties = items.get("properties") if isinstance(items, dict) else None
        return dict(properties) if isinstance(properties, dict) else {}

    def _item_properties(self, operation: Operation, resource: Resource) -> dict[str, Any]:
        """The properties of the item an operation answers with: the body's own, or those of
        the object in its slot (``{"droplet": {...}}``) when the body has no id of its own."""
        schemas = [b for b in self._branches(operation) if isinstance(b, dict)]
        schema = next((b for b in schemas if b.get("properties")), None)
        if schema is None:
            return {}
        properties = schema.get("properties") or {}
        param = resource.id_param or "id"
        if id_field_for(param, resource.singular, properties) is not None:
            return dict(properties)
        for name in _slot_names(properties, resource.singular):
            inner = merged(self.spec.deref, properties.get(name))
            if isinstance(inner, dict) and isinstance(inner.get("properties"), dict):
                return dict(inner["properties"])
        return dict(properties)

    def _post_updates(self, resource: Resource, operation: Operation) -> str:
        """Why a POST on an item path updates the item ("" when it does not): its own words
        say so (``modifyVectorStore``, ``UpdateMessage``), or its body is a partial of the
        item (Stripe's ``POST /v1/customers/{customer}``)."""
        if says_update(operation):
            return f"POST on item path {operation.path}: {operation.operation_id} says update"
        read = self.by_path[operation.path].get("GET")
        item = self._item_properties(read, resource) if read else {}
        if is_partial_of(body_properties(self.spec, operation), item):
            return f"POST on item path {operation.path}: its body is a partial of the item"
        return ""

    def _elsewhere(self, path: str) -> None:
        """A list or create of a resource whose items live at another path (Spotify creates
        at ``POST /me/playlists`` and reads at ``/playlists/{playlist_id}``): bound where the
        path names the resource and the operation answers with its items."""
        segments = _segments(path)
        if not segments or ITEM_SEGMENT.match(segments[-1]) or path in self.resources:
            return
        name = norm(stem(segments[-1]))
        candidates = [
            r
            for r in self.resources.values()
            if r.item_path
            and r.item_schema is not None
            and norm(stem(_segments(r.collection_path)[-1])) == name
        ]
        asked = [
            (action, operation)
            for method, action in (("GET", "list"), ("POST", "create"))
            if (operation := self.by_path[path].get(method)) is not None
        ]
        same = [r for r in candidates if any(self._same_item(r, o, a) for a, o in asked)]
        if len(candidates) > 1:  # several of that name: the one whose item schema it answers
            candidates = same if len(same) == 1 else [r for r in candidates if r.parent is None]
        if len(candidates) != 1:  # or else the one at the top, where only one is
            return
        resource = candidates[0]
        if resource.parent is not None and f"{{{resource.parent_param}}}" not in segments:
            return  # a nested item is made only where its path names the parent (not a run
            # of a thread at POST /threads/runs, which makes the thread too)
        parent = _shape("/" + "/".join(segments[:-1]))
        if any(
            r.nests and r.item_path and _shape(r.item_path) == parent
            for r in self.resources.values()
        ) and (
            resource.parent is not None
            or (resource.collection_path in self.by_path and not self._made_here(resource, asked))
        ):  # a sub-collection of an item (/playlists/{id}/tracks), not the resource; unless
            # it is a top resource that has no list of its own (/orgs/{org}/repos makes repos)
            return  # or is made nowhere else, here as its very schema (/pulls/{n}/comments)
        for method, action in (("GET", "list"), ("POST", "create")):
            operation = self.by_path[path].get(method)
            if operation is None or operation.operation_id in self.bindings:
                continue
            if _override(self.spec, path, operation) is False:
                continue
            why = self._answers_items(resource, operation, action)
            if why:
                self._bind(resource, action, operation, why)

    def _made_here(self, resource: Resource, asked: list[tuple[str, Operation]]) -> bool:
        """The resource is created nowhere else, and here with its very item schema."""
        made = any(b.resource is resource and b.action == "create" for b in self.bindings.values())
        return not made and any(
            action == "create" and self._same_item(resource, operation, action)
            for action, operation in asked
        )

    def _same_item(self, resource: Resource, operation: Operation, action: str) -> bool:
        """Whether ``operation`` lists or answers the very schema ``resource``'s items are
        (the same component: GitHub lists pull request comments under a pull request and
        reads them at ``/pulls/comments/{comment_id}``)."""
        if action == "list":
            slot = self._list_slot(operation)
        else:
            slot = self._item_slot(operation, resource)
        if slot is None:
            return False
        schema = merged(self.spec.deref, self.envelope(operation))
        for name in slot:
            schema = merged(self.spec.deref, (schema.get("properties") or {}).get(name))
            if not isinstance(schema, dict):
                return False
        if action == "list" and isinstance(schema, dict):
            schema = merged(self.spec.deref, schema.get("items"))
        wanted = resource.item_schema
        return isinstance(schema, dict) and (schema is wanted or schema == wanted)

    def _answers_items(self, resource: Resource, operation: Operation, action: str) -> str:
        """Why ``operation`` lists or creates ``resource``'s items ("" when it does not)."""
        schema = merged(self.spec.deref, self._success_schema(operation))
        own = set((resource.item_schema or {}).get("properties") or {})
        where = f"{operation.method} {operation.path}"
        if action == "list":
            slot = self._list_slot(operation)
            for name in slot or []:
                schema = merged(self.spec.deref, (schema.get("properties") or {}).get(name))
            items = merged(self.spec.deref, schema.get("items")) if slot is not None else None
            if isinstance(items, dict) and resource.id_field in (items.get("properties") or {}):
                return f"{where} lists items with the resource's {resource.id_field!r}"
            return ""
        slot = self._item_slot(operation, resource)
        for name in slot or []:
            schema = merged(self.spec.deref, (schema.get("properties") or {}).get(name))
        if slot is None or not isinstance(schema, dict):
            return ""
        if set(schema.get("properties") or {}) == own:
            return f"{where} answers with the resource's item schema"
        said = words(operation.operation_id)
        if "create" in said and norm(resource.singular) in norm(operation.operation_id):
            return f"{where}: {operation.operation_id} creates a {resource.singular}"
        return ""

    def _is_action(self, path: str) -> bool:
        parent = "/" + "/".join(_segments(path)[:-1])
        return any(
            parent in (r.collection_path, r.item_path) and (r.nests or parent != r.item_path)
            for r in self.resources.values()
        )

    def _bulk(self, path: str) -> None:
        segments = _segments(path)
        if len(segments) < 2 or segments[-1].lower() not in BULK_WORDS:
            return
        resource = self.resources.get("/" + "/".join(segments[:-1]))
        operation = self.by_path[path].get("POST")
        if resource is None or operation is None or resource.item_schema is None:
            return
        body = _json_schema(self.spec, (operation.request_body or {}).get("content"))
        body = merged(self.spec.deref, body)
        if not isinstance(body, dict):
            return
        for name, prop in (body.get("properties") or {}).items():
            if "array" in schema_types(self.spec.deref(prop)):
                binding = self._bind(resource, "bulk_create", operation, f"bulk path {path}")
                if binding is not None:
                    binding.bulk_field = name
                return

    # -- bindings and schemas -----------------------------------------------------------
    def _bind(
        self, resource: Resource, action: str, operation: Operation, rule: str = ""
    ) -> Binding | None:
        slot = self._list_slot(operation) if action in ("list", "bulk_create") else None
        if action not in ("list", "bulk_create", "delete"):
            slot = self._item_slot(operation, resource)
        if slot is None and action in _WRITES and self._answers_nothing(operation):
            slot = []  # a write that answers with no body ("201 Null response") still stores
        if slot is None and action not in _ANSWERED_AS_DECLARED:
            return None
        binding = Binding(resource, action, operation, slot or [], rule=rule)
        binding.envelope = self._chosen.get(operation.operation_id)
        self.bindings[operation.operation_id] = binding
        return binding

    def _answers_nothing(self, operation: Operation) -> bool:
        """No body, or an object that says nothing of its members (GitHub's ``PUT`` of a
        secret answers ``201 {}``): the answer holds no item, and the write still stores."""
        schema = merged(self.spec.deref, self._success_schema(operation))
        if not isinstance(schema, dict):
            return schema is None
        said = ("properties", "items", "oneOf", "anyOf", "additionalProperties", "$ref")
        return schema_types(schema) <= {"object"} and not any(schema.get(k) for k in said)

    def _success_schema(self, operation: Operation) -> Any:
        for status in operation.success_statuses or [200]:
            found = operation.response_for(status)
            if found:
                return _json_schema(self.spec, (found[1] or {}).get("content"))
        return None

    def _branches(self, operation: Operation) -> list[Any]:
        """The answer's schema, then each branch of a top-level ``oneOf``/``anyOf`` ("one
        droplet or many"): a slot is looked for in each, first found wins."""
        schema = merged(self.spec.deref, self._success_schema(operation))
        if not isinstance(schema, dict) or schema.get("properties"):
            return [schema]
        branches = schema.get("oneOf") or schema.get("anyOf") or []
        return [schema, *(merged(self.spec.deref, b) for b in branches if isinstance(b, dict))]

    def _list_slot(self, operation: Operation) -> list[str] | None:
        for schema in self._branches(operation):
            slot = self._list_slot_in(schema)
            if slot is not None:
                self._chosen[operation.operation_id] = schema
                return slot
        return None

    def _item_slot(self, operation: Operation, resource: Resource) -> list[str] | None:
        for schema in self._branches(operation):
            slot = self._item_slot_in(schema, resource)
            if slot is not None:
                self._chosen[operation.operation_id] = schema
                return slot
        return None

    def envelope(self, operation: Operation) -> Any:
        """The schema (a branch of a ``oneOf``, where one was chosen) an answer is made in."""
        return self._chosen.get(operation.operation_id, self._success_schema(operation))

    def _list_slot_in(self, schema: Any) -> list[str] | None:
        if not isinstance(schema, dict):
            return None
        if "array" in schema_types(schema) and "object" not in schema_types(schema):
            return []
        properties = schema.get("properties") or {}
        # merged: a field given as an allOf whose parts say no type (DigitalOcean's meta is
        # allOf [meta_properties, {required: [total]}]) is the object its parts make, not
        # "any type", which would count it as a second array and hide the list
        arrays = [
            n for n, p in properties.items()
            if "array" in schema_types(merged(self.spec.deref, p))
        ]  # fmt: skip
        for name in LIST_SLOTS:
            if name in arrays:
                return [name]
        # an object with an id of its own is one thing with a list in it (Spotify's user
        # profile and its images), not a page of that list
        if len(arrays) == 1 and "id" not in {norm(n) for n in properties}:
            return [arrays[0]]
        return None

    def _item_slot_in(self, schema: Any, resource: Resource) -> list[str] | None:
        if not isinstance(schema, dict) or "object" not in schema_types(schema):
            return None
        properties = schema.get("properties") or {}
        if resource.id_field in properties or (resource.key_parts and not resource.id_field):
            return [] if properties else None  # (no id field: the path alone names it)
        for name in _slot_names(properties, resource.singular):
            prop = merged(self.spec.deref, properties.get(name))
            if isinstance(prop, dict) and resource.id_field in (prop.get("properties") or {}):
                return [name]
        return None

    def _finish(self, resource: Resource) -> None:
        """Settle the stored object's schema, id prefix and unique fields."""
        for binding in self.bindings.values():
            if binding.resource is not resource or binding.action in _ANSWERED_AS_DECLARED:
                continue
            schema = self.envelope(binding.operation)
            for name in binding.slot:
                schema = (merged(self.spec.deref, schema).get("properties") or {}).get(name)
            schema = merged(self.spec.deref, schema)
            if binding.action in ("list", "bulk_create") and isinstance(schema, dict):
                schema = merged(self.spec.deref, schema.get("items"))
            if isinstance(schema, dict) and (schema.get("properties") or {}):
                resource.item_schema = schema
                break
        if resource.item_schema is None:
            for key, binding in list(self.bindings.items()):
                if binding.resource is resource:
                    del self.bindings[key]
            return
        if resource.id_prefix is None:
            resource.id_prefix = self._id_prefix(resource)
        if not resource.unique:
            resource.unique = list(resource.item_schema.get("x-sandbox-unique") or [])

    def _id_prefix(self, resource: Resource) -> str | None:
        """The prefix the id schema's pattern starts with (``^cus_``), else the one its
        examples or description show (``cus_NffrFeU``, "prefixed with `ch_`")."""
        schema = self.spec.deref(resource.id_schema)
        prefix = re.match(r"^\^([A-Za-z]+_)", str(schema.get("pattern", "")))
        if prefix:
            return prefix.group(1)
        examples = [schema["example"]] if "example" in schema else []
        examples += schema.get("examples") if isinstance(schema.get("examples"), list) else []
        return shown_id_prefix(examples, str(schema.get("description") or ""))


def apply_id_prefixes(resources: dict[str, Resource], prefixes: dict[str, str]) -> None:
    """Settings' ``id_prefixes`` (resource name as ``sandbox check`` lists it -> prefix):
    ids made for that resource start with it, where the spec shows none (Stripe's spec has
    no example ids, and its SDK users expect ``cus_``)."""
    by_name = {resource.name: resource for resource in resources.values()}
    for name, prefix in prefixes.items():
        if name not in by_name:
            known = ", ".join(sorted(n for n, r in by_name.items() if r.item_schema is not None))
            raise ConfigError(
                f"id_prefixes names {name!r}, which is not a resource of this spec; "
                f"`sandbox check` lists them: {known}"
            )
        by_name[name].id_prefix = str(prefix)


def prefixed_ids(bindings: dict[str, Binding]) -> dict[str, PrefixedIds]:
    """operationId -> where its answer holds records whose ids take their resource's prefix,
    for answers made without the store (``--stateless``): a created customer is ``cus_…``
    there too, as stripe-mock answers."""
    return {
        key: PrefixedIds(tuple(b.slot), b.resource.id_field, b.resource.id_prefix)
        for key, b in bindings.items()
        if b.resource.id_prefix and b.action not in _ANSWERED_AS_DECLARED
    }


def _slot_names(properties: dict[str, Any], singular: str) -> list[str]:
    """Where an answer may hold its item, in order: the usual slots, the item's own name, a
    name for it qualified either way (DigitalOcean's ``domain_record`` of a record,
    ``evaluation_run`` of a ``model_evaluation_run``), and an answer's only member (an alert
    answered as ``{"policy": {...}}``)."""
    own = norm(singular)
    qualified = [n for n in properties if own and (norm(n).endswith(own) or own.endswith(norm(n)))]
    alone = list(properties) if len(properties) == 1 else []
    return list(dict.fromkeys([*ITEM_SLOTS, singular, *qualified, *alone]))


def _json_schema(spec: Spec, content: Any) -> Any:
    if not isinstance(content, dict):
        return None
    for media_type, media in content.items():
        if is_json_media(media_type) and isinstance(media, dict):
            return media.get("schema")
    return None


def infer_resources(spec: Spec) -> tuple[dict[str, Resource], dict[str, Binding]]:
    return Inference(spec).run()
