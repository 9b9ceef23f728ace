"""The wiring: every part of a sandbox, built once from the spec and the settings.

Order matters in a few places, each said where it happens: the state backend first (every
store opens through it), keys before OAuth clients (a client may act as a key), resources
before the webhook hub (the spec's own subscription endpoint is one of them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from werkzeug.wrappers import Request

from sandbox.access.auth import Authenticator, Principal
from sandbox.access.keys import KeyRing
from sandbox.access.oauth import AccessTokens, Grants, OAuthServer, build_clients, discover
from sandbox.access.ratelimit import RateLimiter
from sandbox.admin.token import new_admin_token
from sandbox.app.sandbox import Sandbox
from sandbox.config.settings import Settings, is_loopback
from sandbox.errors import ConfigError, ScenarioError
from sandbox.generation.faker import DataFaker
from sandbox.http.answers import Answers
from sandbox.http.error_bodies import ErrorBodies
from sandbox.http.idempotency import IdempotencyKeys
from sandbox.http.responder import Responder
from sandbox.http.routing import Match, Router
from sandbox.http.validation import RequestValidator, request_data, summary
from sandbox.observe.journal import Journal
from sandbox.observe.log import Observer
from sandbox.observe.metrics import Metrics
from sandbox.resources.engine import ResourceEngine
from sandbox.resources.inference import (
    Resource,
    apply_id_prefixes,
    infer_resources,
    prefixed_ids,
)
from sandbox.scenarios.board import ScenarioBoard
from sandbox.scenarios.chaos import Chaos, parse_chaos
from sandbox.spec.model import Spec
from sandbox.spec.schemas import SchemaChecks
from sandbox.state.protocols import Backend, RecordStore
from sandbox.state.select import open_state
from sandbox.webhooks.bridge import StoredSubscriptions, subscription_resource
from sandbox.webhooks.delivery import RetryPolicy
from sandbox.webhooks.hub import WebhookHub
from sandbox.webhooks.safety import DestinationPolicy
from sandbox.webhooks.signing import SCHEMES, new_secret
from sandbox.webhooks.subscriptions import Subscriptions


def build(spec: Spec, settings: Settings) -> Sandbox:
    faker = DataFaker(
        spec.resolve, seed=settings.seed, locale=settings.locale, openapi_version=spec.version
    )
    checks = SchemaChecks(spec.document, spec.version)
    router, validator = Router(spec.operations, spec.base_path), RequestValidator(spec)
    backend = open_state(settings, spec.title)  # every piece of shared state opens through it
    keys = KeyRing(settings.fixed_keys(), backend.keys())
    oauth = _oauth_server(spec, settings, backend, keys, _spec_check(router, validator))
    limiter = RateLimiter(settings.all_plans(), backend.counters(), scale=settings.rate_limit_scale)
    if not limiter.knows(settings.default_plan):
        raise ConfigError(
            f"default_plan {settings.default_plan!r} is not a plan; known plans: "
            + ", ".join(sorted(limiter.plans))
        )
    resources, bindings = infer_resources(spec)
    apply_id_prefixes(resources, settings.id_prefixes)
    responder = Responder(spec, faker, checks, prefixed_ids(bindings))
    answers = Answers(spec, responder, ErrorBodies(spec, faker, checks), settings.seed)
    subscribing = subscription_resource(resources) if settings.stateful else None
    store = backend.records() if settings.stateful else None
    engine = None
    if store is not None:
        engine = ResourceEngine(
            spec, store, faker, checks, seed=settings.seed, seed_records=settings.seed_records,
            inferred=(resources, bindings),
            # a subscription starts with no records (seeded URLs would point nowhere), and
            # gets a secret made on create when its schema has one
            unseeded=frozenset({subscribing.name} if subscribing else ()),
            secret_fields=_secret_fields(subscribing),
            declared_statuses_only=settings.declared_statuses_only,
        )  # fmt: skip
    journal = Journal(backend.journal(), settings.journal_size)
    webhooks = _webhook_hub(spec, settings, faker, backend, store, subscribing)
    metrics = Metrics(lambda: (webhooks.outbox.counts(), webhooks.outbox.attempt_counts()))
    sandbox = Sandbox(
        spec=spec, settings=settings, backend=backend, faker=faker,
        router=router, validator=validator,
        answers=answers, keys=keys, oauth=oauth,
        authenticator=Authenticator(spec, keys, oauth.tokens, oauth.clients),
        limiter=limiter,
        open_door=Principal(settings.default_api_key, None, settings.default_plan),
        store=store, engine=engine, webhooks=webhooks,
        board=ScenarioBoard(backend.scenarios(), _default_chaos(settings)),
        idempotency=IdempotencyKeys(backend.idempotency()), journal=journal,
        metrics=metrics, observer=Observer(journal, metrics),
        admin_token=_admin_token(settings),
        subscription_resource=subscribing.name if subscribing else None,
        quiet=frozenset({subscribing.name} if subscribing else ()),  # subscribing is no event
        started=time.time(),
    )  # fmt: skip
    return sandbox


def _spec_check(router: Router, validator: RequestValidator) -> Callable[[Request], str | None]:
    """The first way a request breaks its operation's declared shape, if the spec declares
    the operation: the OAuth endpoints answer it as RFC 6749's ``invalid_request``."""

    def check(request: Request) -> str | None:
        route = router.match(request.method, request.path, request.args)
        if not isinstance(route, Match):
            return None
        result = validator.validate(route.operation, request_data(request, {}))
        return None if result.ok else summary(result.problems)

    return check


def _secret_fields(resource: Resource | None) -> dict[str, tuple[str, Callable[[], str]]]:
    if resource is None or "secret" not in ((resource.item_schema or {}).get("properties") or {}):
        return {}
    return {resource.name: ("secret", new_secret)}


def _oauth_server(
    spec: Spec, settings: Settings, backend: Backend, keys: KeyRing,
    spec_check: Callable[[Request], str | None],
) -> OAuthServer:  # fmt: skip
    clients = build_clients(
        settings.oauth_clients,
        default=settings.default_oauth_client,
        default_identity=settings.default_api_key,
        default_plan=settings.default_plan,
        key_plan=keys.plan_of,
    )
    tokens = AccessTokens(
        backend.signing_keys(),
        algorithm=settings.token_algorithm,
        ttl=settings.token_ttl,
        audience=settings.token_audience or _default_audience(spec),
    )
    return OAuthServer(
        discover(spec), clients, tokens, Grants(backend.grants()),
        issuer=settings.token_issuer, spec_check=spec_check,
    )  # fmt: skip


def _default_audience(spec: Spec) -> str:
    """The API's own URL as the spec states it (what clients configure as the audience)."""
    servers = spec.document.get("servers") or []
    url = str(servers[0].get("url", "")) if servers and isinstance(servers[0], dict) else ""
    return url if "://" in url and "{" not in url else f"urn:sandbox:{spec.path.name}"


def _webhook_hub(
    spec: Spec, settings: Settings, faker: DataFaker, backend: Backend,
    store: RecordStore | None, subscribing: Resource | None,
) -> WebhookHub:  # fmt: skip
    if settings.webhook_signing not in SCHEMES:
        raise ConfigError(
            f"webhook_signing {settings.webhook_signing!r} is not a scheme; use one of: "
            + ", ".join(SCHEMES)
        )
    listed = None
    if store is not None and subscribing is not None:
        listed = StoredSubscriptions(store, subscribing)
    return WebhookHub(
        spec, faker,
        outbox=backend.outbox(ordered=settings.webhook_ordered),
        subscriptions=Subscriptions(backend.subscriptions()),
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


def _default_chaos(settings: Settings) -> Chaos:
    try:
        return parse_chaos(settings.chaos)
    except ScenarioError as exc:
        raise ConfigError(f"chaos: {exc}") from None


def _admin_token(settings: Settings) -> str | None:
    """None on loopback (the admin API is open to this machine); else the token."""
    if is_loopback(settings.host):
        return None
    if not settings.admin_token:
        token = new_admin_token()
        logging.getLogger("sandbox").warning(
            "admin API token (listening on %s): %s", settings.host, token
        )
        return token
    return settings.admin_token
