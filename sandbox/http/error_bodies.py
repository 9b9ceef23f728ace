"""Errors the sandbox raises itself, shaped to the schema the spec declares for that status.

One spec wants ``{status: "error", error: {code, message, details}}``, another a flat
``{error, message, retry_after}``, a third RFC 7807 problem details. Rather than a template
per style, the declared schema is filled by meaning: a property called ``message`` gets the
message, ``code`` the code, ``details`` the field problems, and so on. Anything required that
has no meaning to us is generated, and the result is checked against the schema.

A status the operation does not declare (a 404 for an unknown id, a 405, a 415, a 429) is
answered in the spec's own error shape: the error response its operations declare most often
(4xx, ``4XX`` or ``default``), as the real API would; ours only when the spec declares none.
An enum field with no meaning of its own (Stripe's ``type``) gets the member whose words fit
the status and the cause best (``invalid_request_error`` for a 400), never a random one.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sandbox.errors import ApiError
from sandbox.jsonio import dumps
from sandbox.spec.model import Operation, Spec, is_json_media
from sandbox.spec.schemas import SchemaChecks, merged, schema_types
from sandbox.spec.words import norm as _norm


def storage_unavailable(exc: Exception) -> ApiError:
    """The state cannot be used (a full disk, permissions, Redis down): retryable, said so."""
    return ApiError(
        503, "STORAGE_UNAVAILABLE",
        f"The sandbox cannot reach its state: {exc}. Free disk space or fix the state file's "
        "permissions (or start Redis, with --redis), then retry.",
        headers={"Retry-After": "5"}, retry_after=5,
    )  # fmt: skip


_MESSAGE_NAMES = {"message", "msg", "errormessage", "detail", "errordescription", "description"}
_CODE_NAMES = {"code", "errorcode", "errortype", "reason"}
_DETAIL_NAMES = {"details", "errors", "fielderrors", "validationerrors", "invalidparams", "issues"}
_FIELD_NAMES = {"field", "name", "param", "parameter", "path", "pointer", "property", "location"}
# an error's own member naming the parameter at fault (OpenAI's ``param``), not a detail's
_BLAMED_NAMES = {"field", "param", "parameter", "pointer"}


class ErrorBodies:
    """Renders an ApiError for an operation (or for no operation: unknown paths)."""

    def __init__(self, spec: Spec, faker: Any, checks: SchemaChecks) -> None:
        self.spec = spec
        self.faker = faker
        self.checks = checks
        self.common = _common_error(spec)  # once, at start-up

    def render(
        self, error: ApiError, operation: Operation | None, request_path: str = ""
    ) -> tuple[bytes, str]:
        """Body and Content-Type."""
        declared = operation.response_for(error.status) if operation else None
        if operation is None:  # unknown path: how the spec's operations declare this status
            response = self._spec_wide(error.status)
        else:
            response = declared[1] if declared else None
        if not (response or {}).get("content"):  # undeclared: the spec's own error shape
            response = self.common
        content = (response or {}).get("content") or {}
        media_type, media = _pick_media(content)
        if media_type is None:
            return _default_body(error), "application/json"
        schema = self.spec.deref(media.get("schema")) if isinstance(media, dict) else None
        rng = random.Random(f"{error.status}:{error.code}:{request_path}")
        if not is_json_media(media_type):
            return error.message.encode(), media_type
        if not isinstance(schema, dict):
            return _default_body(error), media_type
        body = self._fill(schema, error, rng, request_path, depth=0)
        if not self.checks.is_valid(schema, body):
            body = self._repair(schema, body, rng)
        return dumps(body), media_type.split(";")[0]

    def _spec_wide(self, status: int) -> dict | None:
        """For unknown paths: how the spec's operations declare this status, preferring an
        exact declaration over a range over ``default``."""
        best: tuple[int, dict] | None = None
        for operation in self.spec.operations:
            found = operation.response_for(status)
            if found:
                rank = 0 if found[0] == str(status) else 1 if found[0].endswith("XX") else 2
                if best is None or rank < best[0]:
                    best = (rank, found[1])
                if rank == 0:
                    break
        return best[1] if best else None

    def _fill(self, schema: Any, error: ApiError, rng: random.Random, path: str, depth: int) -> Any:
        schema = self._merged(self.spec.deref(schema))
        if depth > 3 or not isinstance(schema, dict):
            return self.faker.generate(schema, rng=rng, mode="response")
        properties: dict[str, Any] = schema.get("properties") or {}
        if not properties:
            return self.faker.generate(schema, rng=rng, mode="response")
        required = set(schema.get("required") or [])
        body: dict[str, Any] = {}
        for name, prop in properties.items():
            prop = self._merged(self.spec.deref(prop))
            value = self._meaning(name, prop, error, rng, path, depth)
            if value is _UNKNOWN and name in required and _string_enum(prop):
                value = best_member(_string_enum(prop), error)
            if value is _UNKNOWN:
                if name not in required:
                    continue
                value = self.faker.generate(prop, rng=rng, name=name, mode="response")
            body[name] = value
        return body

    def _meaning(
        self, name: str, prop: dict, error: ApiError, rng: random.Random, path: str, depth: int
    ) -> Any:
        key = _norm(name)
        kinds = schema_types(prop)
        if key == "status":
            if "string" in kinds and self.checks.is_valid(prop, "error"):
                return "error"
            if "integer" in kinds:
                return error.status
            return _UNKNOWN
        if key == "error" and "object" in kinds:
            return self._fill(prop, error, rng, path, depth + 1)
        if key in {"error", *_CODE_NAMES} and "string" in kinds:
            return self._code_for(prop, error)
        if key in _CODE_NAMES | {"statuscode", "httpstatus"} and "integer" in kinds:
            return error.status
        if key in _MESSAGE_NAMES and "string" in kinds:
            return error.message
        if key == "title" and "string" in kinds:
            return error.reason
        if key == "type" and "string" in kinds and prop.get("format") in ("uri", "uri-reference"):
            return "about:blank"
        if key == "instance" and "string" in kinds:
            return path or "/"
        if key in _DETAIL_NAMES and "array" in kinds:
            item_schema = self._merged(self.spec.deref(prop.get("items") or {}))
            return [self._detail(item_schema, d, rng) for d in error.details]
        if key in _BLAMED_NAMES:  # the parameter at fault: the first problem's, else none
            blamed = error.details[0].get("field", "") if error.details else None
            return blamed if self.checks.is_valid(prop, blamed) else _UNKNOWN
        if key == "type" and "enum" not in prop and "const" not in prop:
            kind = error.code.lower()  # OpenAI's error.type: a word for the kind, not filler
            return kind if self.checks.is_valid(prop, kind) else _UNKNOWN
        if key in {"retryafter", "retryafterseconds"} and error.retry_after is not None:
            return error.retry_after
        if key == "timestamp" and "string" in kinds:
            return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return _UNKNOWN

    def _code_for(self, prop: dict, error: ApiError) -> str:
        """The error's code, or the closest member when the schema allows only an enum
        (RFC 6749's ``invalid_request`` for a validation error, say)."""
        allowed = prop.get("enum") or ([prop["const"]] if "const" in prop else None)
        if not allowed:
            return error.code
        wanted = [error.code, error.code.lower(), *_ENUM_FALLBACKS.get(error.status, ())]
        for candidate in wanted:
            if candidate in allowed:
                return candidate
        return best_member([str(a) for a in allowed], error)

    def _detail(self, schema: dict, detail: dict[str, str], rng: random.Random) -> Any:
        properties = schema.get("properties") or {}
        if "string" in schema_types(schema) and not properties:
            return f"{detail.get('field')}: {detail.get('message')}"
        item: dict[str, Any] = {}
        for name, prop in properties.items():
            key = _norm(name)
            if key in _FIELD_NAMES:
                item[name] = detail.get("field", "")
            elif key in _MESSAGE_NAMES | {"reason"}:
                item[name] = detail.get("message", "")
            elif name in (schema.get("required") or []):
                item[name] = self.faker.generate(prop, rng=rng, name=name, mode="response")
        return item

    def _merged(self, schema: Any) -> Any:
        return merged(self.spec.deref, schema)

    def _repair(self, schema: dict, body: Any, rng: random.Random) -> Any:
        """Keep what fits the schema, generate what does not, so the body always conforms."""
        generated = self.faker.generate(schema, rng=rng, mode="response")
        if isinstance(body, dict) and isinstance(generated, dict):
            for name, value in body.items():
                trial = {**generated, name: value}
                if self.checks.is_valid(schema, trial):
                    generated = trial
        return generated


_UNKNOWN = object()

# RFC 6749 and common API vocabularies, for schemas that only allow fixed codes
_ENUM_FALLBACKS: dict[int, tuple[str, ...]] = {
    400: ("invalid_request", "validation_error", "bad_request"),
    401: ("invalid_client", "invalid_token", "unauthorized"),
    403: ("insufficient_scope", "access_denied", "forbidden"),
    404: ("not_found",),
    409: ("conflict",),
    413: ("invalid_request", "payload_too_large"),
    415: ("invalid_request", "unsupported_media_type"),
    429: ("rate_limit_exceeded", "too_many_requests"),
    500: ("server_error", "internal_error"),
    503: ("temporarily_unavailable", "service_unavailable"),
}


# Words that say which status an enum member is for; the cause's own words (its code) count more.
_STATUS_WORDS: dict[int, frozenset[str]] = {
    400: frozenset({"invalid", "request", "bad", "validation", "malformed", "parameter"}),
    401: frozenset({"authentication", "auth", "unauthorized", "unauthenticated", "credentials"}),
    402: frozenset({"card", "payment", "declined"}),
    403: frozenset({"permission", "forbidden", "denied", "scope", "access"}),
    404: frozenset({"not", "found", "missing", "resource", "invalid", "request"}),
    405: frozenset({"method", "allowed", "invalid", "request"}),
    409: frozenset({"conflict", "idempotency", "duplicate", "exists"}),
    413: frozenset({"large", "size", "invalid", "request"}),
    415: frozenset({"media", "unsupported", "content", "invalid", "request"}),
    422: frozenset({"invalid", "validation", "unprocessable"}),
    429: frozenset({"rate", "limit", "limited", "throttled", "many", "quota"}),
    500: frozenset({"api", "server", "internal"}),
    503: frozenset({"unavailable", "temporarily", "service", "api"}),
}
_OTHER_WORDS = frozenset().union(*_STATUS_WORDS.values())
_PLAIN = frozenset({"error", "err", "exception", "failure"})


def best_member(members: list[str], error: ApiError) -> str:
    """The enum member whose words fit the error best: a word of the status counts 2, of the
    cause (its code, ``invalid_api_key``) 1, of another status -1; the first wins a tie."""
    own = _STATUS_WORDS.get(error.status, _STATUS_WORDS[500 if error.status >= 500 else 400])
    cause = {w for w in _words(error.code) if w not in _PLAIN}

    def score(member: str) -> float:
        if member.lower() == error.code.lower():
            return 100.0
        words = _words(member) - _PLAIN
        return sum(2 if w in own else 1 if w in cause else -1 if w in _OTHER_WORDS else 0
                   for w in words)  # fmt: skip

    return max(members, key=score)


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if w}


def _string_enum(prop: dict) -> list[str]:
    allowed = prop.get("enum") or ([prop["const"]] if "const" in prop else [])
    return [a for a in allowed if isinstance(a, str)]


def _common_error(spec: Spec) -> dict | None:
    """The error response the spec's operations declare most often (4xx, 4XX, default) with
    a JSON body: the shape the real API answers every error in."""
    counts: Counter[str] = Counter()
    first: dict[str, dict] = {}
    for operation in spec.operations:
        for code, response in operation.responses.items():
            if not (code.startswith("4") or code == "default"):
                continue
            media_type, media = _pick_media(response.get("content") or {})
            if media_type is None or not is_json_media(media_type):
                continue
            schema = media.get("schema") if isinstance(media, dict) else None
            if not isinstance(schema, dict):
                continue
            key = str(schema.get("$ref") or id(schema))
            counts[key] += 1
            first.setdefault(key, response)
    return first[counts.most_common(1)[0][0]] if counts else None


def _pick_media(content: dict[str, Any]) -> tuple[str | None, dict]:
    for media_type, media in content.items():
        if is_json_media(media_type):
            return media_type, media or {}
    for media_type, media in content.items():
        return media_type, media or {}
    return None, {}


def _default_body(error: ApiError) -> bytes:
    body: dict[str, Any] = {
        "status": "error",
        "error": {"code": error.code, "message": error.message, "details": error.details},
    }
    if error.retry_after is not None:
        body["error"]["retry_after"] = error.retry_after
    return dumps(body)
