"""What each scenario does to a request: an error to answer with, a wait, or a change to
the response the pipeline made.

Errors are ApiErrors, so they take the spec's error schema for their status like every
other error the sandbox sends; their message says a scenario sent them, so nobody debugs a
demo failure as a real one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from sandbox.access.ratelimit import Decision
from sandbox.errors import ApiError
from sandbox.jsonio import dumps, loads
from sandbox.scenarios.presets import Scenario, seconds, whole

APPLIED_HEADER = "X-Sandbox-Scenario-Applied"

_CODES = {401: "invalid_api_key", 403: "insufficient_scope", 404: "NOT_FOUND",
          409: "CONFLICT", 429: "rate_limit_exceeded", 500: "INTERNAL_ERROR",
          502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT"}  # fmt: skip
_MESSAGES = {
    401: "The credential was revoked or is not valid any more.",
    403: "The credential lacks the permission this operation needs.",
    404: "The requested resource does not exist.",
    409: "The resource was changed by another request or already exists.",
    500: "An unexpected error occurred while handling the request.",
    502: "The upstream service answered with an invalid response.",
    503: "The service is temporarily unavailable. Retry later.",
    504: "The upstream service did not answer in time.",
}


def _error(status: int, chosen: str, **extra: Any) -> ApiError:
    message = _MESSAGES.get(status, "The request failed.")
    return ApiError(
        status, _CODES.get(status, "ERROR"), f"{message} (sandbox scenario: {chosen})", **extra
    )


def scenario_error(
    chosen: Scenario,
    *,
    client_error_status: int,
    peek: Callable[[], Decision | None],
    wait: Callable[[float], None] = time.sleep,
) -> ApiError | None:
    """The error an error preset answers with; None for presets that let the request on.
    ``wait``: how ``timeout`` waits before its 504 (the pipeline adds it to the answer's
    wait)."""
    name = chosen.name
    if name == "rate_limited":
        return rate_limited(chosen, peek())
    if name == "unauthorized":
        challenge = 'Bearer realm="sandbox", error="invalid_token"'
        return _error(401, name, headers={"WWW-Authenticate": challenge})
    if name in ("forbidden", "not_found", "conflict"):
        return _error({"forbidden": 403, "not_found": 404, "conflict": 409}[name], name)
    if name == "validation_error":
        field = chosen.param("field")
        return ApiError(
            client_error_status, "VALIDATION_ERROR",
            f"Invalid request: {field} is not valid (sandbox scenario: {name})",
            details=[{"field": field, "message": "is not valid (sandbox scenario)"}],
        )  # fmt: skip
    if name == "server_error":
        return _error(whole(chosen.param("status"), what="status", low=500, high=599), name)
    if name == "unavailable":
        after = whole(chosen.param("retry_after"), what="retry_after", low=0, high=86400)
        return _error(503, name, headers={"Retry-After": str(after)}, retry_after=after)
    if name == "timeout":
        wait(seconds(chosen.param("after"), what="after"))
        return _error(504, name)
    return None


def rate_limited(chosen: Scenario, decision: Decision | None) -> ApiError:
    """A 429 as the limiter sends it: the plan's real limit and reset, nothing remaining."""
    now = time.time()
    given = chosen.param("retry_after")
    if given:
        wait = whole(given, what="retry_after", low=0, high=86400)
    elif decision is not None:
        wait = max(1, math.ceil(decision.reset - now))
    else:
        wait = 60
    limit = decision.limit if decision is not None else 100
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(math.ceil(now + wait)),
        "Retry-After": str(wait),
    }
    return ApiError(
        429, "rate_limit_exceeded",
        f"Too many requests. Try again in {wait} seconds. (sandbox scenario: rate_limited)",
        headers=headers, retry_after=wait,
    )  # fmt: skip


def flaky_error(chosen: Scenario, attempt_fails: bool) -> ApiError | None:
    if not attempt_fails:
        return None
    status = whole(chosen.param("status"), what="status", low=400, high=599)
    extra: dict[str, Any] = {"headers": {"Retry-After": "1"}, "retry_after": 1}
    if status == 429:
        return rate_limited(chosen, None)
    return _error(status, "flaky", **extra)


def chaos_error(status: int) -> ApiError:
    extra: dict[str, Any] = {}
    if status in (429, 503):
        extra = {"headers": {"Retry-After": "1"}, "retry_after": 1}
    message = _MESSAGES.get(status, "The request failed.")
    return ApiError(status, _CODES.get(status, "ERROR"), f"{message} (sandbox chaos mode)", **extra)


def malformed(response: Response) -> Response:
    """Half the body: a JSON parser fails on it the way it does on a cut connection."""
    body = response.get_data()
    response.set_data(body[: max(1, len(body) // 2)] if body else b'{"')
    if not body:
        response.content_type = "application/json"
    return response


_TOTALS = {"total", "totalcount", "total_count", "totalitems", "total_items", "count",
           "totalpages", "total_pages", "totalresults", "total_results"}  # fmt: skip
_MORE = {"has_more", "hasmore", "has_next", "hasnext"}


def emptied(value: Any) -> Any:
    """The collection in a list response emptied, totals zeroed; None when there is none."""
    result, found = _emptied(value)
    return result if found else None


def _emptied(value: Any) -> tuple[Any, bool]:
    if isinstance(value, list):
        return [], True
    if not isinstance(value, dict):
        return value, False
    found = False
    result: dict[str, Any] = {}
    for name, item in value.items():
        lowered = name.lower()
        if lowered in _TOTALS and isinstance(item, int) and not isinstance(item, bool):
            result[name] = 0
        elif lowered in _MORE and isinstance(item, bool):
            result[name] = False
        else:
            result[name], inner_found = _emptied(item)
            found = found or inner_found
    return result, found


def empty(response: Response) -> Response:
    """An empty list where the body holds a collection; otherwise 204 No Content."""
    if response.is_json:
        try:
            value = emptied(loads(response.get_data()))
        except ValueError:
            value = None
        if value is not None:
            response.set_data(dumps(value))
            return response
    return no_content(response.headers)


def no_content(headers: Any) -> Response:
    kept = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
    return Response(status=204, headers=kept)
