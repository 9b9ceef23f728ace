"""Run Schemathesis 4 through its Python API, with our checks on, and gather a Report.

The target is a real base URL or, by default, the sandbox serving the same spec in-process
(its WSGI app on a loopback port). The run is Schemathesis's own engine: its phases, its
checks, its workers; we add the configuration a contract run needs, the credentials, the
principal's protection, our checks (their state in a RunContext of this run alone) and the
report.
"""

from __future__ import annotations

import base64
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemathesis.engine import from_schema

from contracts import checks as _registered  # noqa: F401  (registers our checks)
from contracts.auth import CommandToken, OAuthGrant, TokenSource, spec_token_url
from contracts.baseline import Baseline
from contracts.collect import Collector, Progress
from contracts.context import RunContext
from contracts.errors import UsageError
from contracts.facts import ContractFacts
from contracts.principal import discover
from contracts.report import Report
from contracts.reproduce import Secrets
from contracts.setup import PHASES, load_schema
from contracts.target import LocalServer, Target
from contracts.webhooks import WebhookSetupError, prepare
from sandbox.errors import SandboxError
from sandbox.spec.model import Spec, load_spec

__all__ = ["PHASES", "Progress", "RunOptions", "UsageError", "run"]


@dataclass
class RunOptions:
    spec: Path
    base_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    bearer: str | None = None
    api_key: str | None = None
    basic: str | None = None  # "user:password"
    oauth_token_url: str | None = None  # default: the spec's own tokenUrl
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = None
    username: str | None = None  # with password: the OAuth password grant
    password: str | None = None
    auth_command: str | None = None
    auth_refresh: float | None = None  # seconds, for tokens that do not say when they expire
    allow_self_changes: bool = False
    lenient: bool = False
    our_checks: bool = True  # False: Schemathesis's checks alone, everything else the same
    phases: tuple[str, ...] = PHASES
    max_examples: int = 25
    max_time: int | None = None
    seed: int | None = None
    workers: int = 1
    rate_limit: str | None = None
    include_path: tuple[str, ...] = ()
    include_method: tuple[str, ...] = ()
    include_tag: tuple[str, ...] = ()
    include_operation_id: tuple[str, ...] = ()
    baseline: Path | None = None
    app: Any = None  # a WSGI app to test in-process instead of the sandbox
    webhooks: str | None = None  # a receiver URL the target can reach
    webhook_secret: str | None = None
    webhook_timeout: float = 10.0


def run(options: RunOptions, progress: Progress | None = None) -> Report:
    """One contract run; its state lives in this call alone."""
    baseline = Baseline.load(options.baseline) if options.baseline is not None else None
    spec = load_contract_spec(options.spec, lenient=options.lenient)
    secrets = Secrets()
    target, keep_alive = build_target(spec, options, secrets)
    try:
        report = _run(spec, options, target, secrets, progress)
    finally:
        for held in reversed(keep_alive):
            (held.cleanup if isinstance(held, tempfile.TemporaryDirectory) else held.close)()
    if baseline is not None:
        baseline.mark(report)
    return report


def _run(spec: Spec, options: RunOptions, target: Target, secrets: Secrets,
         progress: Progress | None) -> Report:  # fmt: skip
    facts = ContractFacts(spec)
    report = Report(
        spec=str(options.spec),
        target=options.base_url or f"the sandbox, in-process ({target.base_url})",
        phases=list(options.phases), seed=options.seed,
    )  # fmt: skip
    context = RunContext(facts, target, workers=options.workers, secrets=secrets)
    if target.tokens is not None:
        target.tokens.token()  # a refused login is a usage error before anything runs
    if not options.allow_self_changes:
        context.principal = discover(facts, target, _named_users(options))
    schema = load_schema(spec, options, context)
    if options.webhooks:
        try:
            context.webhooks = prepare(facts, target, options.webhooks, options.webhook_secret,
                                       options.webhook_timeout)  # fmt: skip
        except WebhookSetupError as exc:
            raise UsageError(str(exc)) from None
    collector = Collector(report, spec, context, progress)
    started = time.perf_counter()
    try:
        for event in from_schema(schema).execute():
            collector.consume(event)
        collector.finish()
    finally:
        if context.webhooks is not None:
            context.webhooks.close()
    report.duration = time.perf_counter() - started
    report.variables = dict(secrets.descriptions)
    report.skipped = list(context.skipped)
    if context.principal is not None:
        principal = context.principal
        report.principal = (
            f"{', '.join(sorted(principal.values))} (from {principal.found_at}); "
            f"{principal.spared} write(s) aimed at it were sent to another id"
        )
    return report


def _named_users(options: RunOptions) -> set[str]:
    """The user names the credentials carry: a Basic user, a password-grant user."""
    names = {options.username} if options.username else set()
    if options.basic:
        names.add(options.basic.partition(":")[0])
    return names


def load_contract_spec(path: Path, *, lenient: bool = False) -> Spec:
    try:
        return load_spec(path, lenient=lenient)
    except SandboxError as exc:
        hint = "" if lenient else "\n(--lenient tests it anyway, as far as it can be read)"
        raise UsageError(f"cannot use the spec {path}:\n{exc}{hint}") from None
    except OSError as exc:
        raise UsageError(f"cannot read the spec {path}: {exc}") from None
    except ValueError as exc:  # the loader's validator may fail on what YAML made of it
        raise UsageError(f"cannot load the spec {path}: {type(exc).__name__}: {exc}") from None


def build_target(
    spec: Spec, options: RunOptions, secrets: Secrets | None = None
) -> tuple[Target, list[Any]]:
    """The target and what must live as long as it (a local server, the sandbox's state)."""
    secrets = secrets if secrets is not None else Secrets()
    headers = dict(options.headers)
    for name, value in headers.items():
        if any(word in name.lower() for word in ("auth", "key", "token", "secret", "cookie")):
            secrets.add(value, f"SANDBOX_{name.upper().replace('-', '_')}", f"the {name} header")
    if options.bearer:
        headers["Authorization"] = f"Bearer {options.bearer}"
        secrets.add(options.bearer, "SANDBOX_TOKEN", "the bearer token given with --bearer")
    if options.basic:
        encoded = base64.b64encode(options.basic.encode()).decode()
        headers["Authorization"] = f"Basic {encoded}"
        secrets.add(encoded, "SANDBOX_BASIC", "base64 of the --basic user:password")
    schemes: dict[str, dict[str, str]] = {}
    if options.api_key:
        headers.update(credential_headers(spec, options.api_key, secrets))
        schemes = by_scheme(spec, options.api_key, secrets)
    keep: list[Any] = []
    if options.base_url is not None:
        _reachable(options.base_url)
        base_url = options.base_url
    else:
        base_url, app_headers = _local_sandbox(spec, options, keep)
        if not headers and not _wants_tokens(options):
            headers = credential_headers(spec, app_headers, secrets)
            schemes = by_scheme(spec, app_headers, secrets)
    tokens = token_source(spec, options, base_url, secrets)
    return Target(base_url, headers, tokens, schemes=schemes), keep


def _local_sandbox(spec: Spec, options: RunOptions, keep: list[Any]) -> tuple[str, str]:
    """Serve the sandbox (or ``options.app``) on a loopback port; its base URL and API key."""
    app = options.app
    key = ""
    if app is None:
        from sandbox import create_app, load_settings

        scratch = tempfile.TemporaryDirectory(prefix="contracts-")
        keep.append(scratch)
        settings = load_settings(
            spec.path, environ={},
            overrides={"state": str(Path(scratch.name) / "state.sqlite"),
                       "rate_limits": "1000000000/hour", "seed": options.seed,
                       "log_format": "off", "lenient": options.lenient,
                       # the run subscribes made-up hosts: never look them up or send there
                       "webhook_dns": False},
        )  # fmt: skip
        app = create_app(spec, settings)
        sandbox = app.extensions["sandbox"]
        keep.append(_Stopper(sandbox.webhooks.worker, sandbox.journal))
        key = settings.default_api_key
    server = LocalServer(app)
    keep.append(server)
    return server.origin + spec.base_path, key


def _wants_tokens(options: RunOptions) -> bool:
    return bool(
        options.oauth_token_url or options.username or options.auth_command or options.client_id
    )


def token_source(
    spec: Spec, options: RunOptions, base_url: str, secrets: Secrets
) -> TokenSource | None:
    """Tokens from a command, or from a token endpoint (given, or the spec's own)."""
    if options.auth_command:
        return CommandToken(secrets, options.auth_refresh, command=options.auth_command)
    if not (options.oauth_token_url or options.username or options.client_id):
        return None
    grant = "password" if options.username is not None else "client_credentials"
    url = options.oauth_token_url or spec_token_url(spec, base_url, grant)
    if url is None:
        raise UsageError(
            f"no token URL: give --oauth-token-url, or use a spec whose oauth2 security scheme "
            f"has a {'password' if grant == 'password' else 'clientCredentials'} flow"
        )
    if grant == "client_credentials" and not (options.client_id and options.client_secret):
        raise UsageError("the client-credentials grant needs --client-id and --client-secret")
    secrets.add(options.client_secret, "SANDBOX_CLIENT_SECRET", "the --client-secret")
    secrets.add(options.password, "SANDBOX_PASSWORD", "the --password")
    return OAuthGrant(
        secrets, options.auth_refresh, token_url=url, client_id=options.client_id,
        client_secret=options.client_secret, scope=options.scope, username=options.username,
        password=options.password,
    )  # fmt: skip


def _reachable(base_url: str) -> None:
    """A target that does not answer at all is a usage error, not a thousand failures."""
    import requests

    try:
        requests.get(base_url, timeout=10, allow_redirects=False)
    except requests.RequestException as exc:
        reason = getattr(exc, "args", [exc])[0]
        raise UsageError(
            f"cannot reach {base_url} ({type(exc).__name__}: {reason}); is the server running?"
        ) from None


@dataclass
class _Stopper:
    """Stops the sandbox's delivery thread and writes out its journal's waiting entries
    before its scratch state goes away (the journal writes once a second: its last entries
    were written after the state file was gone, and warned so)."""

    worker: Any
    journal: Any

    def close(self) -> None:
        self.worker.stop()
        self.journal.flush()


def credential_headers(spec: Spec, key: str, secrets: Secrets) -> dict[str, str]:
    """Send an API key where the spec's security schemes expect one (the first scheme that
    can carry it; an operation that asks for another gets it there: ``by_scheme``)."""
    schemes = by_scheme(spec, key, secrets)
    if not key:
        return {}
    return next(iter(schemes.values()), None) or _as_bearer(key, secrets)


def by_scheme(spec: Spec, key: str, secrets: Secrets) -> dict[str, dict[str, str]]:
    """The key as each of the spec's security schemes carries it in a header (an API-key
    header, HTTP Basic with the key as the user, a bearer token for the others that take
    one), in the spec's order."""
    found: dict[str, dict[str, str]] = {}
    if not key:
        return found
    for name, scheme in spec.security_schemes.items():
        kind = scheme.get("type")
        http = str(scheme.get("scheme", "")).lower() if kind == "http" else ""
        if kind == "apiKey" and scheme.get("in") == "header" and scheme.get("name"):
            secrets.add(key, "SANDBOX_API_KEY", "the API key")
            found[name] = {str(scheme["name"]): key}
        elif http == "basic":
            encoded = base64.b64encode(f"{key}:".encode()).decode()
            secrets.add(encoded, "SANDBOX_BASIC", "base64 of '<API key>:'")
            found[name] = {"Authorization": "Basic " + encoded}
        elif http == "bearer" or kind in ("oauth2", "openIdConnect"):
            found[name] = _as_bearer(key, secrets)
    return found


def _as_bearer(key: str, secrets: Secrets) -> dict[str, str]:
    secrets.add(key, "SANDBOX_TOKEN", "the API key, sent as a bearer token")
    return {"Authorization": f"Bearer {key}"}
