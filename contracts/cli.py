"""The ``contracts`` command: exit 0 when the implementation honours the spec, 1 when it does
not, 2 when the options or the spec are unusable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from contracts.auth import TokenError
from contracts.baseline import Baseline, BaselineError
from contracts.report import print_report, write_json, write_junit, write_markdown
from contracts.runner import PHASES, RunOptions, UsageError, run

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
@click.option("--basic", metavar="USER:PASSWORD", help="Send HTTP Basic credentials.")
@click.option("--oauth-token-url", help="Get tokens here (default: the spec's own tokenUrl).")
@click.option("--client-id", help="OAuth client id: the client-credentials grant.")
@click.option("--client-secret", help="OAuth client secret.")
@click.option("--username", help="With --password: the OAuth password grant.")
@click.option("--password", help="The password for --username.")
@click.option("--scope", help="OAuth scopes to ask for.")
@click.option("--auth-command", metavar="COMMAND",
              help="A command printing a bearer token (or a token endpoint's JSON); run again "
              "when the token expires.")  # fmt: skip
@click.option("--auth-refresh", type=float, metavar="SECONDS",
              help="Fetch a new token this often when the token does not say when it "
              "expires.")  # fmt: skip
@click.option("--allow-self-changes", is_flag=True,
              help="Also delete or change the account the run acts as (kept off by "
              "default).")  # fmt: skip
@click.option(
    "--lenient",
    is_flag=True,
    help="Test a spec that breaks the OpenAPI schema, as far as it can be read.",
)
@click.option(
    "--no-contract-checks",
    "no_contract_checks",
    is_flag=True,
    help="Schemathesis's checks alone (to compare); the run otherwise the same.",
)
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
    no_contract_checks: bool, **options: Any,
) -> None:  # fmt: skip
    """Run property-based and stateful contract tests of SPEC (default: openapi.yaml)."""
    if options["oauth_token_url"] and not (options["client_id"] or options["username"]):
        _fail("--oauth-token-url needs --client-id and --client-secret, or --username and "
              "--password")  # fmt: skip
    if options["username"] and options["password"] is None:
        _fail("--username needs --password")
    if baseline_update and baseline is None:
        _fail("--baseline-update needs --baseline FILE")
    given: dict[str, Any] = {k: tuple(v) if isinstance(v, tuple) else v for k, v in options.items()}
    chosen = RunOptions(
        spec=spec, headers=_headers(headers),
        phases=tuple(p.strip() for p in phases.split(",") if p.strip()),
        baseline=None if baseline_update else baseline, our_checks=not no_contract_checks,
        **given,
    )  # fmt: skip
    report = _run_with_progress(chosen)
    if baseline_update and baseline is not None:
        Baseline.write(report, baseline)
        console.print(f"wrote {len(report.failures)} known failure(s) to {baseline}")
        for failure in report.failures:
            failure.accepted = True
    print_report(report, Console())
    outputs = list(reports)
    if junit is not None:
        outputs.append(("junit", junit))
    if markdown is not None:
        outputs.append(("markdown", markdown))
    for kind, path in outputs:
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
