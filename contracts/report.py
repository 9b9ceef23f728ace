"""A run's results, and the forms people read them in: the terminal, JUnit XML for CI, JSON
for tools, Markdown for a pull-request comment.

Every failure carries what a person needs to act at once: the operation, the check, what
was wrong, the request as a curl command, the start of the response, and the place in the
spec that makes the promise.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from rich.console import Console
from rich.markup import escape
from rich.table import Table

EXCERPT = 400


@dataclass
class FailureRecord:
    operation: str
    check: str
    title: str
    message: str
    code: str = ""
    curl: str = ""
    status: int | None = None
    response_excerpt: str = ""
    spec_location: str = ""
    accepted: bool = False  # known, listed in the baseline

    @property
    def fingerprint(self) -> str:
        """Stable across runs: the same broken promise, whatever data found it."""
        return f"{self.operation} | {self.check} | {self.title}"


@dataclass
class OperationResult:
    cases: int = 0
    checks: Counter[str] = field(default_factory=Counter)  # check -> times run
    failed: Counter[str] = field(default_factory=Counter)  # check -> times failed
    statuses: Counter[int] = field(default_factory=Counter)  # status -> answers


@dataclass
class Report:
    spec: str
    target: str
    phases: list[str]
    seed: int | None
    duration: float = 0.0
    operations: dict[str, OperationResult] = field(default_factory=dict)
    failures: list[FailureRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stateful_cases: int = 0  # the stateful phase's steps: not an operation of their own
    requests: dict[str, int] = field(default_factory=dict)  # phase -> requests sent
    probes: dict[str, int] = field(default_factory=dict)  # "TRACE /users" -> requests sent
    variables: dict[str, str] = field(default_factory=dict)  # $NAME in curls -> its source
    skipped: list[str] = field(default_factory=list)  # operations left out, and why
    principal: str = ""  # the account the run acts as, and where it was recognised

    @property
    def open_failures(self) -> list[FailureRecord]:
        return [f for f in self.failures if not f.accepted]

    @property
    def cases(self) -> int:
        return sum(result.cases for result in self.operations.values()) + self.stateful_cases

    @property
    def exit_code(self) -> int:
        return 1 if self.open_failures or self.errors else 0

    def add_failure(self, record: FailureRecord) -> None:
        if all(record.fingerprint != known.fingerprint for known in self.failures):
            self.failures.append(record)

    def as_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "target": self.target,
            "phases": self.phases,
            "seed": self.seed,
            "duration_seconds": round(self.duration, 3),
            "cases": self.cases,
            "passed": self.exit_code == 0,
            "operations": {
                label: {
                    "cases": r.cases,
                    "checks": dict(r.checks),
                    "failed": dict(r.failed),
                    "statuses": dict(r.statuses),
                }
                for label, r in sorted(self.operations.items())
            },
            "stateful_cases": self.stateful_cases,
            "requests": self.requests,
            "probes": self.probes,
            "variables": self.variables,
            "skipped": self.skipped,
            "principal": self.principal,
            "failures": [{**asdict(f), "fingerprint": f.fingerprint} for f in self.failures],
            "errors": self.errors,
        }


# -- writers ------------------------------------------------------------------------------
def write_json(report: Report, path: Path) -> None:
    path.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")


def write_junit(report: Report, path: Path) -> None:
    """One test case per operation and check, so CI lists exactly what broke."""
    suite = ElementTree.Element(
        "testsuite", name="contracts", tests="0", failures="0", errors=str(len(report.errors)),
        time=f"{report.duration:.3f}",
    )  # fmt: skip
    tests = failures = 0
    by_key: dict[tuple[str, str], list[FailureRecord]] = {}
    for failure in report.failures:
        by_key.setdefault((failure.operation, failure.check), []).append(failure)
    keys = {(label, check) for label, r in report.operations.items() for check in r.checks}
    for operation, check in sorted(keys | set(by_key)):
        tests += 1
        case = ElementTree.SubElement(suite, "testcase", classname=operation, name=check)
        found = [f for f in by_key.get((operation, check), []) if not f.accepted]
        if found:
            failures += 1
            node = ElementTree.SubElement(
                case, "failure", message=found[0].title, type=found[0].code or check
            )
            node.text = "\n\n".join(_plain(f) for f in found)
        elif by_key.get((operation, check)):
            ElementTree.SubElement(case, "skipped", message="known failure (baseline)")
    for error in report.errors:
        tests += 1
        case = ElementTree.SubElement(suite, "testcase", classname="run", name="error")
        ElementTree.SubElement(case, "error", message=error.splitlines()[0]).text = error
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def write_markdown(report: Report, path: Path) -> None:
    path.write_text(markdown(report), encoding="utf-8")


def markdown(report: Report) -> str:
    verdict = "passed" if report.exit_code == 0 else "failed"
    lines = [
        f"## Contract tests {verdict}: `{report.spec}`",
        "",
        f"{report.cases} test cases against `{report.target}` in {report.duration:.1f} s "
        f"(phases: {', '.join(report.phases)}; seed {report.seed}).",
        "",
    ]
    lines += _context_lines(report, "- ")
    if report.open_failures and report.variables:
        lines += ["Reproductions read these variables; set them first:", "", "```console"]
        lines += [_export(name, why) for name, why in sorted(report.variables.items())]
        lines += ["```", ""]
    if report.open_failures:
        lines += ["| Operation | Check | Problem |", "| --- | --- | --- |"]
        lines += [f"| `{f.operation}` | `{f.check}` | {f.title} |" for f in report.open_failures]
        lines.append("")
        for failure in report.open_failures:
            lines += [
                f"<details><summary><code>{failure.operation}</code>: {failure.title}</summary>",
                "",
                failure.message,
                "",
                "```console",
                failure.curl or "(no request)",
                "```",
                "",
                f"Response {failure.status}: `{failure.response_excerpt[:200]}`",
                "",
                f"Spec: `{failure.spec_location}`" if failure.spec_location else "",
                "</details>",
                "",
            ]
    accepted = [f for f in report.failures if f.accepted]
    if accepted:
        lines.append(f"{len(accepted)} known failure(s) accepted by the baseline.")
    for error in report.errors:
        lines += [f"**Error:** {error.splitlines()[0]}", ""]
    return "\n".join(lines) + "\n"


def _export(name: str, why: str) -> str:
    return f"export {name}=…   # {why}"


def _context_lines(report: Report, bullet: str) -> list[str]:
    lines = []
    if report.principal:
        lines.append(f"{bullet}Acting as {report.principal}.")
    for skipped in report.skipped:
        lines.append(f"{bullet}Not run: {skipped}; --allow-self-changes runs it.")
    return [*lines, ""] if lines else []


def _plain(failure: FailureRecord) -> str:
    parts = [failure.title, failure.message, failure.curl]
    if failure.status is not None:
        parts.append(f"Response {failure.status}: {failure.response_excerpt}")
    if failure.spec_location:
        parts.append(f"Spec: {failure.spec_location}")
    return "\n".join(p for p in parts if p)


def print_report(report: Report, console: Console) -> None:
    table = Table(title="Operations", title_justify="left")
    table.add_column("operation")
    table.add_column("cases", justify="right")
    table.add_column("checks", justify="right")
    table.add_column("result")
    failing = Counter(f.operation for f in report.open_failures)
    for label, result in sorted(report.operations.items()):
        verdict = f"[red]{failing[label]} failing[/]" if failing[label] else "[green]passed[/]"
        table.add_row(label, str(result.cases), str(sum(result.checks.values())), verdict)
    console.print(table)
    for line in _context_lines(report, ""):
        if line:
            console.print(f"[dim]{escape(line)}[/]", highlight=False)
    if report.open_failures and report.variables:
        console.print("\nReproductions read these variables; set them first:")
        for name, why in sorted(report.variables.items()):
            console.print(f"  [cyan]{escape(_export(name, why))}[/]", highlight=False)
    for number, failure in enumerate(report.open_failures, 1):
        console.print()
        console.print(
            f"[bold red]{number}. {escape(failure.operation)}[/]  [dim]{failure.check}[/]  "
            f"[bold]{escape(failure.title)}[/]",
            highlight=False,
        )
        console.print(escape(failure.message), highlight=False)
        if failure.curl:
            console.print(f"[cyan]{escape(failure.curl)}[/]", highlight=False, soft_wrap=True)
        if failure.status is not None:
            console.print(
                f"[dim]response {failure.status}:[/] {escape(failure.response_excerpt[:EXCERPT])}",
                highlight=False,
            )
        if failure.spec_location:
            console.print(f"[dim]spec:[/] {escape(failure.spec_location)}", highlight=False)
    for error in report.errors:
        console.print(f"[bold red]error:[/] {escape(error)}", highlight=False)
    accepted = len(report.failures) - len(report.open_failures)
    summary = (
        f"{report.cases} cases, {len(report.operations)} operations"
        + (f" (+ {report.stateful_cases} stateful steps)" if report.stateful_cases else "")
        + ", "
        f"{len(report.open_failures)} failure(s)"
        + (f", {accepted} accepted by the baseline" if accepted else "")
        + (f", {len(report.errors)} error(s)" if report.errors else "")
        + f" in {report.duration:.1f} s"
    )
    style = "green" if report.exit_code == 0 else "red"
    console.print(f"\n[bold {style}]{summary}[/]", highlight=False, soft_wrap=True)
