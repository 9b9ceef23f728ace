"""``sandbox serve`` and ``sandbox check``: load a spec as one, and serve it or report on it.

What only one of the two needs is imported inside it: ``check`` never loads the app, and
``serve`` not the resource report.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import click

from sandbox.cli.common import console, fail, lenient_warning, load
from sandbox.config.settings import Settings, is_loopback
from sandbox.errors import ConfigError, StorageError
from sandbox.serving import SERVERS, Served
from sandbox.serving import serve as serve_with
from sandbox.spec.model import Spec


@click.command()
@click.argument("spec", type=click.Path(path_type=Path), default="openapi.yaml")
@click.option("--host", help="Interface to listen on.  [default: 127.0.0.1]")
@click.option("--port", type=int, help="Port to listen on.  [default: 8000]")
@click.option("--seed", type=int, help="Make generated data deterministic.")
@click.option(
    "--server",
    type=click.Choice(SERVERS),
    help="HTTP server in front: granian (Rust) or gunicorn.  [default: granian]",
)
@click.option("--workers", type=int, help="Worker processes.  [default: 2]")
@click.option(
    "--threads",
    type=int,
    help="Threads running the app, per worker.  [default: 2 on granian, 4 on gunicorn]",
)
@click.option(
    "--header-timeout",
    type=float,
    help="Seconds a client gets to send a request's headers (granian).  [default: 10]",
)
@click.option(
    "--body-timeout",
    type=float,
    help="Seconds a client gets to send a request's body, then 408 (granian).  [default: 30]",
)
@click.option("--reload", is_flag=True, default=None, help="Dev server, restarts on change.")
@click.option("--locale", help="Faker locale for generated data.  [default: en_US]")
@click.option("--api-key", "api_keys", multiple=True, help="Accept this test API key (repeatable).")
@click.option("--rate-limits", help="The default plan's windows, e.g. '100/hour;10/second'.")
@click.option("--plan", "default_plan", help="Plan of the banner's key and --api-key keys.")
@click.option(
    "--rate-limit-scale",
    type=float,
    help="Shorten every window by this factor (60: an hour lasts a minute) for demos.",
)
@click.option("--rate-limit-storage", help="auto, memory, sqlite or a limits URI (redis://…).")
@click.option(
    "--ietf-rate-limit-headers",
    is_flag=True,
    default=None,
    help="Also send the IETF RateLimit and RateLimit-Policy headers.",
)
@click.option(
    "--no-auth",
    "auth",
    flag_value=False,
    default=None,
    help="Accept every request as the banner's key, whatever the spec's security says.",
)
@click.option("--state", help="State file, or ':memory:'.  [default: .sandbox/state.sqlite]")
@click.option(
    "--redis",
    metavar="URL",
    help="Keep all state in this Redis (redis://host:6379/0) instead of the state file, so "
    "several sandboxes (processes or machines behind a load balancer) act as one.",
)
@click.option(
    "--stateless",
    "stateful",
    flag_value=False,
    default=None,
    help="Store nothing: every response is generated from the spec, as a pure mock.",
)
@click.option(
    "--declared-statuses-only", is_flag=True, default=None,
    help="An unknown id is a 404 only where the operation declares one.",
)  # fmt: skip
@click.option("--seed-records", type=int, help="Seed records per resource.  [default: 25]")
@click.option(
    "--id-prefix", "id_prefixes", multiple=True, metavar="RESOURCE=PREFIX",
    help="New ids of this resource (as `sandbox check` names it) start with PREFIX: "
    "'customers=cus_' (repeatable).",
)  # fmt: skip
@click.option(
    "--token-ttl",
    type=int,
    help="Lifetime of OAuth access tokens in seconds (30: demo expiry).  [default: 3600]",
)
@click.option(
    "--chaos",
    help="Fail a share of requests and add latency: 'error_rate=0.1,latency=50..300ms'.",
)
@click.option(
    "--admin-token",
    help="Token for /__sandbox when listening beyond loopback.  [default: generated]",
)
@click.option(
    "--log-format",
    type=click.Choice(["json", "text", "off"]),
    help="One line per request: JSON objects, plain text, or none.  [default: json]",
)
@click.option(
    "--lenient",
    is_flag=True,
    default=None,
    help="Serve a spec that breaks the OpenAPI schema, with warnings (the default).",
)
@click.option(
    "--strict",
    is_flag=True,
    default=None,
    help="Refuse a spec that breaks the OpenAPI schema in any way (for CI); exit 2.",
)
@click.option(
    "--spec-cache",
    help="Directory of parsed specs, so a second start is fast; 'off' turns it off."
    "  [default: .sandbox/cache]",
)
@click.option("--config", type=click.Path(path_type=Path, exists=True), help="Settings file.")
@click.option(
    "--no-validate-spec",
    "validate_spec",
    flag_value=False,
    default=None,
    help="Serve without checking the document against the OpenAPI schema.",
)
def serve(
    spec: Path, config: Path | None, api_keys: tuple[str, ...], id_prefixes: tuple[str, ...],
    **flags: Any,
) -> None:  # fmt: skip
    """Serve SPEC (default: openapi.yaml)."""
    # everything made from here to the fork lives on: the collector would only walk it again
    # and again; sandbox.serving.build_before_fork freezes it and turns the collector back on
    gc.disable()
    from sandbox.admin.token import new_admin_token
    from sandbox.cli.banner import banner
    from sandbox.observe.log import configure_logging

    if api_keys:
        flags["api_keys"] = list(api_keys)
    if id_prefixes:
        flags["id_prefixes"] = _pairs("--id-prefix", id_prefixes)
    loaded, settings = load(spec, config, flags, serving=True)
    if not is_loopback(settings.host) and not settings.admin_token:
        settings.admin_token = new_admin_token()  # printed below, shared by every worker
    console.print(banner(loaded, settings))
    for warning in loaded.warnings:
        lenient_warning(warning)
    try:
        configure_logging(settings.log_format)
        serve_with(settings, lambda: _served(loaded, settings))
    except (ConfigError, StorageError) as exc:
        fail(str(exc))


def _pairs(option: str, given: tuple[str, ...]) -> dict[str, str]:
    """``NAME=VALUE`` options as a mapping."""
    pairs = {}
    for text in given:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{text!r}: expected NAME=VALUE", param_hint=option)
        pairs[name.strip()] = value.strip()
    return pairs


def _served(spec: Spec, settings: Settings) -> Served:
    from sandbox.app import create_app

    app = create_app(spec, settings)
    # each worker process sends webhooks, including those a restart left pending
    sandbox = app.extensions["sandbox"]
    return Served(app, sandbox.webhooks.start, sandbox.answers_at_once)


@click.command()
@click.argument("spec", type=click.Path(path_type=Path), default="openapi.yaml")
@click.option(
    "--lenient", is_flag=True, default=None, help="Report problems as warnings (default)."
)
@click.option("--strict", is_flag=True, default=None, help="Any problem is an error (exit 2).")
@click.option("--spec-cache", help="Directory of parsed specs ('off': none).")
@click.option("--config", type=click.Path(path_type=Path, exists=True), help="Settings file.")
def check(spec: Path, config: Path | None, **flags: Any) -> None:
    """Load SPEC as serve would and report what would be served, or why it cannot be."""
    from sandbox.resources.report import check_lines
    from sandbox.spec.links import link_form_conflicts
    from sandbox.spec.notes import discriminator_conflicts

    loaded, _settings = load(spec, config, flags)
    for warning in loaded.warnings:
        console.print(f"[bold yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    for conflicts in (discriminator_conflicts(loaded), link_form_conflicts(loaded)):
        for conflict in conflicts[:10]:
            console.print(f"[bold yellow]note:[/] {conflict}", highlight=False, soft_wrap=True)
        if len(conflicts) > 10:
            console.print(f"[bold yellow]note:[/] ... and {len(conflicts) - 10} more like these")
    console.print(
        f"[bold green]ok:[/] {loaded.title}: {len(loaded.operations)} operations"
        f" under '{loaded.base_path or '/'}'",
        highlight=False,
    )
    for line in check_lines(loaded):  # the resources found, and why (sandbox/resources)
        console.print(line, highlight=False, soft_wrap=True, markup=False)
