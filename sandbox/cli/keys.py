"""``sandbox keys``: test API keys, kept where a running sandbox reads them."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from sandbox.access.keys import KeyRing
from sandbox.cli.common import console, fail, load
from sandbox.config.settings import Settings, load_settings
from sandbox.errors import ConfigError, StorageError
from sandbox.state.select import open_state


@click.group()
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
            loaded, settings = load(spec, config, overrides)
            title = loaded.title
        else:
            settings = load_settings(spec, config_file=config, overrides=overrides)
            if settings.redis:
                fail(f"cannot find {spec}: with Redis, keys are kept under a name from the spec")
        if not settings.redis and settings.state == ":memory:":
            fail(
                "this sandbox keeps its state in a throwaway file; create keys on the running "
                "server instead: curl -X POST http://HOST:PORT/__sandbox/keys "
                "-H 'Content-Type: application/json' -d '{\"plan\": \"free\"}'"
            )
        return settings, KeyRing(settings.fixed_keys(), open_state(settings, title).keys())
    except (ConfigError, StorageError) as exc:
        fail(str(exc))


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
        fail(f"no plan {plan!r}; known plans: {', '.join(sorted(plans))}")
    try:
        created = ring.create(plan, label)
    except StorageError as exc:
        fail(str(exc))
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
        fail(str(exc))
    for key in listed:
        windows = plans.get(key.plan, "?") or "unlimited"
        table.add_row(key.key, key.plan, windows, key.label, key.source)
    out = Console()
    if not out.is_terminal:
        out = Console(width=160)  # piped: never truncate a key
    out.print(table)
