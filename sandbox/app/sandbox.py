"""The assembled sandbox: every part one process shares, and what the admin API asks of them.

``builder.build`` makes one; ``create_app`` serves it (``app.extensions["sandbox"]``). It is
also what the admin blueprints take (``sandbox.admin.services.AdminServices`` says which of
these they use), so admin code never imports this module.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from sandbox.access.auth import Authenticator, Principal
from sandbox.access.keys import KeyRing
from sandbox.access.oauth import OAuthServer
from sandbox.access.ratelimit import RateLimiter
from sandbox.admin.api import problem
from sandbox.app.pipeline import Pipeline
from sandbox.config.settings import Settings
from sandbox.errors import ApiError, StorageError
from sandbox.generation.faker import DataFaker
from sandbox.http.answers import Answers
from sandbox.http.error_bodies import storage_unavailable
from sandbox.http.idempotency import IdempotencyKeys
from sandbox.http.routing import Match, MethodNotAllowed, NotFound, Router
from sandbox.http.validation import RequestValidator
from sandbox.observe.journal import Journal
from sandbox.observe.log import Observer
from sandbox.observe.metrics import Metrics
from sandbox.resources.engine import ResourceEngine
from sandbox.scenarios.board import ScenarioBoard
from sandbox.scenarios.presets import SCENARIO_HEADER
from sandbox.spec.model import Spec
from sandbox.state.protocols import Backend, RecordStore
from sandbox.state.redis.connection import shown_url
from sandbox.webhooks.hub import WebhookHub

ADMIN_PREFIX = "/__sandbox"
_AT_ONCE_METHODS = frozenset({"GET", "HEAD"})
_SCENARIO_ENVIRON = "HTTP_" + SCENARIO_HEADER.upper().replace("-", "_")


@dataclass
class Sandbox:
    spec: Spec
    settings: Settings
    backend: Backend
    faker: DataFaker
    router: Router
    validator: RequestValidator
    answers: Answers
    keys: KeyRing
    oauth: OAuthServer
    authenticator: Authenticator
    limiter: RateLimiter
    open_door: Principal  # with auth off every caller is the banner's key
    store: RecordStore | None
    engine: ResourceEngine | None
    webhooks: WebhookHub
    board: ScenarioBoard
    idempotency: IdempotencyKeys
    journal: Journal
    metrics: Metrics
    observer: Observer
    admin_token: str | None  # None: the admin API is open (loopback)
    subscription_resource: str | None = None  # the spec's own webhook subscription resource
    quiet: frozenset[str] = frozenset()  # resources whose changes are not events
    sleep: Callable[[float], Any] = time.sleep  # tests of long waits swap this out
    started: float = field(default_factory=time.time)
    pipeline: Pipeline = field(init=False)

    def __post_init__(self) -> None:
        self.pipeline = Pipeline(self)
        # state, keys and counters in this process or in files beside it: no round trips
        self._local = not self.settings.redis and self.limiter.counts_here

    def answers_at_once(self, environ: Mapping[str, Any]) -> bool:
        """Whether this request's answer waits on next to nothing but the CPU, so the server
        may run it on its event loop instead of handing it to a thread
        (``sandbox.serving.bridge``): a GET or HEAD of the API on local state, with no
        scenario or chaos in force. What it may still wait on is short and bounded: the rate
        limiter's one statement in a counters file the workers share, and a tenant's first
        request seeding its records once. Not a write (writers queue for the state file),
        nor a scenario (the ``X-Sandbox-Scenario`` header, one switched on, chaos: a
        scenario's counters are writes, and where the server cannot hold an answer its wait
        is slept, ``sandbox.http.held``), nor the admin API, nor state or counters behind a
        network (Redis): each of those would hold every other request of the worker while
        it waits. A failure to tell is a no."""
        if not self._local or environ.get("REQUEST_METHOD") not in _AT_ONCE_METHODS:
            return False
        if _SCENARIO_ENVIRON in environ or environ.get("PATH_INFO", "").startswith(ADMIN_PREFIX):
            return False
        try:
            return self.board.quiet()
        except Exception:
            return False

    def handle(self, request: Request) -> Response:
        return self.pipeline.handle(request)

    def reset(self) -> None:
        """Back to the seed state: stored records, rate-limit counters, the webhook delivery
        log, scenarios and chaos, idempotency keys and the request journal. Credentials (keys,
        OAuth grants, signing key) and subscriptions survive."""
        if self.store is not None:
            self.store.reset()
        self.limiter.reset()
        self.webhooks.reset()
        self.board.reset()
        self.idempotency.reset()
        self.journal.reset()

    def describe(self) -> dict[str, Any]:
        """What ``GET /__sandbox/config`` shows: the spec, its operations and the settings in
        force, secrets left out."""
        hidden = {"admin_token", "callback_secret", "oauth_clients"}
        settings = {
            name: (str(value) if isinstance(value, Path) else value)
            for name, value in vars(self.settings).items()
            if name not in hidden and not name.startswith("_")
        }
        if settings.get("redis"):
            settings["redis"] = shown_url(settings["redis"])  # a password stays out
        client_id, _secret = self.settings.default_oauth_client
        return {
            "spec": {"title": self.spec.title, "path": str(self.spec.path),
                     "openapi": self.spec.openapi, "base_path": self.spec.base_path},
            "operations": [
                {"operationId": op.operation_id, "method": op.method.upper(), "path": op.path,
                 "tags": op.tags}
                for op in self.spec.operations
            ],
            "settings": settings,
            "default_api_key": self.settings.default_api_key,
            "oauth_client_id": client_id,
            "admin_token_required": self.admin_token is not None,
            "chaos": self.board.chaos().as_dict(),
            "worker_pid": os.getpid(),
        }  # fmt: skip

    def health(self) -> Response:
        body = {
            "status": "healthy",
            "spec": self.spec.title,
            "operations": len(self.spec.operations),
            "uptime_seconds": round(time.time() - self.started, 3),
            "worker_pid": os.getpid(),
        }
        return Response(orjson.dumps(body), status=200, content_type="application/json")

    def sample_record(self, event_type: str) -> Any:
        """Realistic data for a manual event: a fresh record of the resource it names."""
        singular = event_type.split(".")[0]
        for resource in self.engine.resources.values() if self.engine else []:
            if resource.singular == singular and resource.item_schema:
                return self.faker.generate(
                    resource.item_schema, rng=random.Random(), mode="response", fresh=True
                )
        return {}

    # -- answers that are not an operation's -----------------------------------------------
    def unrouted(self, route: MethodNotAllowed | NotFound, request: Request) -> Response:
        if isinstance(route, MethodNotAllowed) and _is_preflight(request, self.settings):
            return Response(status=204, headers=_preflight_headers(request, route.allowed))
        if request.path.rstrip("/") == "/health" and not isinstance(route, MethodNotAllowed):
            return self.health()
        if isinstance(route, MethodNotAllowed):
            allowed = ", ".join(route.allowed)
            error = ApiError(
                405, "METHOD_NOT_ALLOWED",
                f"{request.method} is not allowed here; allowed: {allowed}.",
                headers={"Allow": allowed},
            )  # fmt: skip
        else:
            error = ApiError(
                404, "NOT_FOUND", f"No operation matches {request.path}: {route.reason}."
            )
        return self.answers.error(error, None, request.path)

    def failure(self, exc: BaseException, request: Request) -> Response:
        """The one answer to anything that went wrong outside a stage's own errors, for the
        fast path and Flask's error handlers alike: a body over the limit (413), state that
        cannot be used (503), an HTTP error werkzeug raised, or a sandbox bug (500, logged)."""
        path = request.path
        if isinstance(exc, RequestEntityTooLarge):
            return self.too_large(request.method, path, request.args)
        if isinstance(exc, StorageError):
            error = storage_unavailable(exc)
        elif isinstance(exc, ApiError):
            error = exc
        elif isinstance(exc, HTTPException):
            error = ApiError(exc.code or 400, exc.name.upper().replace(" ", "_"),
                             exc.description or "")  # fmt: skip
        else:
            import logging

            logging.getLogger("sandbox").error(
                "sandbox error on %s %s", request.method, path, exc_info=exc
            )
            error = ApiError(
                500, "SANDBOX_ERROR",
                f"The sandbox failed on this request ({type(exc).__name__}: {exc}). "
                "This is a sandbox bug; please report it with the request.",
            )  # fmt: skip
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            answer = problem(error.status, error.code, error.message)
            answer.headers.update(error.headers)
            return answer
        route = self.router.match(request.method, path, request.args)
        operation = route.operation if isinstance(route, Match) else None
        return self.answers.error(error, operation, path)

    def too_large(self, method: str, path: str, query: Mapping[str, str] | None = None) -> Response:
        """413 for a body over ``max_body_bytes``, in the shape of whoever was asked."""
        limit = self.settings.max_body_bytes
        message = (
            f"The request body is larger than the {limit} bytes this sandbox accepts "
            "(set max_body_bytes to change it)."
        )
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            return problem(413, "payload_too_large", message)
        route = self.router.match(method, path, query)
        operation = route.operation if isinstance(route, Match) else None
        return self.answers.error(ApiError(413, "PAYLOAD_TOO_LARGE", message), operation, path)


def _is_preflight(request: Request, settings: Settings) -> bool:
    return (
        settings.cors
        and request.method == "OPTIONS"
        and "Access-Control-Request-Method" in request.headers
    )


def _preflight_headers(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    requested = request.headers.get("Access-Control-Request-Headers", "")
    return {
        "Access-Control-Allow-Methods": ", ".join(allowed),
        "Access-Control-Allow-Headers": requested or "Authorization, Content-Type",
        "Access-Control-Max-Age": "600",
        "Allow": ", ".join(allowed),
    }
