"""Run Schemathesis 4 through its Python API, with our checks on, and gather a Report.

The target is a real base URL or, by default, the sandbox serving the same spec in-process
(its WSGI app, no network). The run is Schemathesis's own engine: its phases, its checks, its
workers; we add the configuration a contract run needs, our checks, and the report.
"""

from __future__ import annotations

import base64
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from contracts import checks as our_checks
from contracts.baseline import Baseline
from contracts.facts import ContractFacts
from contracts.report import FailureRecord, OperationResult, Report
from contracts.target import ClientCredentials, LocalServer, Target, polite
from contracts.webhooks import WebhookSetupError, prepare
from sandbox.access.oauth import discover
from sandbox.errors import SandboxError
from sandbox.spec.model import Spec, escape_pointer_token, load_spec

PHASES = ("examples", "coverage", "fuzzing", "stateful")
EXCERPT = 600


class UsageError(Exception):
    """Bad options or an unusable spec: exit status 2, with a message saying what to fix."""


@dataclass
class RunOptions:
    spec: Path
    base_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    bearer: str | None = None
    api_key: str | None = None
    oauth: ClientCredentials | None = None
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


Progress = Callable[[str, str, int], None]  # (phase, operation label, failures so far)


def run(options: RunOptions, progress: Progress | None = None) -> Report:
    baseline = Baseline.load(options.baseline) if options.baseline is not None else None
    spec = load_contract_spec(options.spec)
    target, keep_alive = build_target(spec, options)
    try:
        report = _run(spec, options, target, progress)
    finally:
        for held in reversed(keep_alive):
            (held.cleanup if isinstance(held, tempfile.TemporaryDirectory) else held.close)()
    if baseline is not None:
        baseline.mark(report)
    return report


def _run(spec: Spec, options: RunOptions, target: Target, progress: Progress | None) -> Report:
    facts = ContractFacts(spec)
    report = Report(
        spec=str(options.spec),
        target=options.base_url or f"the sandbox, in-process ({target.base_url})",
        phases=list(options.phases), seed=options.seed,
    )  # fmt: skip
    schema = _schema(spec, options, target)
    watch = None
    if options.webhooks:
        try:
            watch = prepare(facts, target, options.webhooks, options.webhook_secret,
                            options.webhook_timeout)  # fmt: skip
        except WebhookSetupError as exc:
            raise UsageError(str(exc)) from None
    started = time.perf_counter()
    our_checks.activate(our_checks.RunContext(facts, target, webhooks=watch))
    try:
        for event in from_schema(schema).execute():
            _consume(event, report, spec, progress)
    finally:
        our_checks.activate(None)
        if watch is not None:
            watch.close()
    report.duration = time.perf_counter() - started
    return report


def load_contract_spec(path: Path) -> Spec:
    try:
        return load_spec(path)
    except SandboxError as exc:
        raise UsageError(f"cannot use the spec {path}:\n{exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot read the spec {path}: {exc}") from None


def build_target(spec: Spec, options: RunOptions) -> tuple[Target, list[Any]]:
    """The target and what must live as long as it (a local server, the sandbox's state)."""
    headers = dict(options.headers)
    if options.bearer:
        headers["Authorization"] = f"Bearer {options.bearer}"
    if options.api_key:
        headers.update(credential_headers(spec, options.api_key))
    if options.base_url is not None:
        _reachable(options.base_url)
        return Target(options.base_url, headers, options.oauth), []
    keep: list[Any] = []
    app = options.app
    if app is None:
        from sandbox import create_app, load_settings

        scratch = tempfile.TemporaryDirectory(prefix="contracts-")
        keep.append(scratch)
        settings = load_settings(
            spec.path, environ={},
            overrides={"state": str(Path(scratch.name) / "state.sqlite"),
                       "rate_limits": "1000000000/hour", "seed": options.seed,
                       "log_format": "off",
                       # the run subscribes made-up hosts: never look them up or send there
                       "webhook_dns": False},
        )  # fmt: skip
        app = create_app(spec, settings)
        keep.append(_Stopper(app.extensions["sandbox"].webhooks.worker))
        if not headers and options.oauth is None:
            headers = credential_headers(spec, settings.default_api_key)
    server = LocalServer(app)
    keep.append(server)
    return Target(server.origin + spec.base_path, headers, options.oauth), keep


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
    """Stops the sandbox's delivery thread before its scratch state goes away."""

    worker: Any

    def close(self) -> None:
        self.worker.stop()


def credential_headers(spec: Spec, key: str) -> dict[str, str]:
    """Send an API key where the spec's security schemes expect one."""
    for scheme in spec.security_schemes.values():
        kind = scheme.get("type")
        if kind == "apiKey" and scheme.get("in") == "header" and scheme.get("name"):
            return {str(scheme["name"]): key}
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    return {"Authorization": f"Bearer {key}"}


def _schema(spec: Spec, options: RunOptions, target: Target) -> Any:
    config = SchemathesisConfig.from_dict(schemathesis_config(spec, options, target))
    try:
        schema = schemathesis.openapi.from_dict(spec.document, config=config)
    except Exception as exc:  # schemathesis's loader errors have no common public base
        raise UsageError(f"Schemathesis cannot load {options.spec}: {exc}") from None
    filters = {
        "path": list(options.include_path) or None,
        "method": [m.upper() for m in options.include_method] or None,
        "tag": list(options.include_tag) or None,
        "operation_id": list(options.include_operation_id) or None,
    }
    if any(filters.values()):
        schema = schema.include(**{k: v for k, v in filters.items() if v})
    if target.oauth is not None:
        _oauth_auth(schema, target)
    return schema


def schemathesis_config(spec: Spec, options: RunOptions, target: Target) -> dict[str, Any]:
    unknown = [phase for phase in options.phases if phase not in PHASES]
    if unknown:
        raise UsageError(f"unknown phase {unknown[0]!r}; choose from {', '.join(PHASES)}")
    data: dict[str, Any] = {
        "max-failures": None,
        "phases": {phase: {"enabled": phase in options.phases} for phase in PHASES},
        "checks": {"enabled": True},
        "generation": {"max-examples": options.max_examples, "mode": "all"},
        "workers": options.workers,
        "headers": target.headers,
        "operations": _oauth_endpoint_rules(spec),
    }
    data = {k: v for k, v in data.items() if v is not None}
    if options.seed is not None:
        data["seed"] = options.seed
    if options.max_time is not None:
        data["max-time"] = options.max_time
    if options.rate_limit:
        data["rate-limit"] = options.rate_limit
    data["base-url"] = target.base_url
    return data


def _oauth_endpoint_rules(spec: Spec) -> list[dict[str, Any]]:
    """A token or authorize request can be schema-valid and still rightly refused (a made-up
    code is ``400 invalid_grant``): for those endpoints 400 and 401 count as answers."""
    surface = discover(spec)
    paths = {surface.token_path, surface.authorize_path}
    ids = [op.operation_id for op in spec.operations
           if spec.base_path.rstrip("/") + op.path in paths or op.path in paths]  # fmt: skip
    if not ids:
        return []
    return [{
        "include-operation-id": ids,
        "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "400", "401"]}},
    }]  # fmt: skip


def _oauth_auth(schema: Any, target: Target) -> None:
    """Tokens from the client-credentials grant, refreshed before they expire; Schemathesis
    knows them as the run's auth, so its missing-auth probes still go without."""

    class ClientCredentialsAuth:
        def get(self, case: Any, ctx: Any) -> str:
            return target.auth_headers()["Authorization"]

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": data}

    schema.auth(refresh_interval=None)(ClientCredentialsAuth)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Real APIs get a 429-aware session: ``Retry-After`` is waited out, then retried."""
    session = kwargs.get("session")
    if session is not None:
        polite(session)


# -- events -> report ----------------------------------------------------------------------
def _consume(event: Any, report: Report, spec: Spec, progress: Progress | None) -> None:
    if isinstance(event, events.ScenarioFinished):
        recorder = event.recorder
        result = report.operations.setdefault(recorder.label, OperationResult())
        result.cases += len(recorder.cases)
        for case_id, nodes in recorder.checks.items():
            for node in nodes:
                result.checks[node.name] += 1
                if node.failure_info is None:
                    continue
                result.failed[node.name] += 1
                report.add_failure(_failure(recorder, case_id, node, spec))
        if progress is not None:
            progress(event.phase.value, recorder.label, len(report.failures))
    elif isinstance(event, events.NonFatalError):
        report.errors.append(f"{event.label}: {event.info.format()}".strip())
    elif isinstance(event, events.FatalError):
        raise UsageError(f"the run stopped: {event.exception}")


def _failure(recorder: Any, case_id: str, node: Any, spec: Spec) -> FailureRecord:
    failure = node.failure_info.failure
    operation = failure.operation or recorder.label
    response = recorder.find_response(case_id=case_id)
    status = response.status_code if response is not None else None
    excerpt = ""
    if response is not None:
        excerpt = response.content[:EXCERPT].decode("utf-8", "replace")
    return FailureRecord(
        operation=operation, check=node.name, title=failure.title,
        message=failure.message or "", code=getattr(failure, "code", ""),
        curl=node.failure_info.code_sample, status=status, response_excerpt=excerpt,
        spec_location=_location(spec, operation, status, failure.message or ""),
    )  # fmt: skip


def _location(spec: Spec, label: str, status: int | None, message: str) -> str:
    if "\nSpec: #" in message:  # our checks name it themselves
        return message.rsplit("\nSpec: ", 1)[1].strip()
    method, _, path = label.partition(" ")
    operation = next(
        (op for op in spec.operations if op.method == method.upper() and op.path == path), None
    )
    if operation is None:
        return ""
    pointer = f"#/paths/{escape_pointer_token(operation.path)}/{operation.method.lower()}"
    if status is not None:
        found = operation.response_for(status)
        pointer += f"/responses/{found[0]}" if found else "/responses"
    return pointer
