"""A correct, stateful reference server for `spec.yaml`, and its planted-violation variants.

`make_app()` must pass every contract check (a failure on it is a bug in the corpus, not in the
tester); `make_app(name)` for each name in `VARIANTS` is the same server with exactly one
deviation, so a tester that misses a variant has a blind spot for exactly that kind of breach.
"""

from __future__ import annotations

import copy
import json
import math
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, Response, g, request
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.exceptions import HTTPException, MethodNotAllowed

TOKEN = "sk_test_corpus"
SPEC_PATH = Path(__file__).with_name("spec.yaml")
DEFAULT_RATE_LIMIT = 100_000  # generous: no test run should ever see a 429
LOW_RATE_LIMIT = 20  # only for `missing_retry_after`, whose breach needs a 429 to show
RATE_WINDOW = 60

# Kinds of checks, for EXPECTED: plain Schemathesis, or one of the project's own check families.
SCHEMATHESIS = "schemathesis"
ENVELOPE = "envelope"
ERROR_SHAPE = "error_shape"
RATE_LIMIT = "rate_limit"
PAGINATION = "pagination"
IDENTITY = "identity"

VARIANTS: dict[str, str] = {
    # response bodies: plain Schemathesis (response_schema_conformance) sees these
    "wrong_type": "item.price is a JSON string, not a number; "
    "catcher: schemathesis (response_schema_conformance)",
    "missing_required": "item.created_at (required) is missing; "
    "catcher: schemathesis (response_schema_conformance)",
    "enum_violation": "item.status is upper-cased ('DRAFT'), outside its enum; "
    "catcher: schemathesis (response_schema_conformance)",
    "format_violation": "item.created_at is '15/01/2024 10:30', not an RFC 3339 date-time; "
    "catcher: schemathesis (response_schema_conformance, formats)",
    "extra_property": "items carry an undeclared 'internal_cost' (Item has additionalProperties: "
    "false); catcher: schemathesis (response_schema_conformance)",
    "wrong_envelope": "success bodies lack the envelope's 'status' member; "
    "catcher: schemathesis (response_schema_conformance) and ours (envelope)",
    "error_without_code": "error bodies lack error.code; "
    "catcher: schemathesis (response_schema_conformance) and ours (error shape)",
    # status codes and media types
    "undeclared_status": "DELETE answers 202 instead of the declared 204; "
    "catcher: schemathesis (status_code_conformance)",
    "server_error_on_edge": "GET /items?limit=100 (the documented maximum) answers 500; "
    "catcher: schemathesis (not_a_server_error)",
    "wrong_content_type": "GET /items answers its JSON as text/plain; "
    "catcher: schemathesis (content_type_conformance)",
    # request validation
    "accepts_invalid": "POST /items without the required currency is accepted (201, USD); "
    "catcher: schemathesis (negative_data_rejection)",
    "rejects_valid": "a request body carrying the optional 'tags' is refused with 400; "
    "catcher: schemathesis (positive_data_acceptance)",
    # authentication
    "ignored_auth": "a request without an Authorization header is served as if authenticated; "
    "catcher: schemathesis (ignored_auth)",
    "wrong_token_accepted": "any non-empty bearer token is accepted (a missing one is still 401); "
    "catcher: schemathesis (ignored_auth)",
    # rate-limit headers
    "missing_rate_limit_headers": "no X-RateLimit-* headers on any response; "
    "catcher: schemathesis (response_headers_conformance) and ours (rate-limit headers)",
    "negative_remaining": "X-RateLimit-Remaining is -1; "
    "catcher: schemathesis (response_headers_conformance) and ours (rate-limit headers)",
    "remaining_above_limit": "X-RateLimit-Remaining is X-RateLimit-Limit + 1; "
    "catcher: ours (rate-limit headers)",
    "reset_in_past": "X-RateLimit-Reset is a minute in the past; "
    "catcher: ours (rate-limit headers)",
    "remaining_ignores_requests": "X-RateLimit-Remaining counts only every other request: it "
    "never rises nor passes the limit, but is soon a few above what the client's own requests "
    "leave; catcher: ours (rate-limit headers)",
    "reset_sent_as_delay": "X-RateLimit-Reset is the seconds until the reset, though the spec "
    "says Unix epoch seconds (read as the spec says, it is in 1970); "
    "catcher: ours (rate-limit headers)",
    "missing_retry_after": f"the limit is lowered to {LOW_RATE_LIMIT}/{RATE_WINDOW}s so 429s "
    "happen, and they lack Retry-After; catcher: schemathesis (response_headers_conformance) "
    "and ours (rate-limit headers)",
    # pagination
    "pagination_overflow": "a list page holds limit + 1 items when that many exist; "
    "catcher: ours (pagination)",
    "page_not_echoed": "meta.page is the requested page + 1; catcher: ours (pagination)",
    "duplicate_across_pages": "page n > 1 starts one item early, so walking pages repeats an id; "
    "catcher: ours (pagination)",
    "total_pages_inconsistent": "meta.totalPages is ceil(total / limit) + 1; "
    "catcher: ours (pagination)",
    "total_counts_page": "meta.total is the number of items on this page, not in the collection; "
    "catcher: ours (pagination)",
    # identity and persistence
    "delete_does_not_delete": "DELETE answers 204 but the item stays readable; "
    "catcher: schemathesis (use_after_free) and ours (identity/persistence)",
    "create_does_not_persist": "POST answers 201 but nothing is stored (GET is 404); "
    "catcher: schemathesis (ensure_resource_availability) and ours (identity/persistence)",
    "create_ignores_fields": "POST stores (and echoes) the next currency (USD->EUR->GBP->USD) "
    "instead of the one sent; catcher: ours (identity/persistence)",
    "update_does_not_update": "PATCH answers 200 with the new values but stores nothing; "
    "catcher: ours (identity/persistence)",
    "replace_does_not_replace": "PUT answers 200 with the new values but stores nothing; "
    "catcher: ours (identity/persistence)",
    "update_ignores_status": "PATCH stores every field sent but status (a valid body, judged "
    "only as what was sent); catcher: ours (identity/persistence)",
    "get_returns_other_id": "GET /items/{id} answers with data.id 'itm_000000000000'; "
    "catcher: ours (identity/persistence)",
}

# Which checks are expected to flag each variant: SCHEMATHESIS means plain `st run --checks all`,
# the other kinds name the project's own check families.
EXPECTED: dict[str, frozenset[str]] = {
    "wrong_type": frozenset({SCHEMATHESIS}),
    "missing_required": frozenset({SCHEMATHESIS}),
    "enum_violation": frozenset({SCHEMATHESIS}),
    "format_violation": frozenset({SCHEMATHESIS}),
    "extra_property": frozenset({SCHEMATHESIS}),
    "wrong_envelope": frozenset({SCHEMATHESIS, ENVELOPE}),
    "error_without_code": frozenset({SCHEMATHESIS, ERROR_SHAPE}),
    "undeclared_status": frozenset({SCHEMATHESIS}),
    "server_error_on_edge": frozenset({SCHEMATHESIS}),
    "wrong_content_type": frozenset({SCHEMATHESIS}),
    "accepts_invalid": frozenset({SCHEMATHESIS}),
    "rejects_valid": frozenset({SCHEMATHESIS}),
    "ignored_auth": frozenset({SCHEMATHESIS}),
    "wrong_token_accepted": frozenset({SCHEMATHESIS}),
    "missing_rate_limit_headers": frozenset({SCHEMATHESIS, RATE_LIMIT}),
    "negative_remaining": frozenset({SCHEMATHESIS, RATE_LIMIT}),
    "remaining_above_limit": frozenset({RATE_LIMIT}),
    "reset_in_past": frozenset({RATE_LIMIT}),
    "remaining_ignores_requests": frozenset({RATE_LIMIT}),
    "reset_sent_as_delay": frozenset({RATE_LIMIT}),
    "missing_retry_after": frozenset({SCHEMATHESIS, RATE_LIMIT}),
    "pagination_overflow": frozenset({PAGINATION}),
    "page_not_echoed": frozenset({PAGINATION}),
    "duplicate_across_pages": frozenset({PAGINATION}),
    "total_pages_inconsistent": frozenset({PAGINATION}),
    "total_counts_page": frozenset({PAGINATION}),
    "delete_does_not_delete": frozenset({SCHEMATHESIS, IDENTITY}),
    "create_does_not_persist": frozenset({SCHEMATHESIS, IDENTITY}),
    "create_ignores_fields": frozenset({IDENTITY}),
    "update_does_not_update": frozenset({IDENTITY}),
    "replace_does_not_replace": frozenset({IDENTITY}),
    "update_ignores_status": frozenset({IDENTITY}),
    "get_returns_other_id": frozenset({IDENTITY}),
}
assert EXPECTED.keys() == VARIANTS.keys(), "every variant needs its expected catchers"

_NEXT_CURRENCY = {"USD": "EUR", "EUR": "GBP", "GBP": "USD"}
_ID_ALPHABET = string.ascii_letters + string.digits
_DIGITS = re.compile(r"[0-9]+")
_SPEC_URI = "urn:contract-corpus:spec"


def _load_validators() -> dict[str, Draft202012Validator]:
    """Request-body validators built from the spec itself, so server and contract cannot drift."""
    spec = yaml.safe_load(SPEC_PATH.read_text())
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry = Registry().with_resource(_SPEC_URI, resource)
    return {
        name: Draft202012Validator(
            {"$ref": f"{_SPEC_URI}#/components/schemas/{name}"}, registry=registry
        )
        for name in ("ItemCreate", "ItemUpdate")
    }


_VALIDATORS = _load_validators()


class _Invalid(Exception):
    """A request that fails validation; becomes a 400 with field details."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        super().__init__(details)
        self.details = details


@dataclass
class _RateState:
    limit: int
    remaining: int
    reset: int
    retry_after: int
    exceeded: bool


class _RateLimiter:
    """Fixed-window counter per credential, so the X-RateLimit-* headers tell the truth."""

    def __init__(self, limit: int, window: int) -> None:
        self._limit = limit
        self._window = window
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str) -> _RateState:
        now = time.time()
        start = int(now // self._window) * self._window
        with self._lock:
            window_start, count = self._windows.get(key, (start, 0))
            if window_start != start:
                count = 0
            count += 1
            self._windows[key] = (start, count)
        reset = start + self._window
        return _RateState(
            limit=self._limit,
            remaining=max(self._limit - count, 0),
            reset=reset,
            retry_after=max(math.ceil(reset - now), 1),
            exceeded=count > self._limit,
        )


class _Store:
    """Thread-safe in-memory items, kept in creation order; hands out copies only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, dict[str, Any]] = {}

    def get(self, item_id: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(item_id)
            return copy.deepcopy(item) if item is not None else None

    def put(self, item: dict[str, Any]) -> None:
        with self._lock:
            self._items[item["id"]] = copy.deepcopy(item)

    def delete(self, item_id: str) -> bool:
        with self._lock:
            return self._items.pop(item_id, None) is not None

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._items.values()))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_id() -> str:
    return "itm_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def make_app(
    variant: str = "correct", *, rate_limit: int | None = None, window: int = RATE_WINDOW
) -> Flask:
    """Build the reference server, or the variant `variant` of it (see VARIANTS)."""
    if variant != "correct" and variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected 'correct' or one of {VARIANTS}")
    if rate_limit is None:
        rate_limit = LOW_RATE_LIMIT if variant == "missing_retry_after" else DEFAULT_RATE_LIMIT
    app = Flask(__name__)
    app.config["CORPUS_VARIANT"] = variant
    store = _Store()
    limiter = _RateLimiter(rate_limit, window)

    # --- response helpers -------------------------------------------------------------------

    def json_response(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status, headers, mimetype="application/json")

    def success(data: Any, meta: dict[str, Any], status: int = 200) -> Response:
        body: dict[str, Any] = {"status": "success", "data": data, "meta": meta}
        if variant == "wrong_envelope":
            del body["status"]
        return json_response(body, status)

    def error(
        status: int,
        code: str,
        message: str,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        err: dict[str, Any] = {"code": code, "message": message}
        if details:
            err["details"] = details
        if variant == "error_without_code":
            del err["code"]
        return json_response({"status": "error", "error": err}, status, headers)

    def render(item: dict[str, Any]) -> dict[str, Any]:
        out = dict(item)
        if variant == "wrong_type":
            out["price"] = str(out["price"])
        elif variant == "missing_required":
            del out["created_at"]
        elif variant == "enum_violation":
            out["status"] = out["status"].upper()
        elif variant == "format_violation":
            out["created_at"] = "15/01/2024 10:30"
        elif variant == "extra_property":
            out["internal_cost"] = 0
        return out

    def not_found(item_id: str) -> Response:
        return error(404, "NOT_FOUND", f"Item {item_id[:64]} not found")

    # --- request helpers --------------------------------------------------------------------

    def query_int(name: str, default: int, low: int, high: int) -> int:
        values = request.args.getlist(name)
        if not values:
            return default
        if len(values) > 1:
            raise _Invalid([{"field": name, "message": "Must be given at most once"}])
        raw = values[0]
        if not _DIGITS.fullmatch(raw) or len(raw) > 12 or not low <= int(raw) <= high:
            raise _Invalid([{"field": name, "message": f"Must be an integer from {low} to {high}"}])
        return int(raw)

    def read_body(schema: str) -> dict[str, Any]:
        mimetype = request.mimetype
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            raise _Invalid([{"field": "body", "message": "Content-Type must be application/json"}])
        try:
            body = json.loads(
                request.get_data().decode("utf-8"),
                parse_constant=_reject_constant,
                parse_float=_finite_float,
            )
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise _Invalid([{"field": "body", "message": "Body must be valid JSON"}]) from None
        if variant == "accepts_invalid" and isinstance(body, dict):
            body.setdefault("currency", "USD")
        errors = sorted(_VALIDATORS[schema].iter_errors(body), key=lambda e: list(e.path))
        if errors:
            raise _Invalid(
                [
                    {
                        "field": ".".join(str(part) for part in e.absolute_path) or "body",
                        "message": e.message[:200] or "Invalid value",
                    }
                    for e in errors
                ]
            )
        if variant == "rejects_valid" and "tags" in body:
            raise _Invalid([{"field": "tags", "message": "Tags are not supported"}])
        return body

    # --- cross-cutting: auth, rate limit, errors ----------------------------------------------

    def authenticated() -> bool:
        header = request.headers.get("Authorization")
        if header is None:
            return variant == "ignored_auth"
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return False
        if variant == "wrong_token_accepted":
            return token.strip() != ""
        return token == TOKEN

    @app.before_request
    def _guard() -> Response | None:
        ok = authenticated()
        state = limiter.hit(TOKEN if ok else "anonymous")
        g.rate = state
        # Undeclared methods are refused (405 + Allow) before auth, as routing does in most stacks.
        if request.method == "OPTIONS" or isinstance(request.routing_exception, MethodNotAllowed):
            return None
        if not ok:
            return error(
                401,
                "UNAUTHORIZED",
                "Missing or invalid credentials",
                headers={"WWW-Authenticate": 'Bearer realm="corpus"'},
            )
        if state.exceeded:
            headers = (
                {} if variant == "missing_retry_after" else {"Retry-After": str(state.retry_after)}
            )
            return error(429, "RATE_LIMIT_EXCEEDED", "Too many requests", headers=headers)
        return None

    @app.after_request
    def _rate_headers(response: Response) -> Response:
        state: _RateState | None = g.get("rate")
        if state is None or variant == "missing_rate_limit_headers":
            return response
        remaining, reset = state.remaining, state.reset
        if variant == "negative_remaining":
            remaining = -1
        elif variant == "remaining_above_limit":
            remaining = state.limit + 1
        elif variant == "reset_in_past":
            reset = int(time.time()) - window
        elif variant == "remaining_ignores_requests":
            remaining = state.limit - math.ceil((state.limit - state.remaining) / 2)
        elif variant == "reset_sent_as_delay":
            reset = max(reset - int(time.time()), 1)
        response.headers["X-RateLimit-Limit"] = str(state.limit)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = str(reset)
        return response

    @app.errorhandler(_Invalid)
    def _invalid(exc: _Invalid) -> Response:
        return error(400, "VALIDATION_ERROR", "Invalid input provided", exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").upper().replace(" ", "_")
        headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
        return error(exc.code or 500, code, exc.description or exc.name, headers=headers)

    # --- routes ---------------------------------------------------------------------------

    @app.get("/items")
    def list_items() -> Response:
        problems: list[dict[str, str]] = []
        page = limit = 0
        try:
            page = query_int("page", 1, 1, 1_000_000)
        except _Invalid as exc:
            problems += exc.details
        try:
            limit = query_int("limit", 20, 1, 100)
        except _Invalid as exc:
            problems += exc.details
        if problems:
            raise _Invalid(problems)
        if variant == "server_error_on_edge" and limit == 100:
            return error(500, "INTERNAL_ERROR", "Something went wrong")
        items = store.all()
        total = len(items)
        start = (page - 1) * limit
        if variant == "duplicate_across_pages" and page > 1:
            start -= 1
        size = limit + 1 if variant == "pagination_overflow" else limit
        data = [render(item) for item in items[start : start + size]]
        meta = {
            "page": page + 1 if variant == "page_not_echoed" else page,
            "limit": limit,
            "total": len(data) if variant == "total_counts_page" else total,
            "totalPages": math.ceil(total / limit)
            + (1 if variant == "total_pages_inconsistent" else 0),
        }
        response = success(data, meta)
        if variant == "wrong_content_type":
            response.mimetype = "text/plain"
        return response

    @app.post("/items")
    def create_item() -> Response:
        body = read_body("ItemCreate")
        currency = body["currency"]
        if variant == "create_ignores_fields":
            currency = _NEXT_CURRENCY[currency]
        item = {
            "id": _new_id(),
            "name": body["name"],
            "price": body["price"],
            "currency": currency,
            "status": body.get("status", "draft"),
            "created_at": _now(),
            "tags": body.get("tags", []),
        }
        if variant != "create_does_not_persist":
            store.put(item)
        response = success(render(item), {}, 201)
        response.headers["Location"] = f"/items/{item['id']}"
        return response

    @app.get("/items/<item_id>")
    def get_item(item_id: str) -> Response:
        item = store.get(item_id)
        if item is None:
            return not_found(item_id)
        out = render(item)
        if variant == "get_returns_other_id":
            out["id"] = "itm_000000000000"
        return success(out, {})

    @app.put("/items/<item_id>")
    def replace_item(item_id: str) -> Response:
        body = read_body("ItemCreate")
        item = store.get(item_id)
        if item is None:
            return not_found(item_id)
        new = {
            "id": item["id"],
            "name": body["name"],
            "price": body["price"],
            "currency": body["currency"],
            "status": body.get("status", "draft"),
            "created_at": item["created_at"],
            "tags": body.get("tags", []),
        }
        if variant != "replace_does_not_replace":
            store.put(new)
        return success(render(new), {})

    @app.patch("/items/<item_id>")
    def update_item(item_id: str) -> Response:
        body = read_body("ItemUpdate")
        item = store.get(item_id)
        if item is None:
            return not_found(item_id)
        new = {**item, **body}
        if variant == "update_ignores_status":
            new["status"] = item["status"]
        if variant != "update_does_not_update":
            store.put(new)
        return success(render(new), {})

    @app.delete("/items/<item_id>")
    def delete_item(item_id: str) -> Response:
        if variant == "delete_does_not_delete":
            found = store.get(item_id) is not None
        else:
            found = store.delete(item_id)
        if not found:
            return not_found(item_id)
        response = Response(status=202 if variant == "undeclared_status" else 204)
        del response.headers["Content-Type"]
        return response

    return app
