"""Finding the stateful resources a spec describes, from its paths alone.

``/users`` with ``/users/{id}`` is a resource; ``/users/{userId}/orders`` is one nested in it;
``/users/bulk`` and ``/orders/{id}/cancel`` are actions, not items. ``x-sandbox-resource`` on a
path item or an operation overrides what is inferred (``false`` makes it stateless).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.spec.model import Operation, Spec, is_json_media
from sandbox.spec.schemas import merged, schema_types

_PARAM = re.compile(r"^\{([^{}]+)\}$")
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

    @property
    def id_schema(self) -> dict[str, Any]:
        properties = (self.item_schema or {}).get("properties") or {}
        schema = properties.get(self.id_field)
        return schema if isinstance(schema, dict) else {"type": "string"}


@dataclass
class Binding:
    """What an operation does to a resource, and where the resource sits in its response."""

    resource: Resource
    action: str  # list | create | read | replace | update | delete | bulk_create
    operation: Operation
    slot: list[str] = field(default_factory=list)
    bulk_field: str | None = None


_WRITES = ("create", "replace", "update")


def _segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/") if s]


def _shape(path: str) -> str:
    return "/" + "/".join("{}" if _PARAM.match(s) else s for s in _segments(path))


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

    def run(self) -> tuple[dict[str, Resource], dict[str, Binding]]:
        shapes = {_shape(path): path for path in self.by_path}
        for path in sorted(self.by_path, key=lambda p: len(_segments(p))):
            self._item_path(path, shapes)
        for path in sorted(self.by_path, key=lambda p: len(_segments(p))):
            self._collection_only(path)
        for path in self.by_path:
            self._bulk(path)
        return self.resources, self.bindings

    # -- resources ----------------------------------------------------------------------
    def _item_path(self, path: str, shapes: dict[str, str]) -> None:
        segments = _segments(path)
        if len(segments) < 2 or not _PARAM.match(segments[-1]) or _PARAM.match(segments[-2]):
            return
        collection = "/" + "/".join(segments[:-1])
        # either path may carry the override; `false` on either makes the resource stateless
        overrides = (_override(self.spec, path), _override(self.spec, collection))
        if False in overrides:
            return
        override = next((o for o in overrides if o is not None), None)
        resource = self._resource(collection, override)
        if resource is None:
            return
        resource.item_path = path
        resource.id_param = _PARAM.match(segments[-1]).group(1)  # type: ignore[union-attr]
        operations = self.by_path[path]
        for method, action in (
            ("GET", "read"),
            ("PUT", "replace"),
            ("PATCH", "update"),
            ("DELETE", "delete"),
        ):
            operation = operations.get(method)
            if operation is not None and _override(self.spec, path, operation) is not False:
                self._bind(resource, action, operation)
        self._collection_operations(resource)
        self._finish(resource)

    def _resource(self, collection: str, override: Any) -> Resource | None:
        if collection in self.resources:
            return self.resources[collection]
        segments = _segments(collection)
        if not segments or _PARAM.match(segments[-1]):
            return None
        name = segments[-1]
        resource = Resource(name=name, singular=singular(name), collection_path=collection)
        parent_shape = _shape("/" + "/".join(segments[:-1])) if len(segments) > 1 else None
        if parent_shape:
            for candidate in self.resources.values():
                if candidate.item_path and _shape(candidate.item_path) == parent_shape:
                    resource.parent = candidate
                    match = _PARAM.match(segments[-2])
                    resource.parent_param = match.group(1) if match else None
                    resource.name = f"{candidate.name}.{name}"
        taken = {other.name for other in self.resources.values()}
        if resource.name in taken:  # /v1/models and /v2/gen-ai/models keep their own records
            plain = [s for s in segments if not _PARAM.match(s)]
            resource.name = ".".join(plain)
        if isinstance(override, dict):
            resource.name = str(override.get("name", resource.name))
            resource.singular = str(override.get("singular", singular(resource.name)))
            resource.id_field = str(override.get("id_field", resource.id_field))
            resource.id_prefix = override.get("id_prefix")
            resource.unique = list(override.get("unique") or [])
        self.resources[collection] = resource
        return resource

    def _collection_operations(self, resource: Resource) -> None:
        operations = self.by_path.get(resource.collection_path, {})
        for method, action in (("GET", "list"), ("POST", "create")):
            operation = operations.get(method)
            if operation is None:
                continue
            if _override(self.spec, resource.collection_path, operation) is False:
                continue
            self._bind(resource, action, operation)

    def _collection_only(self, path: str) -> None:
        """A list without an item path (``GET /events``) is a read-only resource."""
        if path in self.resources or _override(self.spec, path) is False:
            return
        segments = _segments(path)
        if not segments or _PARAM.match(segments[-1]) or self._is_action(path):
            return
        listing = self.by_path[path].get("GET")
        if listing is None or self._list_slot(listing) is None:
            return
        resource = self._resource(path, _override(self.spec, path))
        if resource is None:
            return
        self._collection_operations(resource)
        self._finish(resource)

    def _is_action(self, path: str) -> bool:
        parent = "/" + "/".join(_segments(path)[:-1])
        return any(parent in (r.collection_path, r.item_path) for r in self.resources.values())

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
                binding = self._bind(resource, "bulk_create", operation)
                if binding is not None:
                    binding.bulk_field = name
                return

    # -- bindings and schemas -----------------------------------------------------------
    def _bind(self, resource: Resource, action: str, operation: Operation) -> Binding | None:
        slot = self._list_slot(operation) if action in ("list", "bulk_create") else None
        if action not in ("list", "bulk_create", "delete"):
            slot = self._item_slot(operation, resource)
        if slot is None and action in _WRITES and self._success_schema(operation) is None:
            slot = []  # a write that answers with no body ("201 Null response") still stores
        if slot is None and action != "delete":
            return None
        binding = Binding(resource, action, operation, slot or [])
        self.bindings[operation.operation_id] = binding
        return binding

    def _success_schema(self, operation: Operation) -> Any:
        for status in operation.success_statuses or [200]:
            found = operation.response_for(status)
            if found:
                return _json_schema(self.spec, (found[1] or {}).get("content"))
        return None

    def _list_slot(self, operation: Operation) -> list[str] | None:
        schema = merged(self.spec.deref, self._success_schema(operation))
        if not isinstance(schema, dict):
            return None
        if "array" in schema_types(schema) and "object" not in schema_types(schema):
            return []
        properties = schema.get("properties") or {}
        arrays = [n for n, p in properties.items() if "array" in schema_types(self.spec.deref(p))]
        for name in LIST_SLOTS:
            if name in arrays:
                return [name]
        return [arrays[0]] if len(arrays) == 1 else None

    def _item_slot(self, operation: Operation, resource: Resource) -> list[str] | None:
        schema = merged(self.spec.deref, self._success_schema(operation))
        if not isinstance(schema, dict) or "object" not in schema_types(schema):
            return None
        properties = schema.get("properties") or {}
        if resource.id_field in properties:
            return []
        for name in (*ITEM_SLOTS, resource.singular):
            prop = merged(self.spec.deref, properties.get(name))
            if isinstance(prop, dict) and resource.id_field in (prop.get("properties") or {}):
                return [name]
        return None

    def _finish(self, resource: Resource) -> None:
        """Settle the stored object's schema, id prefix and unique fields."""
        for binding in self.bindings.values():
            if binding.resource is not resource or binding.action == "delete":
                continue
            schema = self._success_schema(binding.operation)
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
            pattern = str(resource.id_schema.get("pattern", ""))
            prefix = re.match(r"^\^([A-Za-z]+_)", pattern)
            resource.id_prefix = prefix.group(1) if prefix else None
        if not resource.unique:
            resource.unique = list(resource.item_schema.get("x-sandbox-unique") or [])


def _json_schema(spec: Spec, content: Any) -> Any:
    if not isinstance(content, dict):
        return None
    for media_type, media in content.items():
        if is_json_media(media_type) and isinstance(media, dict):
            return media.get("schema")
    return None


def infer_resources(spec: Spec) -> tuple[dict[str, Resource], dict[str, Binding]]:
    return Inference(spec).run()
