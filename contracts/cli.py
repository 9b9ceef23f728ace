"""The ``contracts`` command: exit 0 when the implementation honours the spec, 1 when it does
not, 2 when the options or the spec are unusable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from contracts.baseline import Baseline, BaselineError
from contracts.report import print_report, write_json, write_junit, write_markdown
from contracts.runner import PHASES, RunOptions, UsageError, run
from contracts.target import ClientCredentials, TokenError

console = Console(stderr=True)
WRITERS = {"json": write_json, "junit": write_junit, "markdown": write_markdown}


def _fail(message: str) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    sys.exit(2)


@click.group()
@click.version_option(package_name="openapi-sandbox")
def main() -> None:
    """Contract-test an implementation of an OpenAPI document."""


def _headers(values: tuple[str, ...]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r}: write it as 'Name: value'", param_hint="--header")
        headers[name.strip()] = content.strip()
    return headers


@main.command("run")
@click.argument("spec", type=click.Path(path_type=Path), default="openapi.yaml")
@click.option("--base-url", help="Test this API (the base path included). Default: the "
              "sandbox serving SPEC in-process.")  # fmt: skip
@click.option(
    "--header", "-H", "headers", multiple=True, help="'Name: value', sent on every request."
)
@click.option("--bearer", help="Send 'Authorization: Bearer TOKEN'.")
@click.option("--api-key", help="Send this key where the spec's security scheme expects it.")
@click.option("--oauth-token-url", help="Get tokens with the client-credentials grant here.")
@click.option("--client-id", help="OAuth client id (with --oauth-token-url).")
@click.option("--client-secret", help="OAuth client secret (with --oauth-token-url).")
@click.option("--scope", help="OAuth scopes to ask for (with --oauth-token-url).")
@click.option("--phases", default=",".join(PHASES), show_default=True,
              help="Comma-separated phases to run.")  # fmt: skip
@click.option("--max-examples", type=click.IntRange(1), default=25, show_default=True,
              help="Test cases per operation and phase.")  # fmt: skip
@click.option("--max-time", type=click.IntRange(1), help="Stop after this many seconds.")
@click.option("--seed", type=int, help="Make the generated cases repeatable.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option("--rate-limit", help="Stay under this rate, e.g. 10/s or 100/m (429s are "
              "always waited out and retried).")  # fmt: skip
@click.option("--include-path", multiple=True, help="Only these paths (repeatable).")
@click.option("--include-method", multiple=True, help="Only these methods (repeatable).")
@click.option("--include-tag", multiple=True, help="Only operations with these tags.")
@click.option("--include-operation-id", multiple=True, help="Only these operationIds.")
@click.option(
    "--webhooks",
    help="Check webhooks: receive them at this http://HOST:PORT/path "
    "(the target must reach it); subscribed through the spec's own endpoint.",
)
@click.option(
    "--webhook-secret",
    help="The secret deliveries must verify with (sent with the "
    "subscription when the endpoint takes one).",
)
@click.option(
    "--webhook-timeout",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds to wait for each created resource's event.",
)
@click.option("--baseline", type=click.Path(path_type=Path),
              help="Known failures listed here do not fail the run.")  # fmt: skip
@click.option("--baseline-update", is_flag=True,
              help="Write this run's failures to --baseline and pass.")  # fmt: skip
@click.option("--report", "reports", multiple=True,
              type=(click.Choice(sorted(WRITERS)), click.Path(path_type=Path)),
              help="Also write a report: --report json out.json (junit, markdown).")  # fmt: skip
@click.option("--junit", type=click.Path(path_type=Path), help="JUnit XML for CI.")
@click.option("--markdown", type=click.Path(path_type=Path), help="Markdown for a PR comment.")
def run_command(
    spec: Path, headers: tuple[str, ...], phases: str, reports: tuple[tuple[str, Path], ...],
    junit: Path | None, markdown: Path | None, baseline: Path | None, baseline_update: bool,
    oauth_token_url: str | None, client_id: str | None, client_secret: str | None,
    scope: str | None, **options: Any,
) -> None:  # fmt: skip
    """Run property-based and stateful contract tests of SPEC (default: openapi.yaml)."""
    if oauth_token_url and not (client_id and client_secret):
        _fail("--oauth-token-url needs --client-id and --client-secret")
    if baseline_update and baseline is None:
        _fail("--baseline-update needs --baseline FILE")
    oauth = (
        ClientCredentials(oauth_token_url, client_id or "", client_secret or "", scope)
        if oauth_token_url
        else None
    )
    chosen = RunOptions(
        spec=spec, headers=_headers(headers),
        phases=tuple(p.strip() for p in phases.split(",") if p.strip()),
        baseline=None if baseline_update else baseline, oauth=oauth,
        **{k: tuple(v) if isinstance(v, tuple) else v for k, v in options.items()},
    )  # fmt: skip
    report = _run_with_progress(chosen)
    if baseline_update and baseline is not None:
        Baseline.write(report, baseline)
        console.print(f"wrote {len(report.failures)} known failure(s) to {baseline}")
        for failure in report.failures:
            failure.accepted = True
    print_report(report, Console())
    for kind, path in [*reports, *(("junit", junit),) * bool(junit),
                       *(("markdown", markdown),) * bool(markdown)]:  # fmt: skip
        WRITERS[kind](report, path)
    sys.exit(report.exit_code)


def _run_with_progress(options: RunOptions) -> Any:
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("loading the spec", total=None)

        def advance(phase: str, label: str, failures: int) -> None:
            found = f" · [red]{failures} failure(s)[/]" if failures else ""
            progress.update(task, description=f"{phase} · {label}{found}")

        try:
            return run(options, advance)
        except (UsageError, BaselineError, TokenError) as exc:
            progress.stop()
            _fail(str(exc))
