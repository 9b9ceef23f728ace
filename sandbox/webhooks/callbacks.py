"""OpenAPI ``callbacks``: after an operation succeeds, POST to the URL its runtime expression
names (``{$request.query.callbackUrl}/data``), with a body the callback's schema describes.

Callbacks go through the same outbox as webhooks: signed (with the sandbox's callback
secret), retried, logged, and checked against the destination policy.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from sandbox.spec.documents import follow_pointer
from sandbox.spec.model import Operation, Spec

_EMBEDDED = re.compile(r"\{(\$[^{}]+)\}")


@dataclass(frozen=True)
class CallbackContext:
    """What runtime expressions may read (OpenAPI 3.x "Runtime Expressions")."""

    url: str
    method: str
    path_params: dict[str, str]
    query: Any  # a MultiDict
    headers: Any  # case-insensitive
    request_body: Any
    response_body: Any
    status: int


@dataclass(frozen=True)
class PlannedCallback:
    name: str
    url: str
    body: Any


def plan_callbacks(
    spec: Spec, operation: Operation, context: CallbackContext, faker: Any
) -> list[PlannedCallback]:
    planned = []
    for name, callback in (operation.raw.get("callbacks") or {}).items():
        for expression, path_item in (spec.deref(callback) or {}).items():
            post = (spec.deref(path_item) or {}).get("post")
            if not isinstance(post, dict):
                continue
            url = evaluate_template(str(expression), context)
            if not url or not url.startswith(("http://", "https://")):
                continue  # the request did not name a usable URL: nothing to call
            planned.append(PlannedCallback(name, url, _body(spec, post, faker)))
    return planned


def evaluate_template(template: str, context: CallbackContext) -> str | None:
    """``{$request.query.url}/data`` with each embedded expression replaced; None if any
    expression has no value in this request."""
    if template.startswith("$"):
        value = evaluate(template, context)
        return None if value is None else str(value)
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        value = evaluate(match.group(1), context)
        if value is None:
            missing = True
            return ""
        return str(value)

    result = _EMBEDDED.sub(substitute, template)
    return None if missing else result


def evaluate(expression: str, context: CallbackContext) -> Any:
    if expression == "$url":
        return context.url
    if expression == "$method":
        return context.method
    if expression == "$statusCode":
        return context.status
    source, _, rest = expression.partition(".")
    if source not in ("$request", "$response"):
        return None
    if rest.startswith("body"):
        body = context.request_body if source == "$request" else context.response_body
        pointer = rest[len("body") :]
        if not pointer:
            return body
        if not pointer.startswith("#"):
            return None
        try:
            return follow_pointer(body, pointer[1:])
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    where, _, name = rest.partition(".")
    if source != "$request":
        return None  # response headers are not known before the response is sent
    if where == "query":
        return context.query.get(name)
    if where == "header":
        return context.headers.get(name)
    if where == "path":
        return context.path_params.get(name)
    return None


def _body(spec: Spec, post: dict[str, Any], faker: Any) -> Any:
    body = spec.deref(post.get("requestBody") or {})
    content = body.get("content") or {}
    media = next((m for name, m in content.items() if "json" in name), None)
    if media is None or "schema" not in media:
        return {}
    return faker.generate(media["schema"], rng=random.Random(), mode="request")
