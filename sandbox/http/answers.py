"""From a decision to an HTTP response: success answers and error answers, as the spec
declares them.

A success answer is the operation's declared response in the media type the client accepts:
the value the resource store decided on (a stored record, a page), a named example the
``Prefer`` header asked for, or a body generated from the schema; then the declared headers.
An error answer is shaped by the schema the spec declares for its status (the spec's common
error schema where it declares none), with the headers that status declares.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.errors import ApiError
from sandbox.generation.faker import rng_of_text, stable_text
from sandbox.http.error_bodies import ErrorBodies
from sandbox.http.negotiation import negotiate
from sandbox.http.own_links import OwnLinks
from sandbox.http.preferences import (
    NO_EXAMPLE,
    Preference,
    chosen_example,
    declared_response,
    is_example,
)
from sandbox.http.responder import (
    Planned,
    Responder,
    example_body,
    serialize,
    status_source,
)
from sandbox.http.streaming import EVENT_STREAM, Streams
from sandbox.spec.model import Operation, Spec

STATUS_FROM_HEADER = "X-Sandbox-Status-From"  # the declared range a status was picked from


@dataclass(frozen=True)
class Decided:
    """What the resource store answered: a value to send, or nothing (a 204)."""

    value: Any
    empty: bool = False
    links: str | None = None  # a page's Link header, sent where the operation declares one


class Answers:
    def __init__(
        self, spec: Spec, responder: Responder, errors: ErrorBodies, seed: int | None
    ) -> None:
        self.spec = spec
        self.responder = responder
        self.errors = errors
        self.seed = seed
        self.own_links = OwnLinks(spec.document)
        # (operation, path values, query) -> the text a request's rng is seeded from, less
        # its body's digest: the same few come again and again (~2 µs a request to write)
        self._rng_texts: dict[tuple[Any, ...], str] = {}
        self.streams = Streams(
            spec, lambda schema, rng: responder.faker.generate(schema, rng=rng, mode="response")
        )

    def success(
        self,
        request: Request,
        operation: Operation,
        path_params: dict[str, str],
        rate_headers: dict[str, str],
        *,
        decided: Decided | None = None,
        preference: Preference | None = None,
        rng: random.Random | None = None,
        sent: Any = None,
    ) -> tuple[Response, Any]:
        """The declared success response and the value it carries (for callbacks); ``sent``:
        the request's body as validated, which a generated answer shows back."""
        planned = self.responder.plan(operation)
        if preference is not None and preference.code is not None:
            planned = Planned(
                preference.code, declared_response(self.spec, operation, preference.code)
            )
        declared = self.responder.media_types(planned)
        if decided is not None and decided.empty and declared:
            decided = None  # a deletion the spec answers with a body ({id, deleted}): generate it
        media_type = None
        if declared and not (decided and decided.empty):
            media_type = negotiate(request, declared)
            if self.streams.wanted(request, declared, media_type):  # sandbox.http.streaming
                media_type = EVENT_STREAM
            if media_type is None:
                raise ApiError(
                    406, "NOT_ACCEPTABLE",
                    "This operation can answer with " + ", ".join(declared) + " only; "
                    "adjust the Accept header.",
                )  # fmt: skip
        if rng is None:
            rng = self.rng(operation, request, path_params)
        example = self._preferred_example(planned, media_type, preference)
        if is_example(example):
            value, body = example, example_body(example, media_type) if media_type else b""
        elif media_type == EVENT_STREAM:  # Server-Sent Events, generated whole
            held = (decided.value,) if decided is not None else ()
            body, events = self.streams.body(operation, planned.declaration, rng, *held)
            value = events[-1] if events else None
        elif decided is None:
            if preference is not None and preference.dynamic is False:
                rng = random.Random(0)  # static: the same answer every time
            body, value = self.responder.body(
                planned, media_type, rng, path_params, operation, request.args, sent
            )
        else:
            value = decided.value
            body = serialize(value, media_type) if media_type else b""
        if self.own_links.servers:  # never the vendor's own host (host_url costs a few µs)
            body = self.own_links.rewrite(body, request.host_url)
        headers = self.responder.headers(
            operation, planned, rng, request.path, value, lambda: request.host_url,
            links=decided.links if decided is not None else None,
        )  # fmt: skip
        headers.update(rate_headers)
        source = status_source(operation, planned.status)
        if source is not None:
            headers[STATUS_FROM_HEADER] = source
        if preference is not None:
            headers["Preference-Applied"] = preference.applied()
        if media_type == EVENT_STREAM:
            headers.setdefault("Cache-Control", "no-cache")
        if media_type is not None:
            response = Response(body, status=planned.status, headers=headers,
                                content_type=media_type)  # fmt: skip
        else:
            response = Response(body, status=planned.status, headers=headers)
            response.headers.pop("Content-Type", None)
        return response, value

    def _preferred_example(
        self, planned: Planned, media_type: str | None, preference: Preference | None
    ) -> Any:
        if preference is None or media_type is None:
            return NO_EXAMPLE
        media = (planned.declaration.get("content") or {}).get(media_type) or {}
        return chosen_example(self.spec, media, preference)

    def rng(self, operation: Operation, request: Request, path_params: dict[str, str]) -> Any:
        """Seeded: the same request (operation, path and query values, body) gets the same
        data. Requests that differ only in their bodies (two creates) get different data,
        so their generated ids do not collide."""
        if self.seed is None:
            return random.Random()
        query = sorted(request.args.items(multi=True))
        params = sorted(path_params.items())
        # the text of all but the body's digest, kept by its parts (texts, so a key is
        # equal only where their reprs are)
        key = (operation.operation_id, tuple(params), tuple(query))
        text = self._rng_texts.get(key)
        if text is None:
            if len(self._rng_texts) >= 1024:  # paths and queries come from clients
                self._rng_texts.clear()
            text = self._rng_texts[key] = stable_text(
                self.seed, operation.operation_id, params, query
            )
        body = request.get_data(cache=True)
        if body:
            digest = hashlib.blake2b(body, digest_size=16).hexdigest()
            return rng_of_text(text + "\x1f" + stable_text(digest))
        return rng_of_text(text)

    def error(
        self,
        error: ApiError,
        operation: Operation | None,
        path: str,
        rate_headers: dict[str, str] | None = None,
    ) -> Response:
        body, media_type = self.errors.render(error, operation, path)
        headers = {**(rate_headers or {}), **error.headers}
        if operation is not None:
            headers.update(self._declared_error_headers(operation, error, headers))
        response = Response(body, status=error.status, headers=headers)
        response.content_type = media_type
        return response

    def _declared_error_headers(
        self, operation: Operation, error: ApiError, present: dict[str, str]
    ) -> dict[str, str]:
        """Required headers the spec declares for this error that no stage has set."""
        found = operation.response_for(error.status)
        if not found:
            return {}
        sent = {name.lower() for name in present}
        missing = {
            name: header
            for name, header in (found[1].get("headers") or {}).items()
            if name.lower() not in sent
        }
        if not missing:
            return {}
        rng = random.Random(error.status)
        planned = Planned(error.status, {"headers": missing})
        return self.responder.headers(operation, planned, rng, "", None)
