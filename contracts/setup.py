"""The Schemathesis side of a run: its configuration, the loaded schema, its auth, and the
one global hook a Schemathesis run offers (``before_call``), which finds our run through
the case it is handed.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.filters import FilterSet

from contracts.checks import OUR_CHECKS
from contracts.context import CONFIG_KEY, RunContext
from contracts.errors import UsageError
from contracts.facts import label_of
from contracts.principal import WRITES, protected
from contracts.target import polite
from sandbox.access.oauth import discover
from sandbox.spec.model import Spec

if TYPE_CHECKING:
    from contracts.runner import RunOptions

PHASES = ("examples", "coverage", "fuzzing", "stateful")


def json_document(node: Any) -> Any:
    """The spec as JSON would have it. YAML reads ``example: 1981-12-15`` as a date, which
    no JSON validator takes; a JSON document could only say ``"1981-12-15"``. A ``required``
    list naming a property twice (openai.yaml's ContainerResource) is invalid JSON Schema
    that says nothing more than once; it is read once."""
    if isinstance(node, dict):
        return {
            str(key): _once(value) if key == "required" else json_document(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [json_document(value) for value in node]
    if isinstance(node, datetime | date | time):
        return node.isoformat()
    return node


def _once(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(dict.fromkeys(value))
    return json_document(value)


def load_schema(spec: Spec, options: RunOptions, run: RunContext) -> Any:
    """Schemathesis's schema of the spec, configured for this run and filtered."""
    config = SchemathesisConfig.from_dict(schemathesis_config(spec, options, run))
    schema: Any
    try:
        schema = schemathesis.openapi.from_dict(json_document(spec.document), config=config)
    except Exception as exc:  # schemathesis's loader errors have no common public base
        raise UsageError(f"Schemathesis cannot load {options.spec}: {exc}") from None
    # the per-operation rules of the configuration (the OAuth endpoints') come with an
    # include-everything filter, and Schemathesis ORs includes: start from none instead
    schema = schema.clone(filter_set=FilterSet())
    filters = {
        "path": list(options.include_path) or None,
        "method": [m.upper() for m in options.include_method] or None,
        "tag": list(options.include_tag) or None,
        "operation_id": list(options.include_operation_id) or None,
    }
    if any(filters.values()):
        schema = schema.include(**{k: v for k, v in filters.items() if v})
    if not options.allow_self_changes:
        for operation in protected(run.facts, run.principal):
            schema = schema.exclude(method=operation.method, path=operation.path)
            run.skipped.append(f"{label_of(operation)} (changes the account the run acts as)")
    if run.target.tokens is not None:
        _token_auth(schema, run)
    return schema


def schemathesis_config(spec: Spec, options: RunOptions, run: RunContext) -> dict[str, Any]:
    unknown = [phase for phase in options.phases if phase not in PHASES]
    if unknown:
        raise UsageError(f"unknown phase {unknown[0]!r}; choose from {', '.join(PHASES)}")
    checks: dict[str, Any] = {"enabled": True, **run.config_for(OUR_CHECKS)}
    if not options.our_checks:  # Schemathesis's checks alone, the run otherwise the same
        for name in OUR_CHECKS:
            checks[name]["enabled"] = False
    data: dict[str, Any] = {
        "phases": {phase: {"enabled": phase in options.phases} for phase in PHASES},
        "checks": checks,
        "generation": {"max-examples": options.max_examples, "mode": "all"},
        "workers": options.workers,
        "headers": run.target.headers,
        "operations": _oauth_endpoint_rules(spec) + _own_scheme_rules(spec, run),
        "base-url": run.target.base_url,
    }
    if options.seed is not None:
        data["seed"] = options.seed
    if options.max_time is not None:
        data["max-time"] = options.max_time
    if options.rate_limit:
        data["rate-limit"] = options.rate_limit
    return data


def _oauth_endpoint_rules(spec: Spec) -> list[dict[str, Any]]:
    """A token or authorize request can be schema-valid and still rightly refused (a made-up
    code is ``400 invalid_grant``): for those endpoints 400 and 401 count as answers."""
    surface = discover(spec)
    paths = {surface.token_path, surface.authorize_path}
    ids = [op.operation_id for op in spec.operations
           if (spec.base_path.rstrip("/") + op.path in paths or op.path in paths)
           and op.operation_id]  # fmt: skip
    if not ids:
        return []
    return [{
        "include-operation-id": ids,
        "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "400", "401"]}},
    }]  # fmt: skip


def _own_scheme_rules(spec: Spec, run: RunContext) -> list[dict[str, Any]]:
    """The key also where an operation's own security scheme expects it, when the run's
    headers satisfy none of its requirements (the tic-tac-toe example reads its board with
    an api-key header, its squares with a bearer token). Schemathesis adds these headers
    to the run's for that operation, and still leaves them out of its missing-auth probes."""
    rules = []
    for operation in spec.operations:
        carried = run.target.credentials_for(operation.security)
        if carried:
            name = f"{operation.method} {operation.path}"
            rules.append({"include-name": [name], "headers": carried})
    return rules


def _token_auth(schema: Any, run: RunContext) -> None:
    """Tokens the run fetches, refreshed before they expire; Schemathesis knows them as the
    run's auth, so its missing-auth probes still go without."""
    target = run.target

    class RunTokens:
        def get(self, case: Any, ctx: Any) -> str:
            return target.auth_headers()["Authorization"]

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": data}

    schema.auth(refresh_interval=None)(RunTokens)


def run_of_case(case: Any) -> RunContext | None:
    """The contracts run a case belongs to, from its schema's configuration."""
    try:
        kwargs = case.operation.schema.config.checks.custom_kwargs
    except AttributeError:
        return None
    for name in OUR_CHECKS:
        found = kwargs.get(name, {}).get(CONFIG_KEY)
        if isinstance(found, RunContext):
            return found
    return None


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Every request of a contracts run: real APIs get a 429-aware session (``Retry-After``
    waited out, then retried), and a write aimed at the run's own account goes elsewhere."""
    run = run_of_case(case)
    if run is None:
        return
    session = kwargs.get("session")
    if session is not None:
        polite(session)
    principal = run.principal
    if principal is not None and case.method.upper() in WRITES and case.path_parameters:
        parameters = dict(case.path_parameters)
        if principal.redirect(case.method.upper(), case.operation.path, parameters):
            case.path_parameters = parameters
