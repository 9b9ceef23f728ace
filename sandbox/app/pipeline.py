"""The request pipeline, one stage after another:

    route -> auth -> rate limit -> scenario, chaos -> idempotency -> validate
          -> answer (a Prefer'd response | the resource store's | a generated one) -> callbacks

Each stage may answer early with an ApiError, shaped by the spec's schema for that status.
Everything a stage needs was built once, at start-up (``builder``); a request carries only
its ``Exchange``.
"""

from __future__ import annotations

import logging
import random
import time
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from sandbox.access.auth import ANONYMOUS, Principal
from sandbox.app.exchange import Exchange
from sandbox.errors import ApiError, DestinationRefused, PayloadTooLarge, ScenarioError
from sandbox.http.answers import Decided
from sandbox.http.bare_arrays import READ_AS_HEADER, BareArrays
from sandbox.http.held import HOLDS_ANSWERS, WAIT
from sandbox.http.idempotency import HEADER as IDEMPOTENCY_HEADER
from sandbox.http.idempotency import Kept, fingerprint
from sandbox.http.preferences import read_preference
from sandbox.http.routing import Match
from sandbox.http.validation import client_error_status, request_data, summary
from sandbox.observe.log import Trace
from sandbox.resources.engine import Call, NotStored, Outcome, ResourceEngine
from sandbox.resources.inference import Binding
from sandbox.scenarios import effects
from sandbox.scenarios.chaos import Chaos
from sandbox.scenarios.presets import SCENARIO_HEADER, Scenario, parse_header
from sandbox.scenarios.presets import seconds as duration
from sandbox.webhooks.callbacks import CallbackContext, plan_callbacks

if TYPE_CHECKING:  # the parts are built above this module, and hand themselves in
    from sandbox.app.sandbox import Sandbox

_NOT_REPLAYED = {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit",
                 "ratelimit-policy", "retry-after", "x-request-id", "date", "content-length",
                 effects.APPLIED_HEADER.lower()}  # fmt: skip


class Pipeline:
    def __init__(self, parts: Sandbox) -> None:
        self.parts = parts
        self._chaos_rng = random.Random()
        self.bare_arrays = BareArrays(parts.spec)

    def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        trace = Trace(_request_id(request))
        response = self._route(request, trace)
        response.headers["X-Request-Id"] = trace.request_id
        if trace.scenario:
            response.headers[effects.APPLIED_HEADER] = trace.scenario
        held = 0.0
        if trace.wait:  # the answer is made; now its wait (see sandbox.http.held)
            environ = request.environ
            if HOLDS_ANSWERS in environ:
                environ[WAIT] = held = trace.wait
            else:
                self.parts.sleep(trace.wait)
        elapsed = time.perf_counter() - started + held
        self.parts.observer.request(request, response, trace, elapsed)
        return response

    def _route(self, request: Request, trace: Trace) -> Response:
        parts = self.parts
        route = parts.router.match(request.method, request.path, request.args)
        if not isinstance(route, Match):
            return parts.unrouted(route, request)
        exchange = Exchange(request, route, request_data(request, route.path_params), trace)
        trace.operation = exchange.operation.operation_id
        trace.route = f"{exchange.operation.method.upper()} {exchange.operation.path}"
        try:
            self._admit(exchange)
            return self._once(exchange)
        except ApiError as error:
            return parts.answers.error(
                error, exchange.operation, request.path, exchange.rate_headers
            )

    # -- who may call, how often, and what scenario answers ----------------------------------
    def _admit(self, exchange: Exchange) -> None:
        """Authenticate, count the request, pick its scenario, apply chaos."""
        parts = self.parts
        try:
            exchange.principal = (
                parts.authenticator.authenticate(exchange.operation, exchange.data)
                if parts.settings.auth
                else parts.open_door
            )
        except ApiError:
            # failed attempts count against the client's address, as real APIs do
            exchange.rate_headers = self._rate_limit(ANONYMOUS, exchange.request)
            raise
        exchange.trace.key = exchange.principal.key
        exchange.rate_headers = self._rate_limit(exchange.principal, exchange.request)
        exchange.scenario, chaos = self._scenario_for(exchange)
        delay, chaos_status = chaos.draw(self._chaos_rng) if chaos.on else (0.0, None)
        exchange.trace.wait += delay
        if chaos_status is not None:
            exchange.trace.scenario = "chaos"
            parts.metrics.scenarios.labels("chaos").inc()
            raise effects.chaos_error(chaos_status)

    def _rate_limit(self, principal: Principal, request: Request) -> dict[str, str]:
        identity = principal.key or f"ip:{request.remote_addr}"
        decision = self.parts.limiter.hit(identity, principal.plan)
        if decision is None:
            return {}
        headers = decision.headers(self.parts.settings.ietf_rate_limit_headers)
        if not decision.allowed:
            self.parts.metrics.rate_limited.labels(principal.plan).inc()
            raise ApiError(
                429, "rate_limit_exceeded",
                f"Too many requests. Try again in {decision.retry_after} seconds.",
                headers={**headers, "Retry-After": str(decision.retry_after)},
                retry_after=decision.retry_after,
            )  # fmt: skip
        return headers

    def _scenario_for(self, exchange: Exchange) -> tuple[Scenario | None, Chaos]:
        """The X-Sandbox-Scenario header's, else one switched on through the admin API; and
        chaos, read with it (one read of the board per request)."""
        board, trace = self.parts.board, exchange.trace
        asked = exchange.request.environ.get(_SCENARIO_KEY)
        key = exchange.principal.key if exchange.principal else None
        chosen: Scenario | None
        try:
            if asked:
                chosen, chaos = parse_header(asked), board.chaos()
            else:
                pick = board.take(key, trace.operation or "", trace.route or "")
                chosen, chaos = pick.scenario, pick.chaos
        except ScenarioError as exc:
            raise ApiError(400, "INVALID_SCENARIO", f"{SCENARIO_HEADER}: {exc}") from None
        if chosen is not None:
            trace.scenario = chosen.text()
            self.parts.metrics.scenarios.labels(chosen.name).inc()
        return chosen, chaos

    # -- run once, or replay ---------------------------------------------------------------
    def _once(self, exchange: Exchange) -> Response:
        """Run the request, or replay it: a POST with an Idempotency-Key runs once."""
        request = exchange.request
        key = request.environ.get(_IDEMPOTENCY_KEY)
        if request.method != "POST" or not key:
            return self._run(exchange)
        keys, tenant = self.parts.idempotency, exchange.client
        claim = keys.claim(tenant, key, fingerprint(request.method, request.path,
                                                    request.get_data()))  # fmt: skip
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
            exchange.trace.replayed = True
            replay = Response(claim.kept.body, status=claim.kept.status,
                              headers=claim.kept.headers)  # fmt: skip
            replay.headers.update(exchange.rate_headers)
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        response: Response | None = None
        try:
            response = self._run(exchange)
            trace = exchange.trace
            if trace.wait:  # waited out with the key still in progress: a retry meanwhile
                self.parts.sleep(trace.wait)  # is told the first still runs (409), as it is
                trace.wait = 0.0
            return response
        finally:  # a crash or an error frees the key for a retry
            kept = (
                Kept(response.status_code, _replayable(response.headers), response.get_data())
                if response is not None
                else Kept(500, [], b"")
            )
            keys.finish(tenant, key, kept)

    def _run(self, exchange: Exchange) -> Response:
        chosen = exchange.scenario
        try:
            if chosen is not None:
                early = self._scenario_effect(chosen, exchange)
                if early is not None:
                    return early
            response = self._answer(exchange)
        except ApiError as error:
            if error.code == "VALIDATION_ERROR" and not exchange.trace.scenario:
                exchange.trace.problems = error.details
            return self.parts.answers.error(
                error, exchange.operation, exchange.request.path, exchange.rate_headers
            )
        if chosen is not None and chosen.name == "malformed":
            return effects.malformed(response)
        if chosen is not None and chosen.name == "empty":
            return effects.empty(response)
        return response

    def _scenario_effect(self, chosen: Scenario, exchange: Exchange) -> Response | None:
        """Raise the scenario's error, add its latency to the answer's wait, or answer it at
        once (empty)."""
        parts, request, principal = self.parts, exchange.request, exchange.principal
        trace = exchange.trace
        assert principal is not None  # admitted before any scenario runs

        def wait(seconds: float) -> None:
            trace.wait += seconds

        error = effects.scenario_error(
            chosen, client_error_status=client_error_status(exchange.operation),
            peek=lambda: parts.limiter.peek(principal.key or "", principal.plan),
            wait=wait,
        )  # fmt: skip
        if error is not None:
            raise error
        if chosen.name == "slow":
            wait(duration(chosen.param("latency"), what="latency"))
        elif chosen.name == "flaky":
            retry_of = request.headers.get(IDEMPOTENCY_HEADER) or (
                f"{request.method} {request.full_path}"
            )
            fails = int(chosen.param("fails"))
            identity = f"{exchange.client}|{retry_of}|{chosen.text()}"
            flaky = effects.flaky_error(chosen, parts.board.flaky_fails(identity, fails))
            if flaky is not None:
                raise flaky
        elif chosen.name == "empty" and request.method not in ("GET", "HEAD"):
            return effects.no_content({})  # nothing is written
        return None

    # -- validate and answer ---------------------------------------------------------------
    def _answer(self, exchange: Exchange) -> Response:
        """A bare array read as the body's one list (sandbox.http.bare_arrays), then the
        answer, saying so."""
        read_as = self.bare_arrays.adapt(exchange.operation, exchange.data)
        response = self._validated_answer(exchange)
        if read_as is not None:
            response.headers[READ_AS_HEADER] = f'{{"{read_as}": [...]}}'
        return response

    def _validated_answer(self, exchange: Exchange) -> Response:
        """Validate, then answer: a preferred response, the engine's, or a generated one."""
        parts, request, operation = self.parts, exchange.request, exchange.operation
        result = parts.validator.validate(operation, exchange.data)
        if not result.ok:
            unsupported = result.status == 415
            raise ApiError(
                415 if unsupported else client_error_status(operation),
                "UNSUPPORTED_MEDIA_TYPE" if unsupported else "VALIDATION_ERROR",
                summary(result.problems), details=[p.as_dict() for p in result.problems],
            )  # fmt: skip
        preference = read_preference(request.environ.get("HTTP_PREFER"))
        if preference is not None:  # a declared response on request, as Prism gives it
            return self._respond(exchange, preference=preference)
        engine = parts.engine
        binding = engine.binding(operation.operation_id) if engine else None
        if binding is None or engine is None:  # stateless, or not a resource
            return self._respond(exchange, sent=result.body)
        if binding.resource.name == parts.subscription_resource:
            self._admit_destination(exchange, result.body)
        call = Call(
            tenant=exchange.tenant,
            path_params=exchange.path_params, query=request.args, body=result.body,
            uploads=result.uploads, caller=exchange.principal.name if exchange.principal else None,
            request_path=request.path, origin_of=lambda: request.host_url,
            rng=parts.answers.rng(operation, request, exchange.path_params),
            repeatable=parts.answers.seed is not None,
        )  # fmt: skip
        try:
            outcome = self._handle_stored(engine, binding, call)
        except NotStored:
            return self._respond(exchange, sent=result.body)
        # the engine's rng goes on to the headers: one seeded rng per request is enough
        decided = Decided(outcome.value, outcome.empty, links=outcome.links)
        return self._respond(exchange, decided, rng=call.rng)

    def _respond(
        self, exchange: Exchange, decided: Decided | None = None, *, preference: Any = None,
        rng: Any = None, sent: Any = None,
    ) -> Response:  # fmt: skip
        response, value = self.parts.answers.success(
            exchange.request, exchange.operation, exchange.path_params, exchange.rate_headers,
            decided=decided, preference=preference, rng=rng, sent=sent,
        )  # fmt: skip
        if exchange.operation.raw.get("callbacks") and 200 <= response.status_code < 300:
            self._call_back(exchange, value, response.status_code)
        return response

    def _admit_destination(self, exchange: Exchange, body: Any) -> None:
        """The spec's subscription endpoint refuses what the admin API refuses, in the
        spec's own error shape: a URL the delivery worker would never send to."""
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(url, str):
            return
        try:
            self.parts.webhooks.policy.admit(url)
        except DestinationRefused as exc:
            message = str(exc)
            raise ApiError(
                client_error_status(exchange.operation),
                "VALIDATION_ERROR",
                f"Invalid request: url {message}",
                details=[{"field": "url", "message": message}],
            ) from None

    def _handle_stored(self, engine: ResourceEngine, binding: Binding, call: Call) -> Outcome:
        """Run a stored operation. A change and the webhook events it causes are written in
        one transaction of the state file: both are kept, or neither is. The engine makes
        its records before the transaction begins, so the write lock is held for the writes
        and the events only."""
        parts = self.parts
        event_type = parts.webhooks.event_name(binding.resource.singular, binding.action)
        if event_type is None or binding.resource.name in parts.quiet:
            return engine.handle(binding, call)
        engine.prepare(call.tenant, binding)  # seeding stays outside the write lock
        call.seeded = True
        call.transaction = parts.backend.transaction
        queued: list[int] = []
        call.changed = lambda records: queued.append(
            self._announce(event_type, call.tenant, records)
        )
        outcome = engine.handle(binding, call)
        if sum(queued):
            parts.webhooks.worker.wake()  # after the commit, so the worker sees the rows
        return outcome

    def _announce(self, event_type: str, tenant: str, records: list[dict[str, Any]]) -> int:
        """Every stored change is an event for the tenant's webhook subscribers."""
        queued = 0
        for record in records:
            try:
                queued += len(self.parts.webhooks.emit(tenant, event_type, record, wake=False)[1])
            except PayloadTooLarge:
                logging.getLogger("sandbox.webhooks").warning(
                    "%s not sent: the record is larger than webhook_max_payload", event_type
                )
        return queued

    def _call_back(self, exchange: Exchange, response_body: Any, status: int) -> None:
        """Fire the operation's OpenAPI callbacks at the URLs the request named."""
        parts, request = self.parts, exchange.request
        context = CallbackContext(
            url=request.url, method=request.method, path_params=exchange.path_params,
            query=request.args, headers=request.headers,
            request_body=request.get_json(silent=True), response_body=response_body,
            status=status,
        )  # fmt: skip
        secret = parts.settings.signing_secret_for_callbacks
        for callback in plan_callbacks(parts.spec, exchange.operation, context, parts.faker):
            parts.webhooks.call_back("callbacks", callback, secret)


def _environ_key(header: str) -> str:
    """Where the WSGI environ holds a request header: what ``request.headers.get`` reads,
    without werkzeug's EnvironHeaders working the key out anew (~1 µs a read, four reads in
    every request)."""
    return "HTTP_" + header.upper().replace("-", "_")


_SCENARIO_KEY = _environ_key(SCENARIO_HEADER)
_IDEMPOTENCY_KEY = _environ_key(IDEMPOTENCY_HEADER)


def _request_id(request: Request) -> str:
    """The caller's X-Request-Id when it is a sane token (tracing across services), else new."""
    given = request.environ.get("HTTP_X_REQUEST_ID", "")
    if 0 < len(given) <= 128 and given.isprintable() and " " not in given:
        return given
    return new_request_id()


def new_request_id() -> str:
    """32 random hex digits, like ``uuid4().hex`` without a system call per request (the
    random module's own generator is reseeded in every forked worker)."""
    return f"{random.getrandbits(128):032x}"


def _replayable(headers: Any) -> list[tuple[str, str]]:
    """What a replay repeats: the answer's own headers, not this moment's rate-limit state."""
    return [(name, value) for name, value in headers.items() if name.lower() not in _NOT_REPLAYED]
