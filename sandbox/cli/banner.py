"""The panel ``sandbox serve`` prints: where the API is, the test credentials, what runs."""

from __future__ import annotations

from rich.panel import Panel
from rich.table import Table

from sandbox.access.oauth import discover
from sandbox.config.settings import Settings
from sandbox.errors import ConfigError
from sandbox.serving import describe as describe_serving
from sandbox.spec.model import Spec


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
