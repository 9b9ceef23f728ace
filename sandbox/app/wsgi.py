"""The Flask application: one catch-all view running the sandbox pipeline.

    route -> auth -> rate limit -> scenario, chaos -> idempotency -> validate -> respond

Each stage may answer early with an ApiError, which is shaped to the spec's schema for
that status. The spec, router, validators and generators are built once here.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import random
import time
from pathlib import Path
from typing import Any

from flask import Flask, Request, request
from flask.ctx import RequestContext
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.routing import PathConverter
from werkzeug.wrappers import Response

from sandbox.access.auth import ANONYMOUS, Authenticator, Principal
from sandbox.access.keys import KeyRing
from sandbox.access.oauth import AccessTokens, Grants, OAuthServer, build_clients, discover
from sandbox.access.ratelimit import RateLimiter
from sandbox.admin.api import admin_blueprint, problem
from sandbox.admin.contract import AdminContract
from sandbox.admin.dashboard import dashboard_blueprint
from sandbox.admin.docs import docs_blueprint
from sandbox.admin.origin import PRIVATE_HEADERS, is_guarded, origin_guard
from sandbox.admin.scenarios import scenarios_blueprint
from sandbox.admin.token import admin_guard, new_admin_token
from sandbox.admin.webhooks import webhooks_blueprint
from sandbox.config.settings import Settings, is_loopback, load_settings
from sandbox.errors import (
    ApiError,
    ConfigError,
    DestinationRefused,
    PayloadTooLarge,
    ScenarioError,
    StorageError,
)
from sandbox.generation.faker import DataFaker, stable_rng
from sandbox.http.error_bodies import ErrorBodies, storage_unavailable
from sandbox.http.idempotency import HEADER as IDEMPOTENCY_HEADER
from sandbox.http.idempotency import IdempotencyKeys, Kept, fingerprint
from sandbox.http.preferences import (
    NO_EXAMPLE,
    Preference,
    chosen_example,
    declared_response,
    is_example,
    read_preference,
)
from sandbox.http.responder import Planned, Responder, serialize
from sandbox.http.routing import Match, MethodNotAllowed, Router
from sandbox.http.validation import RequestData, RequestValidator, request_data
from sandbox.observe.journal import Journal
from sandbox.observe.log import Observer, Trace
from sandbox.observe.metrics import Metrics
from sandbox.resources.engine import Call, NotStored, Outcome, ResourceEngine
from sandbox.resources.inference import Binding, Resource
from sandbox.scenarios import effects
from sandbox.scenarios.board import ScenarioBoard
from sandbox.scenarios.chaos import Chaos, parse_chaos
from sandbox.scenarios.presets import SCENARIO_HEADER, Scenario, parse_header
from sandbox.scenarios.presets import seconds as duration
from sandbox.spec.model import Operation, Spec, load_spec
from sandbox.spec.schemas import SchemaChecks
from sandbox.state.protocols import RecordStore
from sandbox.state.redis.connection import shown_url
from sandbox.state.select import open_state
from sandbox.webhooks.bridge import stored_subscriptions, subscription_resource
from sandbox.webhooks.callbacks import CallbackContext, plan_callbacks
from sandbox.webhooks.delivery import RetryPolicy
from sandbox.webhooks.hub import WebhookHub
from sandbox.webhooks.safety import DestinationPolicy
from sandbox.webhooks.signing import SCHEMES, new_secret
from sandbox.webhooks.subscriptions import Subscription, Subscriptions

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]


class Sandbox:
    """The pipeline's parts, shared by every request of one process."""

    def __init__(self, spec: Spec, settings: Settings) -> None:
        self.spec = spec
        self.settings = settings
        self.started = time.time()
        self.faker = DataFaker(
            spec.resolve, seed=settings.seed, locale=settings.locale, openapi_version=spec.version
        )
        self.checks = SchemaChecks(spec.document, spec.version)
        self.router = Router(spec.operations, spec.base_path)
        self.validator = RequestValidator(spec)
        # SQLite state file, or Redis (--redis): every piece of shared state opens through it
        self.backend = open_state(settings, spec.title)
        self.keys = KeyRing(settings.fixed_keys(), self.backend.keys())
        self.oauth = self._oauth_server(spec, settings)
        self.authenticator = Authenticator(spec, self.keys, self.oauth.tokens, self.oauth.clients)
        self.limiter = RateLimiter(
            settings.all_plans(),
            self.backend.counters(),
            scale=settings.rate_limit_scale,
        )
        # with auth off every caller is the banner's key: one tenant, one plan
        self._open_door = Principal(settings.default_api_key, None, settings.default_plan)
        if not self.limiter.knows(settings.default_plan):
            raise ConfigError(
                f"default_plan {settings.default_plan!r} is not a plan; known plans: "
                + ", ".join(sorted(self.limiter.plans))
            )
        self.admin_contract = AdminContract(sorted(self.limiter.plans))
        self.responder = Responder(spec, self.faker, self.checks)
        self.errors = ErrorBodies(spec, self.faker, self.checks)
        self.store: RecordStore | None = None
        self.engine: ResourceEngine | None = None
        if settings.stateful:
            self.store = self.backend.records()
            self.engine = ResourceEngine(
                spec, self.store, self.faker, self.checks,
                seed=settings.seed, seed_records=settings.seed_records,
            )  # fmt: skip
        self._quiet: set[str] = set()
        self._subscriptions: str | None = None  # the spec's own webhook subscription resource
        self.webhooks = self._webhook_hub(spec, settings)
        try:
            default_chaos = parse_chaos(settings.chaos)
        except ScenarioError as exc:
            raise ConfigError(f"chaos: {exc}") from None
        self.board = ScenarioBoard(self.backend.scenarios(), default_chaos)
        self.idempotency = IdempotencyKeys(self.backend.idempotency())
        self.journal = Journal(self.backend.journal(), settings.journal_size)
        self.metrics = Metrics(
            lambda: (self.webhooks.outbox.counts(), self.webhooks.outbox.attempt_counts())
        )
        self.observer = Observer(self.journal, self.metrics)
        self._chaos_rng = random.Random()
        self.sleep = time.sleep  # tests of long waits swap this out
        self.admin_token: str | None = None  # None: the admin API is open (loopback)
        if not is_loopback(settings.host):
            self.admin_token = settings.admin_token or new_admin_token()
            if not settings.admin_token:
                logging.getLogger("sandbox").warning(
                    "admin API token (listening on %s): %s", settings.host, self.admin_token
                )

    def _webhook_hub(self, spec: Spec, settings: Settings) -> WebhookHub:
        if settings.webhook_signing not in SCHEMES:
            raise ConfigError(
                f"webhook_signing {settings.webhook_signing!r} is not a scheme; use one of: "
                + ", ".join(SCHEMES)
            )
        listed = None
        if self.engine is not None and self.store is not None:
            resource = subscription_resource(self.engine.resources)
            if resource is not None:
                store, engine = self.store, self.engine
                engine.unseeded.add(resource.name)  # seeded URLs would point nowhere
                self._quiet.add(resource.name)  # subscribing is not itself an event
                self._subscriptions = resource.name
                if "secret" in ((resource.item_schema or {}).get("properties") or {}):
                    engine.secret_fields[resource.name] = ("secret", new_secret)

                def listed(tenant: str, found: Resource = resource) -> list[Subscription]:
                    return stored_subscriptions(store, found, tenant)

        return WebhookHub(
            spec, self.faker,
            outbox=self.backend.outbox(ordered=settings.webhook_ordered),
            subscriptions=Subscriptions(self.backend.subscriptions()),
            retry=RetryPolicy(settings.webhook_attempts, settings.webhook_backoff,
                              settings.webhook_timeout),
            policy=DestinationPolicy(settings.private_webhooks,
                                     frozenset(settings.webhook_allowed_hosts),
                                     look_up_names=settings.webhook_dns),
            signing=settings.webhook_signing,
            renames=settings.webhook_event_names,
            max_payload=settings.webhook_max_payload,
            api_subscriptions=listed,
        )  # fmt: skip

    def _oauth_server(self, spec: Spec, settings: Settings) -> OAuthServer:
        clients = build_clients(
            settings.oauth_clients,
            default=settings.default_oauth_client,
            default_identity=settings.default_api_key,
            default_plan=settings.default_plan,
            key_plan=self.keys.plan_of,
        )
        tokens = AccessTokens(
            self.backend.signing_keys(),
            algorithm=settings.token_algorithm,
            ttl=settings.token_ttl,
            audience=settings.token_audience or _default_audience(spec),
        )
        return OAuthServer(
            discover(spec), clients, tokens, Grants(self.backend.grants()),
            issuer=settings.token_issuer, spec_check=self._spec_problem,
        )  # fmt: skip

    def _spec_problem(self, flask_request: Request) -> str | None:
        """The first way a request breaks its operation's declared shape, if the spec
        declares the operation (the OAuth endpoints use this for RFC 6749 errors)."""
        route = self.router.match(flask_request.method, flask_request.path)
        if not isinstance(route, Match):
            return None
        result = self.validator.validate(route.operation, request_data(flask_request, {}))
        return None if result.ok else _summary(result.problems)

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

    # -- the pipeline -------------------------------------------------------------------
    def handle(self, flask_request: Request) -> Response:
        started = time.perf_counter()
        trace = Trace(_request_id(flask_request))
        response = self._pipeline(flask_request, trace)
        response.headers["X-Request-Id"] = trace.request_id
        if trace.scenario:
            response.headers[effects.APPLIED_HEADER] = trace.scenario
        self.observer.request(flask_request, response, trace, time.perf_counter() - started)
        return response

    def _pipeline(self, flask_request: Request, trace: Trace) -> Response:
        path = flask_request.path
        route = self.router.match(flask_request.method, path)
        if not isinstance(route, Match):
            if path.rstrip("/") == "/health" and not isinstance(route, MethodNotAllowed):
                return self.health()
            return self.unrouted(route, flask_request)
        operation = route.operation
        trace.operation = operation.operation_id
        trace.route = f"{operation.method.upper()} {operation.path}"
        rate_headers: dict[str, str] = {}
        try:
            data = request_data(flask_request, route.path_params)
            try:
                principal = (
                    self.authenticator.authenticate(operation, data)
                    if self.settings.auth
                    else self._open_door
                )
            except ApiError:
                # failed attempts count against the client's address, as real APIs do
                rate_headers = self._rate_limit(ANONYMOUS, flask_request)
                raise
            trace.key = principal.key
            rate_headers = self._rate_limit(principal, flask_request)
            chosen, chaos = self._scenario_for(flask_request, principal, trace)
            delay, chaos_status = chaos.draw(self._chaos_rng) if chaos.on else (0.0, None)
            if delay:
                self.sleep(delay)
            if chaos_status is not None:
                trace.scenario = "chaos"
                self.metrics.scenarios.labels("chaos").inc()
                raise effects.chaos_error(chaos_status)
            return self._once(operation, flask_request, route, principal, rate_headers,
                              chosen, trace, data)  # fmt: skip
        except ApiError as error:
            return self.error_response(error, operation, path, rate_headers)

    def _scenario_for(
        self, flask_request: Request, principal: Principal, trace: Trace
    ) -> tuple[Scenario | None, Chaos]:
        """The X-Sandbox-Scenario header's, else one switched on through the admin API; and
        chaos, read with it (one read of the board per request)."""
        asked = flask_request.headers.get(SCENARIO_HEADER)
        try:
            if asked:
                chosen, chaos = parse_header(asked), self.board.chaos()
            else:
                pick = self.board.take(principal.key, trace.operation or "", trace.route or "")
                chosen, chaos = pick.scenario, pick.chaos
        except ScenarioError as exc:
            raise ApiError(400, "INVALID_SCENARIO", f"{SCENARIO_HEADER}: {exc}") from None
        if chosen is not None:
            trace.scenario = chosen.text()
            self.metrics.scenarios.labels(chosen.name).inc()
        return chosen, chaos

    def _once(
        self, operation: Operation, flask_request: Request, route: Match, principal: Principal,
        rate_headers: dict[str, str], chosen: Scenario | None, trace: Trace, data: RequestData,
    ) -> Response:  # fmt: skip
        """Run the request, or replay it: a POST with an Idempotency-Key runs once."""
        key = flask_request.headers.get(IDEMPOTENCY_HEADER)
        if flask_request.method != "POST" or not key:
            return self._run(operation, flask_request, route, principal, rate_headers, chosen,
                             trace, data)  # fmt: skip
        tenant = principal.key or f"ip:{flask_request.remote_addr}"
        claim = self.idempotency.claim(
            tenant, key,
            fingerprint(flask_request.method, flask_request.path, flask_request.get_data()),
        )  # fmt: skip
        if claim.conflict == "reused":
            raise ApiError(
                409, "IDEMPOTENCY_KEY_REUSED",
                f"{IDEMPOTENCY_HEADER} {key!r} was used with a different request; use a new "
                "key for a new request.",
            )  # fmt: skip
        if claim.conflict is not None:
            raise ApiError(
                409, "IDEMPOTENCY_KEY_IN_USE",
                f"A request with {IDEMPOTENCY_HEADER} {key!r} is still running; retry shortly.",
                headers={"Retry-After": "1"}, retry_after=1,
            )  # fmt: skip
        if claim.kept is not None:
            trace.replayed = True
            response = Response(claim.kept.body, status=claim.kept.status,
                                headers=claim.kept.headers)  # fmt: skip
            response.headers.update(rate_headers)
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response: Response | None = None
        try:
            response = self._run(operation, flask_request, route, principal, rate_headers,
                                 chosen, trace, data)  # fmt: skip
            return response
        finally:  # a crash or an error frees the key for a retry
            status = response.status_code if response is not None else 500
            body = response.get_data() if response is not None else b""
            kept_headers = _replayable(response.headers) if response is not None else []
            self.idempotency.finish(tenant, key, Kept(status, kept_headers, body))

    def _run(
        self, operation: Operation, flask_request: Request, route: Match, principal: Principal,
        rate_headers: dict[str, str], chosen: Scenario | None, trace: Trace, data: RequestData,
    ) -> Response:  # fmt: skip
        try:
            if chosen is not None:
                early = self._scenario_effect(chosen, operation, flask_request, principal)
                if early is not None:
                    return early
            response = self._answer(operation, flask_request, route, principal, rate_headers, data)
        except ApiError as error:
            if error.code == "VALIDATION_ERROR" and not trace.scenario:
                trace.problems = error.details
            return self.error_response(error, operation, flask_request.path, rate_headers)
        if chosen is not None and chosen.name == "malformed":
            return effects.malformed(response)
        if chosen is not None and chosen.name == "empty":
            return effects.empty(response)
        return response

    def _scenario_effect(
        self, chosen: Scenario, operation: Operation, flask_request: Request,
        principal: Principal,
    ) -> Response | None:  # fmt: skip
        """Raise the scenario's error, wait its latency, or answer it at once (empty)."""
        error = effects.scenario_error(
            chosen, client_error_status=_client_error_status(operation),
            peek=lambda: self.limiter.peek(principal.key or "", principal.plan),
            sleep=self.sleep,
        )  # fmt: skip
        if error is not None:
            raise error
        if chosen.name == "slow":
            self.sleep(duration(chosen.param("latency"), what="latency"))
        elif chosen.name == "flaky":
            retry_of = flask_request.headers.get(IDEMPOTENCY_HEADER) or (
                f"{flask_request.method} {flask_request.full_path}"
            )
            client = principal.key or f"ip:{flask_request.remote_addr}"
            fails = int(chosen.param("fails"))
            attempt_fails = self.board.flaky_fails(f"{client}|{retry_of}|{chosen.text()}", fails)
            flaky = effects.flaky_error(chosen, attempt_fails)
            if flaky is not None:
                raise flaky
        elif chosen.name == "empty" and flask_request.method not in ("GET", "HEAD"):
            return effects.no_content({})  # nothing is written
        return None

    def _answer(
        self, operation: Operation, flask_request: Request, route: Match, principal: Principal,
        rate_headers: dict[str, str], data: RequestData,
    ) -> Response:  # fmt: skip
        """Validate, then answer: a preferred response, the engine's, or a generated one."""
        result = self.validator.validate(operation, data)
        if not result.ok:
            raise ApiError(
                result.status if result.status == 415 else _client_error_status(operation),
                "VALIDATION_ERROR" if result.status != 415 else "UNSUPPORTED_MEDIA_TYPE",
                _summary(result.problems),
                details=[p.as_dict() for p in result.problems],
            )
        preference = read_preference(flask_request.headers.get("Prefer"))
        if preference is not None:  # a declared response on request, as Prism gives it
            return self.respond(
                operation, flask_request, route.path_params, rate_headers, preference=preference
            )
        binding = self.engine.binding(operation.operation_id) if self.engine else None
        if binding is None or self.engine is None:  # stateless, or not a resource
            return self.respond(operation, flask_request, route.path_params, rate_headers)
        if binding.resource.name == self._subscriptions:
            self._admit_destination(operation, result.body)
        call = Call(
            tenant=principal.key or "public",
            path_params=route.path_params,
            query=flask_request.args,
            body=result.body,
            request_path=flask_request.path,
            rng=self._rng(operation, flask_request, route.path_params),
        )
        try:
            outcome = self._handle_stored(self.engine, binding, call)
        except NotStored:
            return self.respond(operation, flask_request, route.path_params, rate_headers)
        # the engine's rng goes on to the headers: one seeded rng per request is enough
        return self.respond(
            operation, flask_request, route.path_params, rate_headers, outcome, rng=call.rng
        )

    def _admit_destination(self, operation: Operation, body: Any) -> None:
        """The spec's subscription endpoint refuses what the admin API refuses, in the
        spec's own error shape: a URL the delivery worker would never send to."""
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str):
            return
        try:
            self.webhooks.policy.admit(url)
        except DestinationRefused as exc:
            message = str(exc)
            raise ApiError(
                _client_error_status(operation), "VALIDATION_ERROR",
                f"Invalid request: url {message}",
                details=[{"field": "url", "message": message}],
            ) from None

    def sample_record(self, event_type: str) -> Any:
        """Realistic data for a manual event: a fresh record of the resource it names."""
        singular = event_type.split(".")[0]
        for resource in self.engine.resources.values() if self.engine else []:
            if resource.singular == singular and resource.item_schema:
                return self.faker.generate(
                    resource.item_schema, rng=random.Random(), mode="response", fresh=True
                )
        return {}

    def _handle_stored(self, engine: ResourceEngine, binding: Binding, call: Call) -> Outcome:
        """Run a stored operation. A change and the webhook events it causes are written in
        one transaction of the state file: both are kept, or neither is. The engine makes
        its records before the transaction begins, so the write lock is held for the writes
        and the events only."""
        event_type = self.webhooks.event_name(binding.resource.singular, binding.action)
        if event_type is None or binding.resource.name in self._quiet:
            return engine.handle(binding, call)
        engine.prepare(call.tenant, binding)  # seeding stays outside the write lock
        call.seeded = True
        call.transaction = self.backend.transaction
        queued: list[int] = []
        call.changed = lambda records: queued.append(
            self._announce(event_type, call.tenant, records)
        )
        outcome = engine.handle(binding, call)
        if sum(queued):
            self.webhooks.worker.wake()  # after the commit, so the worker sees the rows
        return outcome

    def _announce(self, event_type: str, tenant: str, records: list[dict[str, Any]]) -> int:
        """Every stored change is an event for the tenant's webhook subscribers."""
        queued = 0
        for record in records:
            try:
                queued += len(self.webhooks.emit(tenant, event_type, record, wake=False)[1])
            except PayloadTooLarge:
                logging.getLogger("sandbox.webhooks").warning(
                    "%s not sent: the record is larger than webhook_max_payload", event_type
                )
        return queued

    def _rate_limit(self, principal: Principal, flask_request: Request) -> dict[str, str]:
        identity = principal.key or f"ip:{flask_request.remote_addr}"
        decision = self.limiter.hit(identity, principal.plan)
        if decision is None:
            return {}
        headers = decision.headers(self.settings.ietf_rate_limit_headers)
        if not decision.allowed:
            self.metrics.rate_limited.labels(principal.plan).inc()
            raise ApiError(
                429,
                "rate_limit_exceeded",
                f"Too many requests. Try again in {decision.retry_after} seconds.",
                headers={**headers, "Retry-After": str(decision.retry_after)},
                retry_after=decision.retry_after,
            )
        return headers

    def respond(
        self,
        operation: Operation,
        flask_request: Request,
        path_params: dict[str, str],
        rate_headers: dict[str, str],
        outcome: Outcome | None = None,
        preference: Preference | None = None,
        rng: Any = None,
    ) -> Response:
        """The declared success response: the engine's value when there is one (stateful
        operations), else a generated one; or the response a Prefer header asks for."""
        planned = self.responder.plan(operation)
        if preference is not None and preference.code is not None:
            planned = Planned(
                preference.code, declared_response(self.spec, operation, preference.code)
            )
        declared = self.responder.media_types(planned)
        if outcome is not None and outcome.empty and declared:
            outcome = None  # a deletion the spec answers with a body ({id, deleted}): generate it
        media_type = None
        if declared and not (outcome and outcome.empty):
            media_type = _negotiate(flask_request, declared)
            if media_type is None:
                raise ApiError(
                    406,
                    "NOT_ACCEPTABLE",
                    "This operation can answer with " + ", ".join(declared) + " only; "
                    "adjust the Accept header.",
                )
        if rng is None:
            rng = self._rng(operation, flask_request, path_params)
        example = self._preferred_example(planned, media_type, preference)
        if is_example(example):
            value, body = example, serialize(example, media_type) if media_type else b""
        elif outcome is None:
            if preference is not None and preference.dynamic is False:
                rng = random.Random(0)  # static: the same answer every time
            body, value = self.responder.body(planned, media_type, rng, path_params)
        else:
            value = outcome.value
            body = serialize(value, media_type) if media_type else b""
        headers = self.responder.headers(
            operation, planned, rng, flask_request.path, value, lambda: flask_request.host_url
        )
        headers.update(rate_headers)
        if preference is not None:
            headers["Preference-Applied"] = preference.applied()
        if media_type is not None:
            response = Response(body, status=planned.status, headers=headers,
                                content_type=media_type)  # fmt: skip
        else:
            response = Response(body, status=planned.status, headers=headers)
            response.headers.pop("Content-Type", None)
        if operation.raw.get("callbacks") and 200 <= planned.status < 300:
            self._call_back(operation, flask_request, path_params, value, planned.status)
        return response

    def _preferred_example(
        self, planned: Planned, media_type: str | None, preference: Preference | None
    ) -> Any:
        if preference is None or media_type is None:
            return NO_EXAMPLE
        media = (planned.declaration.get("content") or {}).get(media_type) or {}
        return chosen_example(self.spec, media, preference)

    def _call_back(
        self, operation: Operation, flask_request: Request, path_params: dict[str, str],
        response_body: Any, status: int,
    ) -> None:  # fmt: skip
        """Fire the operation's OpenAPI callbacks at the URLs the request named."""
        context = CallbackContext(
            url=flask_request.url, method=flask_request.method, path_params=path_params,
            query=flask_request.args, headers=flask_request.headers,
            request_body=flask_request.get_json(silent=True), response_body=response_body,
            status=status,
        )  # fmt: skip
        secret = self.settings.signing_secret_for_callbacks
        for callback in plan_callbacks(self.spec, operation, context, self.faker):
            self.webhooks.call_back("callbacks", callback, secret)

    def _rng(self, operation: Operation, flask_request: Request, path_params: dict) -> Any:
        """Seeded: the same request (operation, path and query values, body) gets the same
        data. Requests that differ only in their bodies (two creates) get different data,
        so their generated ids do not collide."""
        if self.settings.seed is None:
            return random.Random()
        query = sorted(flask_request.args.items(multi=True))
        params = sorted(path_params.items())
        body = flask_request.get_data(cache=True)
        if body:
            digest = hashlib.blake2b(body, digest_size=16).hexdigest()
            return stable_rng(self.settings.seed, operation.operation_id, params, query, digest)
        return stable_rng(self.settings.seed, operation.operation_id, params, query)

    def error_response(
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

    def unrouted(self, route: Any, flask_request: Request) -> Response:
        if isinstance(route, MethodNotAllowed) and _is_preflight(flask_request, self.settings):
            return Response(status=204, headers=_preflight_headers(flask_request, route.allowed))
        if isinstance(route, MethodNotAllowed):
            allowed = ", ".join(route.allowed)
            error = ApiError(
                405,
                "METHOD_NOT_ALLOWED",
                f"{flask_request.method} is not allowed here; allowed: {allowed}.",
                headers={"Allow": allowed},
            )
        else:
            error = ApiError(
                404, "NOT_FOUND", f"No operation matches {flask_request.path}: {route.reason}."
            )
        return self.error_response(error, None, flask_request.path)

    def too_large(self, method: str, path: str) -> Response:
        """413 for a body over ``max_body_bytes``, in the shape of whoever was asked."""
        limit = self.settings.max_body_bytes
        message = (
            f"The request body is larger than the {limit} bytes this sandbox accepts "
            "(set max_body_bytes to change it)."
        )
        if path == "/__sandbox" or path.startswith("/__sandbox/"):
            return problem(413, "payload_too_large", message)
        route = self.router.match(method, path)
        operation = route.operation if isinstance(route, Match) else None
        return self.error_response(ApiError(413, "PAYLOAD_TOO_LARGE", message), operation, path)

    def health(self) -> Response:
        import orjson

        body = {
            "status": "healthy",
            "spec": self.spec.title,
            "operations": len(self.spec.operations),
            "uptime_seconds": round(time.time() - self.started, 3),
            "worker_pid": os.getpid(),
        }
        return Response(orjson.dumps(body), status=200, content_type="application/json")


class _AnythingConverter(PathConverter):
    """Every path reaches the sandbox's router, even ones with newlines or odd bytes, so the
    answer always comes from the spec's routes and error shapes."""

    regex = r"[\s\S]*"
    part_isolating = False


def _is_preflight(flask_request: Request, settings: Settings) -> bool:
    return (
        settings.cors
        and flask_request.method == "OPTIONS"
        and "Access-Control-Request-Method" in flask_request.headers
    )


def _preflight_headers(flask_request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    requested = flask_request.headers.get("Access-Control-Request-Headers", "")
    return {
        "Access-Control-Allow-Methods": ", ".join(allowed),
        "Access-Control-Allow-Headers": requested or "Authorization, Content-Type",
        "Access-Control-Max-Age": "600",
        "Allow": ", ".join(allowed),
    }


def _request_id(flask_request: Request) -> str:
    """The caller's X-Request-Id when it is a sane token (tracing across services), else new."""
    given = flask_request.headers.get("X-Request-Id", "")
    if 0 < len(given) <= 128 and given.isprintable() and " " not in given:
        return given
    return _new_request_id()


def _new_request_id() -> str:
    """32 random hex digits, like ``uuid4().hex`` without a system call per request (the
    random module's own generator is reseeded in every forked worker)."""
    return f"{random.getrandbits(128):032x}"


_NOT_REPLAYED = {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit",
                 "ratelimit-policy", "retry-after", "x-request-id", "date", "content-length",
                 effects.APPLIED_HEADER.lower()}  # fmt: skip


def _replayable(headers: Any) -> list[tuple[str, str]]:
    """What a replay repeats: the answer's own headers, not this moment's rate-limit state."""
    return [(name, value) for name, value in headers.items() if name.lower() not in _NOT_REPLAYED]


def _default_audience(spec: Spec) -> str:
    """The API's own URL as the spec states it (what clients configure as the audience)."""
    servers = spec.document.get("servers") or []
    url = str(servers[0].get("url", "")) if servers and isinstance(servers[0], dict) else ""
    return url if "://" in url and "{" not in url else f"urn:sandbox:{spec.path.name}"


def _negotiate(flask_request: Request, declared: list[str]) -> str | None:
    if not flask_request.headers.get("Accept"):  # before parsing it: most clients send none
        return declared[0]
    accept = flask_request.accept_mimetypes
    if not accept:
        return declared[0]
    best = accept.best_match(declared)
    if best is None and any(value == "*/*" for value, _ in accept):
        return declared[0]
    return best


def _client_error_status(operation: Operation) -> int:
    """400, unless the operation declares 422 and not 400 (some APIs validate that way)."""
    if "400" not in operation.responses and "422" in operation.responses:
        return 422
    return 400


def _summary(problems: list[Any]) -> str:
    first = problems[0]
    text = f"Invalid request: {first.field} {first.message}"
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more problems)"
    return text


def create_app(spec: Spec | str | Path | None = None, settings: Settings | None = None) -> Flask:
    """Build the WSGI app for a spec; every spec problem raises SpecError before serving."""
    if not isinstance(spec, Spec):
        default = settings.spec if settings else Path("openapi.yaml")
        path = Path(spec) if spec is not None else default
        spec = load_spec(
            path,
            validate=settings.validate_spec if settings else True,
            lenient=settings.lenient if settings else False,
            cache_dir=settings.spec_cache_dir if settings else None,
        )
    if settings is None:
        settings = load_settings(spec.path, spec_extension=spec.document.get("x-sandbox"))
    sandbox = Sandbox(spec, settings)
    app = Flask("sandbox")
    app.url_map.converters["anything"] = _AnythingConverter
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["sandbox"] = sandbox

    def dispatch(subpath: str = "") -> Response:
        # the request object itself: every attribute read through the proxy costs a lookup
        return sandbox.handle(request._get_current_object())  # type: ignore[attr-defined]

    app.add_url_rule("/", "root", dispatch, methods=ALL_METHODS, provide_automatic_options=False)
    app.add_url_rule(
        "/<anything:subpath>",
        "dispatch",
        dispatch,
        methods=ALL_METHODS,
        provide_automatic_options=False,
    )
    app.register_blueprint(admin_blueprint(sandbox))
    app.register_blueprint(webhooks_blueprint(sandbox))
    app.register_blueprint(docs_blueprint(sandbox))
    app.register_blueprint(scenarios_blueprint(sandbox))
    app.register_blueprint(dashboard_blueprint(sandbox))
    sandbox.oauth.register(app)

    @app.before_request
    def _admin_token() -> Response | None:
        return (
            origin_guard(request, on_loopback=settings.on_loopback)
            or admin_guard(request, sandbox.admin_token)
            or sandbox.admin_contract.check(request)
        )

    @app.after_request
    def _common_headers(response: Response) -> Response:
        return _common_response_headers(request, response, settings)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc: RequestEntityTooLarge) -> Response:
        return sandbox.too_large(request.method, request.path)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if isinstance(exc, WerkzeugNotFound | WerkzeugMethodNotAllowed):
            return sandbox.handle(request)  # e.g. a method Flask was not told about: QUERY
        error = ApiError(exc.code or 400, exc.name.upper().replace(" ", "_"), exc.description or "")
        return sandbox.error_response(error, None, request.path)

    @app.errorhandler(StorageError)
    def _storage(exc: StorageError) -> Response:
        error = storage_unavailable(exc)
        if request.path.startswith("/__sandbox"):  # the admin API's own error shape
            answer = problem(error.status, error.code, error.message)
            answer.headers.update(error.headers)
            return answer
        route = sandbox.router.match(request.method, request.path)
        operation = route.operation if isinstance(route, Match) else None
        return sandbox.error_response(error, operation, request.path)

    @app.errorhandler(Exception)
    def _crash(exc: Exception) -> Response:
        app.logger.exception("sandbox error on %s %s", request.method, request.path)
        error = ApiError(
            500,
            "SANDBOX_ERROR",
            f"The sandbox failed on this request ({type(exc).__name__}: {exc}). "
            "This is a sandbox bug; please report it with the request.",
        )
        return sandbox.error_response(error, None, request.path)

    app.wsgi_app = _ApiFastPath(app, sandbox, _admin_token, _common_headers)  # type: ignore[method-assign]
    return app


def _frame_chunked_body(environ: dict[str, Any], limit: int) -> bool:
    """Give a chunked body a length, so one limit holds whatever the framing. Werkzeug cuts
    a chunked body at ``MAX_CONTENT_LENGTH`` without a word (the truncated text may still
    parse: a form, a CSV), where a body with a Content-Length over it is refused. Read up to
    one byte past the limit: False when the body is over it (a 413), else the body is
    buffered and described by a Content-Length, as if the client had sent one."""
    if environ.get("CONTENT_LENGTH") or "chunked" not in environ.get(
        "HTTP_TRANSFER_ENCODING", ""
    ).lower():
        return True
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        return False
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    del environ["HTTP_TRANSFER_ENCODING"]
    return True


def _common_response_headers(
    flask_request: Request, response: Response, settings: Settings
) -> Response:
    """What every answer carries: a request id, and CORS headers for a browser, except
    from the admin API, dashboard and docs, which only this origin may read."""
    if "X-Request-Id" not in response.headers:
        response.headers["X-Request-Id"] = _new_request_id()
    if is_guarded(flask_request.path):
        response.headers.update(PRIVATE_HEADERS)
    elif settings.cors and flask_request.headers.get("Origin"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = (
            "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, "
            "Location, X-Request-Id"
        )
    return response


class _ApiFastPath:
    """The WSGI entry: requests for the API go straight to the pipeline, everything else
    (admin API, dashboard, docs, OAuth endpoints, static files) through Flask.

    Flask would route an API request to the catch-all view anyway; what it adds on the way
    (request context, URL matching against every rule, hook lookups) costs about a third of a
    small request. Exactly what Flask does for the catch-all is done here: the same request
    class and body limits, the same after-request headers, and an exception goes to the
    app's own error handlers inside a request context, as Flask would hand it over. Paths
    that another rule could match, and everything under ``/__sandbox``, take Flask's way;
    so does every request if hooks other than the sandbox's own are registered."""

    _ADMIN = "/__sandbox"

    def __init__(self, app: Flask, sandbox: Sandbox, before: Any, after: Any) -> None:
        self.app = app
        self.flask_wsgi = app.wsgi_app
        self.sandbox = sandbox
        self.settings = sandbox.settings
        self._hooks = (before, after)
        self._known_rules = -1  # rules surveyed: on the first request (none may follow)
        self._exact: frozenset[str] = frozenset()
        self._prefixes: tuple[str, ...] = ()
        self._enabled = False

    def _survey(self) -> None:
        """Which paths other rules could match, and whether Flask would run only our hooks."""
        app = self.app
        rules = list(app.url_map.iter_rules())
        self._known_rules = len(rules)
        exact: set[str] = set()
        prefixes = {self._ADMIN}
        for rule in rules:
            if rule.endpoint in ("root", "dispatch"):
                continue
            text = rule.rule
            if "<" in text:
                prefixes.add(text[: text.index("<")])
            else:  # with and without a trailing slash: Flask may redirect between the two
                exact.update({text, text.rstrip("/") or "/", text.rstrip("/") + "/"})
        self._exact, self._prefixes = frozenset(exact), tuple(sorted(prefixes))
        before, after = self._hooks
        self._enabled = (
            app.before_request_funcs.get(None) == [before]
            and app.after_request_funcs.get(None) == [after]
            and not app.teardown_request_funcs.get(None)
            and not app.teardown_appcontext_funcs
            and not app.url_value_preprocessors.get(None)
            and not app.url_default_functions.get(None)
            and "" not in self._prefixes
            and "/" not in self._prefixes
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not _frame_chunked_body(environ, self.settings.max_body_bytes):
            refused = self.app.request_class(environ)
            response = self.sandbox.too_large(refused.method, refused.path)
            response.headers["Connection"] = "close"  # the rest of the body is never read
            response = _common_response_headers(refused, response, self.settings)
            return response(environ, start_response)
        app = self.app
        if self._known_rules < 0:
            # as Flask does on its first request: no more routes or hooks from here on
            app._got_first_request = True
            self._survey()
        if not self._enabled or not environ.get("PATH_INFO"):  # "": Flask redirects to "/"
            return self.flask_wsgi(environ, start_response)
        flask_request = app.request_class(environ)
        path = flask_request.path
        if path in self._exact or path.startswith(self._prefixes):
            return self.flask_wsgi(environ, start_response)
        flask_request.json_module = app.json
        config = app.config
        try:  # the limits Flask's request reads from the app config in a request context
            flask_request.max_content_length = config["MAX_CONTENT_LENGTH"]
            for name in ("MAX_FORM_MEMORY_SIZE", "MAX_FORM_PARTS"):
                if name in config:
                    setattr(flask_request, name.lower(), config[name])
        except AttributeError:  # a Flask whose request cannot take them: Flask's way, always
            self._enabled = False
            return self.flask_wsgi(environ, start_response)
        try:
            response = self.sandbox.handle(flask_request)
        except Exception as exc:
            return self._handled_by_flask(exc, flask_request, environ, start_response)
        response = _common_response_headers(flask_request, response, self.settings)
        return response(environ, start_response)

    def _handled_by_flask(
        self, exc: Exception, flask_request: Request, environ: dict[str, Any], start_response: Any
    ) -> Any:
        """The app's error handlers and after-request hook, in a request context, as
        ``Flask.wsgi_app`` and ``full_dispatch_request`` would run them."""
        app = self.app
        context = RequestContext(app, environ, request=flask_request)
        error: BaseException | None = None
        try:
            context.push()
            try:
                response = app.finalize_request(app.handle_user_exception(exc))
            except Exception as again:
                error = again
                response = app.handle_exception(again)
            except BaseException as fatal:
                error = fatal
                raise
            return response(environ, start_response)
        finally:
            if error is not None and app.should_ignore_error(error):
                error = None
            context.pop(error)
