"""The ``sandbox`` command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from sandbox.access.keys import KeyRing
from sandbox.access.oauth import discover
from sandbox.admin.token import new_admin_token
from sandbox.config.settings import Settings, is_loopback, load_settings
from sandbox.errors import ConfigError, SpecError, StorageError
from sandbox.observe.log import configure_logging
from sandbox.resources.report import check_lines
from sandbox.serving import SERVERS, Served
from sandbox.serving import describe as describe_serving
from sandbox.serving import serve as serve_with
from sandbox.spec.model import Spec, load_spec
from sandbox.spec.notes import discriminator_conflicts
from sandbox.state.select import open_state

console = Console(stderr=True)


def _fail(message: str) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(2)


def _load(
    spec_path: Path, config: Path | None, flags: dict[str, Any], *, serving: bool = False
) -> tuple[Spec, Settings]:
    try:
        probe = load_settings(spec_path, config_file=config, overrides=flags)
        spec = load_spec(
            spec_path,
            validate=probe.validate_spec,
            lenient=probe.serves_invalid_specs,
            cache_dir=probe.spec_cache_dir,
            # served leniently either way: problems are printed when validation finds them
            on_warning=_lenient_warning if serving else None,
        )
        settings = load_settings(
            spec_path,
            config_file=config,
            spec_extension=spec.document.get("x-sandbox"),
            overrides=flags,
        )
        if serving:  # the secret behind the banner's credentials: a problem is a message here
            settings.default_oauth_client  # noqa: B018
    except SpecError as exc:
        _fail(f"cannot serve this spec\n{exc}")
    except ConfigError as exc:
        _fail(str(exc))
    return spec, settings


def _lenient_warning(problem: str) -> None:
    console.print(
        f"[bold yellow]warning:[/] served anyway (--strict refuses it):\n{problem}",
        highlight=False, soft_wrap=True,
    )  # fmt: skip


def banner(spec: Spec, settings: Settings) -> Panel:
    base = f"http://{settings.host}:{settings.port}{spec.base_path}"
    table = Table.grid(padding=(0, 2))
    table.add_row("[bold]Spec[/]", f"{spec.title} ({spec.path}, OpenAPI {spec.openapi})")
    table.add_row("[bold]Base URL[/]", f"[link={base}]{base}[/link]")
    table.add_row("[bold]Operations[/]", str(len(spec.operations)))
    plan = settings.default_plan
    windows = settings.all_plans().get(plan) or "unlimited"
    table.add_row(
        "[bold]Test API key[/]", f"[green]{settings.default_api_key}[/]  plan {plan} ({windows})"
    )
    client_id, client_secret = settings.default_oauth_client
    origin = f"http://{settings.host}:{settings.port}"
    table.add_row(
        "[bold]OAuth client[/]",
        f"[green]{client_id}[/] / [green]{client_secret}[/]  "
        f"token URL {origin}{discover(spec).token_path}",
    )
    table.add_row("[bold]Dashboard[/]", f"{origin}/__sandbox/   API docs {origin}/docs")
    if settings.admin_token:
        table.add_row("[bold]Admin token[/]", f"[yellow]{settings.admin_token}[/]  "
                      f"(open {origin}/__sandbox/?token=<token>)")  # fmt: skip
    if settings.chaos:
        table.add_row("[bold]Chaos[/]", f"[red]{settings.chaos}[/]")
    table.add_row("[bold]Seed[/]", str(settings.seed) if settings.seed is not None else "random")
    state = _state_row(spec, settings)
    table.add_row("[bold]State[/]", state)
    table.add_row("[bold]Serving[/]", describe_serving(settings))
    first = spec.operations[0].path if spec.operations else "/"
    example = (
        f"curl -H 'Authorization: Bearer {settings.default_api_key}' "
        f"{base}{first if '{' not in first else ''}"
    )
    table.add_row("[bold]Try[/]", example)
    return Panel(table, title="OpenAPI sandbox", border_style="cyan", expand=False)


def _state_row(spec: Spec, settings: Settings) -> str:
    """Where state lives, as the banner shows it (a Redis URL without its password)."""
    if not settings.stateful:
        where = "off (--stateless: every response generated)"
        return where + (f"; the rest in {_redis_where(spec, settings)}" if settings.redis else "")
    return _redis_where(spec, settings) if settings.redis else settings.state


def _redis_where(spec: Spec, settings: Settings) -> str:
    from sandbox.state.redis.connection import shown_url, spec_prefix, split_url

    try:
        url, given = split_url(settings.redis)
    except ConfigError:
        return "Redis (invalid URL)"
    return f"Redis {shown_url(url)}, keys under {given or spec_prefix(settings.spec, spec.title)}:"


@click.group()
@click.version_option(package_name="openapi-sandbox")
def main() -> None:
    """Serve an OpenAPI document as a realistic, stateful sandbox."""


@main.command()
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
@click.option("--threads", type=int, help="Threads running the app, per worker.  [default: 4]")
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
def serve(spec: Path, config: Path | None, api_keys: tuple[str, ...], **flags: Any) -> None:
    """Serve SPEC (default: openapi.yaml)."""
    if api_keys:
        flags["api_keys"] = list(api_keys)
    loaded, settings = _load(spec, config, flags, serving=True)
    if not is_loopback(settings.host) and not settings.admin_token:
        settings.admin_token = new_admin_token()  # printed below, shared by every worker
    console.print(banner(loaded, settings))
    for warning in loaded.warnings:
        _lenient_warning(warning)
    try:
        configure_logging(settings.log_format)
        serve_with(settings, lambda: _served(loaded, settings))
    except (ConfigError, StorageError) as exc:
        _fail(str(exc))


def _served(spec: Spec, settings: Settings) -> Served:
    from sandbox.app import create_app

    app = create_app(spec, settings)
    # each worker process sends webhooks, including those a restart left pending
    return Served(app, app.extensions["sandbox"].webhooks.start)


@main.command()
@click.argument("spec", type=click.Path(path_type=Path), default="openapi.yaml")
@click.option(
    "--lenient", is_flag=True, default=None, help="Report problems as warnings (default)."
)
@click.option("--strict", is_flag=True, default=None, help="Any problem is an error (exit 2).")
@click.option("--spec-cache", help="Directory of parsed specs ('off': none).")
@click.option("--config", type=click.Path(path_type=Path, exists=True), help="Settings file.")
def check(spec: Path, config: Path | None, **flags: Any) -> None:
    """Load SPEC as serve would and report what would be served, or why it cannot be."""
    loaded, _settings = _load(spec, config, flags)
    for warning in loaded.warnings:
        console.print(f"[bold yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    conflicts = discriminator_conflicts(loaded)
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


@main.group()
def keys() -> None:
    """Create and list test API keys (stored where a running sandbox reads them: its state
    file, or its Redis)."""


def _key_ring(
    spec: Path, config: Path | None, state: str | None, redis: str | None
) -> tuple[Settings, KeyRing]:
    overrides = {"state": state, "redis": redis}
    title = ""
    try:
        if spec.exists():  # the spec's x-sandbox settings count, and its title names Redis keys
            loaded, settings = _load(spec, config, overrides)
            title = loaded.title
        else:
            settings = load_settings(spec, config_file=config, overrides=overrides)
            if settings.redis:
                _fail(f"cannot find {spec}: with Redis, keys are kept under a name from the spec")
        if not settings.redis and settings.state == ":memory:":
            _fail(
                "this sandbox keeps its state in a throwaway file; create keys on the running "
                "server instead: curl -X POST http://HOST:PORT/__sandbox/keys "
                "-H 'Content-Type: application/json' -d '{\"plan\": \"free\"}'"
            )
        return settings, KeyRing(settings.fixed_keys(), open_state(settings, title).keys())
    except (ConfigError, StorageError) as exc:
        _fail(str(exc))


_spec_argument = click.argument("spec", type=click.Path(path_type=Path), default="openapi.yaml")
_state_option = click.option("--state", help="State file.  [default: .sandbox/state.sqlite]")
_redis_option = click.option(
    "--redis", metavar="URL", help="The Redis a sandbox serves from (sandbox serve --redis)."
)
_config_option = click.option(
    "--config", type=click.Path(path_type=Path, exists=True), help="Settings file."
)


@keys.command("create")
@_spec_argument
@click.option("--plan", help="free, starter, pro, enterprise, default or one of your plans.")
@click.option("--label", default="", help="A note to tell keys apart.")
@_state_option
@_redis_option
@_config_option
def create_key(
    spec: Path,
    plan: str | None,
    label: str,
    state: str | None,
    redis: str | None,
    config: Path | None,
) -> None:
    """Create a key for SPEC's sandbox and print it."""
    settings, ring = _key_ring(spec, config, state, redis)
    plans = settings.all_plans()
    plan = plan or settings.default_plan
    if plan not in plans:
        _fail(f"no plan {plan!r}; known plans: {', '.join(sorted(plans))}")
    try:
        created = ring.create(plan, label)
    except StorageError as exc:
        _fail(str(exc))
    windows = plans[plan] or "unlimited"
    console.print(f"[green]{created.key}[/]  plan {plan} ({windows})", highlight=False)
    click.echo(created.key)


@keys.command("list")
@_spec_argument
@_state_option
@_redis_option
@_config_option
def list_keys(spec: Path, state: str | None, redis: str | None, config: Path | None) -> None:
    """List the keys SPEC's sandbox accepts, with their plans."""
    settings, ring = _key_ring(spec, config, state, redis)
    table = Table()
    table.add_column("key", no_wrap=True)
    table.add_column("plan")
    table.add_column("windows", no_wrap=True)
    table.add_column("label")
    table.add_column("from")
    plans = settings.all_plans()
    try:
        listed = ring.all()
    except StorageError as exc:
        _fail(str(exc))
    for key in listed:
        windows = plans.get(key.plan, "?") or "unlimited"
        table.add_row(key.key, key.plan, windows, key.label, key.source)
    out = Console()
    if not out.is_terminal:
        out = Console(width=160)  # piped: never truncate a key
    out.print(table)


@main.command()
@click.argument("event_type")
@click.option("--data", help="The event's data as JSON; without it, a realistic generated record.")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True,
              help="The running sandbox.")  # fmt: skip
def trigger(event_type: str, data: str | None, url: str) -> None:
    """Send EVENT_TYPE (user.created, ...) to every matching webhook subscription."""
    import urllib3

    body: dict[str, Any] = {"type": event_type}
    if data is not None:
        try:
            body["data"] = json.loads(data)
        except ValueError as exc:
            _fail(f"--data is not JSON: {exc}")
    try:
        response = urllib3.request(
            "POST", url.rstrip("/") + "/__sandbox/events", json=body, timeout=10, retries=False
        )
    except urllib3.exceptions.HTTPError as exc:
        _fail(f"cannot reach the sandbox at {url} ({exc}); is `sandbox serve` running?")
    answer = response.json() if response.data else {}
    if response.status != 202:
        _fail(str((answer.get("error") or {}).get("message") or response.data[:200]))
    count = len(answer.get("deliveries", []))
    console.print(f"[green]{event_type}[/] {answer['event'].get('id', '')}: {count} delivery(ies)",
                  highlight=False)  # fmt: skip
    click.echo(json.dumps(answer["event"]))


@main.command()
@click.argument("spec", type=click.Path(path_type=Path, exists=True), default="openapi.yaml")
def demo(spec: Path) -> None:
    """Show a client meeting a rate limit, a flaky endpoint and a signed webhook.

    Starts its own sandbox for SPEC and a webhook receiver on free ports of 127.0.0.1, with
    a throwaway state; nothing else is needed."""
    import time

    from sandbox.demo import run_demo

    try:
        ok = run_demo(spec, Console(), pause=time.sleep)
    except (SpecError, ConfigError) as exc:
        _fail(str(exc))
    sys.exit(0 if ok else 1)


@main.group()
def webhooks() -> None:
    """Tools for webhook receivers."""


@webhooks.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9000, show_default=True, type=int)
@click.option("--secret", "secrets", multiple=True,
              help="Verify with this secret (repeat during a rotation).")  # fmt: skip
def listen(host: str, port: int, secrets: tuple[str, ...]) -> None:
    """Receive webhooks locally: verify each delivery and print it."""
    from werkzeug.serving import run_simple

    from sandbox.webhooks.listen import receiver_app

    out = Console()
    mode = "verifying signatures" if secrets else "no --secret: not verifying"
    out.print(f"listening on http://{host}:{port}/ ({mode})")
    run_simple(host, port, receiver_app(secrets, out), threaded=True)
