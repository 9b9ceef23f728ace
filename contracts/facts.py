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

from sandbox.resources.inference import singular
from sandbox.resources.keys import KeyFinder, KeyPart
from sandbox.resources.naming import stem
from sandbox.spec.documents import escape_pointer_token
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
    first_page: int = 1  # 0 where pages count from zero (Twilio's Page has minimum 0)


@dataclass(frozen=True)
class ErrorSchema:
    """An error schema, why it applies, and where the spec says so."""

    schema: Any
    source: str
    pointer: str


@dataclass
class ContractFacts:
    spec: Spec
    checks: SchemaChecks = field(init=False)  # responses: readOnly allowed
    request_checks: SchemaChecks = field(init=False)  # requests: writeOnly allowed

    _keys: dict[str, tuple[KeyPart, ...]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.checks = SchemaChecks(self.spec.document, self.spec.version)
        self.request_checks = SchemaChecks(self.spec.document, self.spec.version, mode="request")

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

    def error_schema_for(self, operation: Operation, status: int) -> ErrorSchema | None:
        """The schema an error answer is judged by: the operation's own for that status;
        else one the spec itself shows is common (the same status declared with one schema
        elsewhere, or the ``default`` responses); else None, and the body is not judged."""
        found = operation.response_for(status)
        if found is not None:
            schema = self.json_schema(found[1])
            if schema is None:
                return None
            where = f"declared for {found[0]} on this operation"
            return ErrorSchema(schema, where, f"{pointer_of(operation)}/responses/{found[0]}")
        return self.common_error_schema(status)

    def common_error_schema(self, status: int) -> ErrorSchema | None:
        common = self._common_error_schemas
        return common.get(str(status)) or common.get("default")

    @cached_property
    def _common_error_schemas(self) -> dict[str, ErrorSchema]:
        """Per status (and ``default``), the one schema every other declaration agrees on."""
        seen: dict[str, Counter[str]] = {}
        raw: dict[str, tuple[Any, Operation]] = {}
        for operation in self.spec.operations:
            for code, declared in operation.responses.items():
                if not (code[:1] in ("4", "5") and code.isdigit()) and code != "default":
                    continue
                node = _json_schema_node(self.spec, declared)
                if node is None:
                    continue
                key = repr(node)
                seen.setdefault(code, Counter())[key] += 1
                raw.setdefault(key, (node, operation))
        common = {}
        for code, counts in seen.items():
            if len(counts) != 1:  # the spec itself disagrees: no convention to hold anyone to
                continue
            key, times = counts.most_common(1)[0]
            node, example = raw[key]
            schema = self.spec.deref(node)
            what = "default response" if code == "default" else f"{code} response"
            common[code] = ErrorSchema(
                schema,
                f"not declared here; the spec declares this schema as the {what} of {times} "
                f"operation(s)",
                f"{pointer_of(example)}/responses/{code}",
            )
        return common

    def error_fields(self, schema: Any) -> list[tuple[tuple[str, ...], str]]:
        """The code- and message-like string fields an error schema defines, as (path, kind):
        only these are asked to be non-empty."""
        found: list[tuple[tuple[str, ...], str]] = []
        body = self.full(schema)
        for prefix, node in [((), body), *self._nested_error(body)]:
            for name, prop in (node.get("properties") or {}).items():
                prop = self.full(prop)
                if "string" not in _types(prop) and _types(prop):
                    continue
                kind = _field_kind(name)
                if kind is not None:
                    found.append(((*prefix, name), kind))
        return found

    def _nested_error(self, body: dict[str, Any]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
        inner = (body.get("properties") or {}).get("error")
        inner = self.full(inner) if inner is not None else {}
        return [(("error",), inner)] if inner.get("properties") else []

    def accepts_request(self, operation: Operation, body: Any) -> bool:
        """Whether ``body`` is a request the operation's schema accepts (a server that keeps
        nothing of a body it should have refused is judged by other checks)."""
        schema = self.request_schema(operation)
        if schema is None:
            return True
        return self.request_checks.is_valid(self.spec.deref(schema), body)

    def carries(self, operation: Operation, status: int, name: str, value: Any) -> bool:
        """Whether the operation's answer for ``status`` can hold ``value`` in its record's
        field ``name`` (inside an envelope's ``data`` too). Where it cannot, the spec gives
        the name two meanings (GitHub's ``milestone``: a number sent, an object answered),
        and no server can show the value back; where the spec does not say, it can."""
        found = operation.response_for(status)
        body = self.full(self.json_schema(found[1])) if found is not None else {}
        properties = body.get("properties") or {}
        record = self.full(properties.get("data")).get("properties")  # as record_of reads it
        properties = record if isinstance(record, dict) else properties
        if name not in properties and len(properties) == 1:  # {"evaluation_test_case": {...}}
            properties = self.full(next(iter(properties.values()))).get("properties") or {}
        field_schema = self.spec.deref(properties.get(name))
        return field_schema is None or self.checks.is_valid(field_schema, value)

    def header_descriptions(self, name: str) -> list[str]:
        """What the spec says of a response header, wherever it declares it."""
        found: list[str] = []
        for operation in self.spec.operations:
            for declared in operation.responses.values():
                headers = (self.spec.deref(declared) or {}).get("headers") or {}
                for key, header in headers.items():
                    if key.lower() != name.lower():
                        continue
                    header = self.spec.deref(header) or {}
                    schema = self.full(header.get("schema"))
                    for text in (header.get("description"), schema.get("description")):
                        if isinstance(text, str) and text not in found:
                            found.append(text)
        return found

    def declared_headers(self, operation: Operation, status: int) -> set[str]:
        found = operation.response_for(status)
        if found is None:
            return set()
        declared = self.spec.deref(found[1]) or {}
        return {name.lower() for name in (declared.get("headers") or {})}

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

    def item_key(self, operation: Operation) -> tuple[KeyPart, ...]:
        """Which field of the item each of the path's last parameters names, as the sandbox
        keys its items (``sandbox.resources.keys``): ``/members/{user_id}`` its
        ``user_id``, ``/orgs/{org}/memberships/{username}`` its ``user.login``,
        ``/repos/{owner}/{repo}`` its ``owner.login`` and ``name``; () where none is found."""
        if operation.path in self._keys:
            return self._keys[operation.path]
        segments = [s for s in operation.path.strip("/").split("/") if s]
        params: list[str] = []
        while segments and _is_template(segments[-1]) and len(params) < 2:
            params.insert(0, segments.pop()[1:-1])
        found = operation.response_for(200)
        body = self.full(self.json_schema(found[1])) if found is not None else {}
        properties = body.get("properties") or {}
        record = self.full(properties.get("data")).get("properties")  # as record_of reads it
        properties = record if isinstance(record, dict) else properties
        parts: tuple[KeyPart, ...] = ()
        if params and segments and properties:
            owner = singular(stem(segments[-1]))
            by_path = {operation.method: operation}
            parts = KeyFinder(self.spec).find(by_path, params, owner, [properties]) or ()
        self._keys[operation.path] = parts
        return parts

    def paging(self, operation: Operation) -> Paging | None:
        limit = page = None
        default = None
        low, high = 1, None
        first = 1
        for parameter in operation.parameters:
            if parameter.location != "query":
                continue
            name = parameter.name.lower().replace("-", "_").lstrip("_")  # Kinto's _limit
            schema = self.full(parameter.schema)
            if name in LIMIT_NAMES and "integer" in _types(schema):
                limit = parameter.name
                default = schema.get("default") if isinstance(schema.get("default"), int) else None
                low = int(schema.get("minimum", 1) or 1)
                high = schema.get("maximum") if isinstance(schema.get("maximum"), int) else None
            elif name in PAGE_NAMES and "integer" in _types(schema):
                page = parameter.name
                start = schema.get("default", schema.get("minimum"))
                first = start if start in (0, 1) and not isinstance(start, bool) else 1
        if limit is None and page is None:
            return None
        return Paging(limit, page, default, low, high, first)

    def writes_only(self, operation: Operation) -> set[str]:
        """Request fields the response never shows back (writeOnly, or named like secrets)."""
        body = self.full(self.request_schema(operation))
        inner = self.full((body.get("properties") or {}).get("data"))  # an envelope's record
        hidden = set()
        for node in (body, inner):
            for name, prop in (node.get("properties") or {}).items():
                prop = self.full(prop)
                if prop.get("writeOnly") or re.search(r"pass(word)?|secret", name, re.I):
                    hidden.add(name)
        return hidden


CODE_NAMES = ("code", "error_code", "errorcode", "type", "reason")
MESSAGE_NAMES = ("message", "detail", "error_description", "title", "msg")


def _field_kind(name: str) -> str | None:
    lowered = name.lower()
    if lowered in CODE_NAMES:
        return "code"
    if lowered in MESSAGE_NAMES:
        return "message"
    return None


def label_of(operation: Operation) -> str:
    """``GET /items/{id}``, as Schemathesis labels it."""
    return f"{operation.method} {operation.path}"


def pointer_of(operation: Operation) -> str:
    """``#/paths/~1items~1{id}/patch``"""
    return f"#/paths/{escape_pointer_token(operation.path)}/{operation.method.lower()}"


def _json_schema_node(spec: Spec, declared: Any) -> Any:
    """The schema of the first JSON media type of a response or request body, unresolved."""
    content = (spec.deref(declared or {}) or {}).get("content") or {}
    for media_type, media in content.items():
        if is_json_media(media_type):
            return (media or {}).get("schema")
    return None


def _pinned(schema: Any, facts: ContractFacts) -> str | None:
    schema = facts.full(schema)
    const = schema.get("const")
    if isinstance(const, str):
        return const
    enum = schema.get("enum")
    if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str):
        return enum[0]
    return None


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()


def _is_template(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")
