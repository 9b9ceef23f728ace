"""Our checks, registered with Schemathesis beside its own.

Schemathesis judges each response by its schema. These judge what schemas cannot say: the
spec's envelope and error conventions, what rate-limit headers mean, what a page of results
promises, and that a server remembers what it was told. Each raises a ContractFailure whose
message says what was expected, what came, and where in the spec the promise is made.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import schemathesis
from schemathesis.core.failures import Failure

from contracts.facts import ContractFacts
from contracts.target import ProbeResponse, Target
from sandbox.jsonio import loads
from sandbox.spec.model import Operation, escape_pointer_token

OUR_CHECKS = (
    "envelope_conformance",
    "error_shape",
    "rate_limit_headers",
    "pagination",
    "identity_and_persistence",
    "webhook_delivery",
)
MAX_WALK_PAGES = 5
ABSURD_RESET = 366 * 24 * 3600  # seconds: a reset further away than a year is nonsense


class ContractFailure(Failure):
    code: ClassVar[str] = "CT100"
    kind_title: ClassVar[str] = "Contract convention broken"


@dataclass
class RunContext:
    """What our checks share during one run: the spec's conventions and the target."""

    facts: ContractFacts
    target: Target
    webhooks: Any = None  # a contracts.webhooks.WebhookWatch when --webhooks is given
    walked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


_ACTIVE: RunContext | None = None


def activate(context: RunContext | None) -> None:
    """Our checks act only inside a run that set a context (or in a contract_suite)."""
    global _ACTIVE
    _ACTIVE = context


def _fail(case: Any, title: str, message: str, pointer: str | None = None) -> None:
    where = f"\n\nSpec: #{pointer}" if pointer else ""
    raise ContractFailure(operation=case.operation.label, title=title, message=message + where)


def _pointer(operation: Operation, status: int | None = None) -> str:
    base = f"/paths/{escape_pointer_token(operation.path)}/{operation.method.lower()}"
    if status is None:
        return base
    found = operation.response_for(status)
    return f"{base}/responses/{found[0]}" if found else f"{base}/responses"


def _header(response: Any, name: str) -> str | None:
    for key, value in response.headers.items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else value
    return None


def _json(response: Any) -> Any:
    try:
        return loads(response.content) if response.content else None
    except ValueError:
        return None


def _context(case: Any) -> tuple[RunContext, Operation] | None:
    context = _ACTIVE
    if context is None:
        return None
    operation = context.facts.operation(case.operation.method, case.operation.path)
    return (context, operation) if operation is not None else None


def _record(body: Any) -> Any:
    """The resource inside an envelope (``data``), or the body itself."""
    if isinstance(body, dict) and isinstance(body.get("data"), dict | list):
        return body["data"]
    return body


def _items(body: Any) -> list[Any] | None:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for name in ("data", "items", "results", "records"):
            if isinstance(body.get(name), list):
                return body[name]
        inner = body.get("data")
        if isinstance(inner, dict):
            return _items(inner)
    return None


def _meta(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        for name in ("meta", "pagination", "page_info", "pageInfo"):
            if isinstance(body.get(name), dict):
                return body[name]
        return body
    return {}


def _first(mapping: dict[str, Any], *names: str) -> Any:
    lowered = {key.lower().replace("_", ""): value for key, value in mapping.items()}
    for name in names:
        value = lowered.get(name.lower().replace("_", ""))
        if value is not None:
            return value
    return None


# -- envelope -----------------------------------------------------------------------------
@schemathesis.check
def envelope_conformance(ctx: Any, response: Any, case: Any) -> bool | None:
    """Success bodies carry the spec's envelope, whatever the operation's own schema says."""
    found = _context(case)
    if found is None or not 200 <= response.status_code < 300 or not response.content:
        return None
    context, operation = found
    envelope = context.facts.envelope
    body = _json(response)
    if envelope is None or body is None:
        return None
    found_response = operation.response_for(response.status_code)
    schema = context.facts.json_schema(found_response[1]) if found_response else None
    if schema is not None and "data" not in (context.facts.full(schema).get("required") or []):
        return None  # this operation answers outside the envelope by design (health, tokens)
    if not isinstance(body, dict):
        _fail(case, "Success body outside the envelope",
              f"Expected an object with {', '.join(envelope.required)}; got a "
              f"{type(body).__name__}.", _pointer(operation, response.status_code))  # fmt: skip
    missing = [name for name in envelope.required if name not in body]
    if missing:
        _fail(case, "Success body outside the envelope",
              f"The spec wraps successes in {{{', '.join(envelope.required)}}}; this body lacks "
              f"{', '.join(missing)}.", _pointer(operation, response.status_code))  # fmt: skip
    if envelope.status_value is not None and body.get("status") != envelope.status_value:
        _fail(case, "Envelope status is wrong",
              f"Expected status {envelope.status_value!r} on a {response.status_code}; got "
              f"{body.get('status')!r}.", _pointer(operation, response.status_code))  # fmt: skip
    return True


# -- error shape --------------------------------------------------------------------------
@schemathesis.check
def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx carries the declared error shape, with a code and a message to act on."""
    found = _context(case)
    if found is None or response.status_code < 400:
        return None
    context, operation = found
    schema = context.facts.error_schema_for(operation, response.status_code)
    if schema is None:
        return None
    pointer = _pointer(operation, response.status_code)
    body = _json(response)
    if body is None:
        _fail(case, "Error body is not the declared JSON",
              f"A {response.status_code} must carry the spec's JSON error; got "
              f"{(_header(response, 'content-type') or 'no content type')} "
              f"{response.content[:80]!r}.", pointer)  # fmt: skip
    problems = context.facts.checks.errors(schema, body)
    if problems:
        _fail(case, "Error body breaks the error schema",
              f"{problems[0].message} (at {'/'.join(map(str, problems[0].absolute_path))})",
              pointer)  # fmt: skip
    code, message = _error_fields(body)
    if not code or not message:
        _fail(case, "Error without a code or message",
              f"Clients branch on the error code and show the message; got code {code!r}, "
              f"message {message!r}.", pointer)  # fmt: skip
    return True


def _error_fields(body: Any) -> tuple[Any, Any]:
    """Nested ``{error: {code, message}}``, flat ``{error, message}``, or RFC 7807."""
    if not isinstance(body, dict):
        return None, None
    inner = body.get("error")
    if isinstance(inner, dict):
        return _first(inner, "code", "type", "reason"), _first(inner, "message", "detail")
    code = inner if isinstance(inner, str) else _first(body, "code", "type", "title")
    return code, _first(body, "message", "detail", "error_description", "title")


# -- rate-limit headers -------------------------------------------------------------------
@schemathesis.check
def rate_limit_headers(ctx: Any, response: Any, case: Any) -> bool | None:
    """Limit, Remaining and Reset make sense together; every 429 says when to come back."""
    found = _context(case)
    if found is None:
        return None
    context, operation = found
    pointer = _pointer(operation, response.status_code)
    if response.status_code == 429:
        wait = _header(response, "retry-after")
        if wait is None or _retry_after_seconds(wait) is None:
            _fail(case, "429 without a usable Retry-After",
                  f"A client cannot know when to retry: Retry-After is {wait!r}.",
                  pointer)  # fmt: skip
    limit_text = _header(response, "x-ratelimit-limit")
    remaining_text = _header(response, "x-ratelimit-remaining")
    reset_text = _header(response, "x-ratelimit-reset")
    if limit_text is None and remaining_text is None and reset_text is None:
        return None
    declared = context.facts.declared_headers(operation, response.status_code)
    missing = [
        name for name, value in (("X-RateLimit-Limit", limit_text),
                                 ("X-RateLimit-Remaining", remaining_text),
                                 ("X-RateLimit-Reset", reset_text))
        if value is None and name.lower() in declared
    ]  # fmt: skip
    if missing:
        _fail(case, "Rate-limit headers incomplete",
              f"Declared but missing: {', '.join(missing)}.", pointer)  # fmt: skip
    limit, remaining, reset = (_number(v) for v in (limit_text, remaining_text, reset_text))
    if remaining is not None and remaining < 0:
        _fail(case, "X-RateLimit-Remaining is negative",
              f"Remaining is {remaining_text}.", pointer)  # fmt: skip
    if remaining is not None and limit is not None and remaining > limit:
        _fail(case, "X-RateLimit-Remaining is above the limit",
              f"Remaining {remaining_text} > Limit {limit_text}.", pointer)  # fmt: skip
    if reset is not None:
        now = time.time()
        seconds = reset - now if reset > 1e9 else reset  # an epoch, or seconds from now
        if seconds < -2:
            _fail(case, "X-RateLimit-Reset is in the past",
                  f"Reset {reset_text} was {-seconds:.0f} s ago.", pointer)  # fmt: skip
        if seconds > ABSURD_RESET:
            _fail(case, "X-RateLimit-Reset is absurdly far away",
                  f"Reset {reset_text} is {seconds / 86400:.0f} days away.", pointer)  # fmt: skip
    return True


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.strip())
    except ValueError:
        return None


def _retry_after_seconds(text: str) -> float | None:
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return float(text)
    try:
        when: datetime = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()


# -- pagination ---------------------------------------------------------------------------
@schemathesis.check
def pagination(ctx: Any, response: Any, case: Any) -> bool | None:
    """A page holds at most ``limit`` items, says which page it is, and adds up with its
    totals; walking the pages never shows an item twice."""
    found = _context(case)
    if found is None or case.operation.method.upper() != "GET":
        return None
    if not 200 <= response.status_code < 300:
        return None
    context, operation = found
    paging = context.facts.paging(operation)
    body = _json(response)
    items = _items(body)
    if paging is None or items is None:
        return None
    pointer = _pointer(operation, response.status_code)
    query = case.query or {}
    limit = (
        _asked(query.get(paging.limit_param), paging.default_limit) if paging.limit_param else None
    )
    page = _asked(query.get(paging.page_param), 1) if paging.page_param else None
    _judge_page(case, body, items, limit, page, pointer)
    _walk_once(context, case, operation, paging, body, pointer)
    return True


def _asked(value: Any, default: int | None) -> int | None:
    if value is None:
        return default
    text = str(value[0] if isinstance(value, list) else value)
    return int(text) if re.fullmatch(r"\d{1,9}", text) else None


def _judge_page(
    case: Any, body: Any, items: list[Any], limit: int | None, page: int | None, pointer: str
) -> None:
    if limit is not None and limit > 0 and len(items) > limit:
        _fail(case, "Page larger than the limit",
              f"Asked for limit={limit}; got {len(items)} items.", pointer)  # fmt: skip
    meta = _meta(body)
    echoed = _first(meta, "page", "current_page", "currentPage", "page_number")
    if page is not None and isinstance(echoed, int) and echoed != page:
        _fail(case, "Page number not echoed",
              f"Asked for page {page}; the body says page {echoed}.", pointer)  # fmt: skip
    total = _first(meta, "total", "total_count", "totalCount", "total_items", "totalItems")
    size = _first(meta, "limit", "per_page", "perPage", "page_size", "pageSize")
    size = size if isinstance(size, int) and size > 0 else limit
    pages = _first(meta, "total_pages", "totalPages", "page_count", "pageCount")
    more = _first(meta, "has_more", "hasMore", "has_next", "hasNext")
    if not isinstance(total, int) or isinstance(total, bool) or not size:
        return
    expected_pages = math.ceil(total / size)
    if isinstance(pages, int) and pages != expected_pages and not (total == 0 and pages in (0, 1)):
        _fail(case, "totalPages does not add up",
              f"total {total} at {size} per page is {expected_pages} pages; the body says "
              f"{pages}.", pointer)  # fmt: skip
    current = echoed if isinstance(echoed, int) else page
    if current is None:
        return
    expected_items = max(0, min(size, total - (current - 1) * size))
    if len(items) != expected_items:
        _fail(case, "Page holds the wrong number of items",
              f"Page {current} of {total} items at {size} per page holds {expected_items}; got "
              f"{len(items)}.", pointer)  # fmt: skip
    if isinstance(more, bool) and more != (current * size < total):
        _fail(case, "has_more contradicts the totals",
              f"Page {current} of {expected_pages}: has_more should be "
              f"{current * size < total}; got {more}.", pointer)  # fmt: skip


def _walk_once(
    context: RunContext, case: Any, operation: Operation, paging: Any, body: Any, pointer: str
) -> None:
    """Walk the first pages once per operation, when there is more than a page to walk."""
    if paging.page_param is None:
        return
    size = max(paging.min_limit, 2)
    if paging.max_limit is not None:
        size = min(size, paging.max_limit)
    meta = _meta(body)
    total = _first(meta, "total", "total_count", "totalCount", "total_items", "totalItems")
    if isinstance(total, int) and total <= size:
        return  # nothing to walk yet; a later response may have more
    with context.lock:
        if operation.key in context.walked:
            return
        context.walked.add(operation.key)
    seen: dict[str, int] = {}
    path = _filled(operation.path, case.path_parameters or {})
    for number in range(1, MAX_WALK_PAGES + 1):
        params = {paging.page_param: number}
        if paging.limit_param:
            params[paging.limit_param] = size
        answer = context.target.request("GET", path, params=params)
        items = _items(answer.json()) if answer.status == 200 else None
        if not items:
            return
        for item in items:
            key = _identity(item)
            if key is None:
                return
            if key in seen:
                _fail(case, "Walking the pages repeats an item",
                      f"Item {key} is on page {seen[key]} and again on page {number} "
                      f"({paging.limit_param or 'limit'}={size}).", pointer)  # fmt: skip
            seen[key] = number
        if len(items) < size:
            return


def _identity(item: Any) -> str | None:
    if isinstance(item, dict):
        for name in ("id", "uuid", "key", "name"):
            if isinstance(item.get(name), str | int):
                return str(item[name])
    return None


def _filled(template: str, params: dict[str, Any]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: str(params.get(m.group(1), m.group(0))), template)


# -- identity and persistence -------------------------------------------------------------
@schemathesis.check
def identity_and_persistence(ctx: Any, response: Any, case: Any) -> bool | None:
    """GET returns the thing asked for; what was created, replaced or updated reads back as
    sent; what was deleted is gone."""
    found = _context(case)
    if found is None or not 200 <= response.status_code < 300:
        return None
    context, operation = found
    method = operation.method
    facts = context.facts
    if method == "GET" and facts.is_item_path(operation.path):
        _same_identity(case, operation, _json(response))
    elif method == "POST" and not facts.is_item_path(operation.path):
        _created(context, case, operation, response)
    elif method in ("PUT", "PATCH") and facts.is_item_path(operation.path):
        _changed(context, case, operation)
    elif method == "DELETE" and facts.is_item_path(operation.path):
        _deleted(context, case, operation)
    return True


def _id_param(operation: Operation) -> str | None:
    tail = operation.path.rstrip("/").rpartition("/")[2]
    return tail[1:-1] if tail.startswith("{") else None


def _same_identity(case: Any, operation: Operation, body: Any) -> None:
    name = _id_param(operation)
    record = _record(body)
    asked = (case.path_parameters or {}).get(name) if name else None
    if not isinstance(record, dict) or asked is None:
        return
    for field_name in dict.fromkeys(("id", name)):
        if field_name in record and str(record[field_name]) != str(asked):
            _fail(case, "GET returned another resource",
                  f"Asked for {name}={asked}; got {field_name}={record[field_name]}.",
                  _pointer(operation, 200))  # fmt: skip


def _sent(case: Any, facts: ContractFacts, operation: Operation) -> dict[str, Any]:
    body = case.body
    if not isinstance(body, dict):
        return {}
    hidden = facts.writes_only(operation)
    return {k: v for k, v in body.items() if k not in hidden}


def _created(context: RunContext, case: Any, operation: Operation, response: Any) -> None:
    reader = context.facts.item_read(operation.path)
    sent = _sent(case, context.facts, operation)
    record = _record(_json(response))
    if reader is None or not isinstance(record, dict):
        return
    pointer = _pointer(operation, response.status_code)
    _reflects(case, sent, record, "The created resource", pointer)
    identifier = _new_id(record, _header(response, "location"))
    if identifier is None:
        return
    path = _filled(reader.path, {**(case.path_parameters or {}), _id_param(reader): identifier})
    answer = context.target.request("GET", path)
    if answer.status != 200:
        _fail(case, "Created resource cannot be read back",
              f"GET {path} after the create answered {answer.status}.", pointer)  # fmt: skip
    _reflects(case, sent, _record(answer.json()), f"GET {path} after the create", pointer)


def _changed(context: RunContext, case: Any, operation: Operation) -> None:
    sent = _sent(case, context.facts, operation)
    if not sent:
        return
    path = _filled(operation.path, case.path_parameters or {})
    answer = context.target.request("GET", path)
    if answer.status != 200:
        return  # not readable with GET (or gone since): nothing to compare
    _reflects(case, sent, _record(answer.json()), f"GET {path} after the {operation.method}",
              _pointer(operation))  # fmt: skip


def _deleted(context: RunContext, case: Any, operation: Operation) -> None:
    reader = context.facts.operation("GET", operation.path)
    if reader is None:
        return
    path = _filled(operation.path, case.path_parameters or {})
    answer = context.target.request("GET", path)
    if answer.status not in (404, 410):
        _fail(case, "Deleted resource still there",
              f"GET {path} after the DELETE answered {answer.status}, not 404 or 410.",
              _pointer(operation))  # fmt: skip


def _new_id(record: dict[str, Any], location: str | None) -> str | None:
    if isinstance(record.get("id"), str | int):
        return str(record["id"])
    if location:
        return location.rstrip("/").rpartition("/")[2] or None
    return None


def _reflects(case: Any, sent: dict[str, Any], record: Any, what: str, pointer: str) -> None:
    if not isinstance(record, dict):
        return
    for name, value in sent.items():
        if name in record and not _same(value, record[name]):
            _fail(case, "Sent values not kept",
                  f"{what} has {name}={record[name]!r}; the request sent {value!r}.",
                  pointer)  # fmt: skip


def _same(sent: Any, kept: Any) -> bool:
    """Equal as JSON, allowing what servers rightly normalise: email case, a datetime's
    spelling, and fields an object keeps beside the ones sent."""
    if isinstance(sent, dict) and isinstance(kept, dict):
        return all(k in kept and _same(v, kept[k]) for k, v in sent.items())
    if isinstance(sent, list) and isinstance(kept, list):
        return len(sent) == len(kept) and all(map(_same, sent, kept))
    if isinstance(sent, str) and isinstance(kept, str):
        if sent == kept or ("@" in sent and sent.lower() == kept.lower()):
            return True
        return _instant(sent) is not None and _instant(sent) == _instant(kept)
    if isinstance(sent, bool) or isinstance(kept, bool):
        return sent is kept
    if isinstance(sent, int | float) and isinstance(kept, int | float):
        return math.isclose(sent, kept, rel_tol=1e-9, abs_tol=1e-9)
    return sent == kept


def _instant(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# -- webhooks -----------------------------------------------------------------------------
@schemathesis.check
def webhook_delivery(ctx: Any, response: Any, case: Any) -> bool | None:
    """A create delivers the declared event: schema-valid, and signed with the secret the
    receiver registered."""
    found = _context(case)
    if found is None or found[0].webhooks is None or not 200 <= response.status_code < 300:
        return None
    context, operation = found
    watch = context.webhooks
    if operation.method != "POST" or context.facts.is_item_path(operation.path):
        return None
    expected = watch.expected_event(operation.path)
    record = _record(_json(response))
    if expected is None or not isinstance(record, dict) or record.get("id") is None:
        return None
    resource = str(record["id"])
    pointer = f"/webhooks (event {expected})"
    if expected in watch.missing:
        return None  # said once; waiting again for each create only slows the run
    delivery = watch.wait_for(resource)
    if delivery is None:
        if not watch.still_subscribed():
            return None  # the run itself deleted our subscription; it is back now
        watch.missing.add(expected)
        _fail(case, "Webhook not delivered",
              f"No delivery about {resource} reached {watch.url} within {watch.timeout:g} s of "
              f"the create; the spec declares {expected}.", pointer)  # fmt: skip
    event = delivery.json()
    kind = _first(event, "type", "event") if isinstance(event, dict) else None
    if kind != expected:
        _fail(case, "Webhook delivered as another event",
              f"The create of {resource} was delivered as {kind!r}; the spec declares "
              f"{expected!r}.", pointer)  # fmt: skip
    if watch.secret:
        from sandbox.errors import WebhookVerificationError
        from sandbox.webhooks.signing import verify
        try:
            verify(delivery.body, delivery.headers, watch.secret)
        except WebhookVerificationError as exc:
            _fail(case, "Webhook signature does not verify",
                  f"The {expected} delivery for {resource} does not verify with the registered "
                  f"secret: {exc}", pointer)  # fmt: skip
    schema = watch.schemas.get(expected)
    problems = context.facts.checks.errors(schema, event) if schema is not None else []
    if problems:
        where = "/".join(map(str, problems[0].absolute_path))
        _fail(case, "Webhook body breaks its schema",
              f"{problems[0].message} (at {where or 'the body'})", pointer)  # fmt: skip
    return True


__all__ = ["OUR_CHECKS", "ContractFailure", "ProbeResponse", "RunContext", "activate"]
