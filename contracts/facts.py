"""What the spec says beyond single schemas: the conventions our checks hold a server to.

Schemathesis checks each response against its own schema. A contract also has conventions
that span operations (every success wrapped in the same envelope, one error shape, the
rate-limit headers) and relations between requests (a created thing can be read back, a
page holds at most ``limit`` items). These are read from the spec once, here.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sandbox.spec.model import Operation, Spec, is_json_media
from sandbox.spec.schemas import SchemaChecks, merged

LIMIT_NAMES = ("limit", "per_page", "perpage", "page_size", "pagesize", "size")
PAGE_NAMES = ("page", "page_number", "pagenumber")
RATE_LIMIT_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


@dataclass(frozen=True)
class Envelope:
    """The wrapper most success bodies share: ``{status: "success", data, meta}``."""

    required: tuple[str, ...]
    status_value: str | None  # the value of ``status`` when the spec pins one


@dataclass(frozen=True)
class Paging:
    limit_param: str | None
    page_param: str | None
    default_limit: int | None
    min_limit: int
    max_limit: int | None


@dataclass
class ContractFacts:
    spec: Spec
    checks: SchemaChecks = field(init=False)

    def __post_init__(self) -> None:
        self.checks = SchemaChecks(self.spec.document, self.spec.version)

    # -- lookup ------------------------------------------------------------------------
    def operation(self, method: str, path: str) -> Operation | None:
        for operation in self.spec.operations:
            if operation.method == method.upper() and operation.path == path:
                return operation
        return None

    def json_schema(self, declared: dict[str, Any] | None) -> Any:
        """The JSON media type's schema of a declared response, or None."""
        return self.spec.deref(_json_schema_node(self.spec, declared))

    def request_schema(self, operation: Operation) -> Any:
        """The JSON request body's schema, or None."""
        return _json_schema_node(self.spec, operation.request_body)

    def full(self, schema: Any) -> dict[str, Any]:
        """A schema with its refs and allOf merged, for reading properties."""
        found = merged(self.spec.deref, self.spec.deref(schema))
        return found if isinstance(found, dict) else {}

    # -- conventions -------------------------------------------------------------------
    @cached_property
    def envelope(self) -> Envelope | None:
        """The success envelope, when most 2xx JSON bodies require ``data`` (and the same
        other members); None when the spec has no such convention."""
        shapes: Counter[tuple[str, ...]] = Counter()
        status_values: Counter[str] = Counter()
        total = 0
        for operation in self.spec.operations:
            for code, declared in operation.responses.items():
                if not (code.isdigit() and 200 <= int(code) < 300):
                    continue
                schema = self.json_schema(declared)
                if schema is None:
                    continue
                total += 1
                body = self.full(schema)
                required = tuple(sorted(n for n in body.get("required") or [] if n != "meta"))
                if "data" in required:
                    shapes[required] += 1
                    pinned = _pinned((body.get("properties") or {}).get("status"), self)
                    if pinned is not None:
                        status_values[pinned] += 1
        if not shapes or sum(shapes.values()) * 2 < total:
            return None
        required = shapes.most_common(1)[0][0]
        status = status_values.most_common(1)[0][0] if status_values else None
        return Envelope(required, status)

    @cached_property
    def error_schema(self) -> Any:
        """The error schema the spec uses most, for statuses an operation does not declare."""
        seen: Counter[str] = Counter()
        schemas: dict[str, Any] = {}
        for operation in self.spec.operations:
            for code, declared in operation.responses.items():
                if code[:1] in ("4", "5") or code == "default":
                    raw = _json_schema_node(self.spec, declared)
                    if raw is None:
                        continue
                    key = repr(raw)
                    seen[key] += 1
                    schemas[key] = raw
        return schemas[seen.most_common(1)[0][0]] if seen else None

    def error_schema_for(self, operation: Operation | None, status: int) -> Any:
        if operation is not None:
            found = operation.response_for(status)
            if found is not None:
                schema = self.json_schema(found[1])
                if schema is not None:
                    return schema
        return self.error_schema

    def declared_headers(self, operation: Operation, status: int) -> set[str]:
        found = operation.response_for(status)
        if found is None:
            return set()
        declared = self.spec.deref(found[1]) or {}
        return {name.lower() for name in (declared.get("headers") or {})}

    @cached_property
    def uses_rate_limit_headers(self) -> bool:
        return any(
            RATE_LIMIT_HEADERS[1] in self.declared_headers(operation, int(code))
            for operation in self.spec.operations
            for code in operation.responses
            if code.isdigit()
        )

    # -- resources ---------------------------------------------------------------------
    def item_read(self, collection_path: str) -> Operation | None:
        """``GET /things/{id}`` for ``/things``."""
        for operation in self.spec.operations:
            if operation.method != "GET":
                continue
            head, _, tail = operation.path.rstrip("/").rpartition("/")
            if head == collection_path.rstrip("/") and _is_template(tail):
                return operation
        return None

    def is_item_path(self, path: str) -> bool:
        return _is_template(path.rstrip("/").rpartition("/")[2])

    def paging(self, operation: Operation) -> Paging | None:
        limit = page = None
        default = None
        low, high = 1, None
        for parameter in operation.parameters:
            if parameter.location != "query":
                continue
            name = parameter.name.lower().replace("-", "_")
            schema = self.full(parameter.schema)
            if name in LIMIT_NAMES and "integer" in _types(schema):
                limit = parameter.name
                default = schema.get("default") if isinstance(schema.get("default"), int) else None
                low = int(schema.get("minimum", 1) or 1)
                high = schema.get("maximum") if isinstance(schema.get("maximum"), int) else None
            elif name in PAGE_NAMES and "integer" in _types(schema):
                page = parameter.name
        if limit is None and page is None:
            return None
        return Paging(limit, page, default, low, high)

    def writes_only(self, operation: Operation) -> set[str]:
        """Request fields the response never shows back (writeOnly, or named like secrets)."""
        schema = self.request_schema(operation)
        hidden = set()
        for name, prop in (self.full(schema).get("properties") or {}).items():
            prop = self.full(prop)
            if prop.get("writeOnly") or re.search(r"pass(word)?|secret", name, re.I):
                hidden.add(name)
        return hidden


def _json_schema_node(spec: Spec, declared: Any) -> Any:
    """The schema of the first JSON media type of a response or request body, unresolved."""
    content = (spec.deref(declared or {}) or {}).get("content") or {}
    for media_type, media in content.items():
        if is_json_media(media_type):
            return (media or {}).get("schema")
    return None


def _pinned(schema: Any, facts: ContractFacts) -> str | None:
    schema = facts.full(schema)
    if isinstance(schema.get("const"), str):
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str):
        return enum[0]
    return None


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()


def _is_template(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")
