"""Anchor: what plain Schemathesis (`st run --checks all`) finds in the planted-violation corpus.

`contracts run` adds its own checks (envelopes, error shape, rate-limit headers, pagination,
identity/persistence) on top of Schemathesis; this script measures the baseline those checks
are compared with. For the correct reference server and every variant in
tests/contract_corpus it serves the variant on its own 127.0.0.1 port, runs `st run` as a
subprocess exactly as a user would, and prints whether st reported a failure, which kinds, and
how long it took. Prints figures; asserts nothing.

    python bench/contract_anchor.py
    python bench/contract_anchor.py --variants correct,wrong_type --max-examples 10
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.contract_corpus.reference import (  # noqa: E402
    EXPECTED,
    SCHEMATHESIS,
    SPEC_PATH,
    TOKEN,
    VARIANTS,
)
from tests.contract_corpus.serve import serve  # noqa: E402

PHASES = "examples,coverage,fuzzing,stateful"
PRINTED_FAILURE = re.compile(r"^- (ST\d+ .+)$", re.MULTILINE)


@dataclass
class Outcome:
    """One `st run` against one variant."""

    variant: str
    exit_code: int
    seconds: float
    failures: list[str] = field(default_factory=list)  # "ST108 Response violates schema"
    errors: list[str] = field(default_factory=list)
    output: str = ""

    @property
    def detected(self) -> bool:
        return self.exit_code != 0 and bool(self.failures)


def expected_label(variant: str) -> str:
    if variant == "correct":
        return "- (must pass)"
    kinds = EXPECTED[variant]
    ours = sorted(kinds - {SCHEMATHESIS})
    parts = (["st"] if SCHEMATHESIS in kinds else []) + [f"ours:{kind}" for kind in ours]
    return " + ".join(parts)


def run_st(variant: str, max_examples: int, seed: int, phases: str, timeout: float) -> Outcome:
    """Serve `variant` and run `st run` against it; the JSON report gives the failure kinds."""
    st = Path(sys.executable).parent / "st"
    with tempfile.TemporaryDirectory(prefix="contract-anchor-") as tmp, serve(variant) as base:
        report = Path(tmp) / "report.json"
        command = [
            str(st), "run", str(SPEC_PATH.relative_to(ROOT)), "--url", base,
            "--header", f"Authorization: Bearer {TOKEN}", "--checks", "all",
            "--max-examples", str(max_examples), "--seed", str(seed), "--phases", phases,
            "--no-color", "--report", "json", "--report-json-path", str(report),
        ]  # fmt: skip
        started = time.perf_counter()
        try:
            result = subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
            )
            exit_code, output = result.returncode, result.stdout + result.stderr
        except subprocess.TimeoutExpired as exc:
            exit_code = -1
            output = f"{exc.stdout or ''}{exc.stderr or ''}\n(timed out after {timeout}s)"
        seconds = time.perf_counter() - started
        outcome = Outcome(variant, exit_code, seconds, output=output)
        if report.exists():
            data = json.loads(report.read_text())
            outcome.failures = [f"{f['code']} {f['title']}" for f in data.get("failures", [])]
            outcome.errors = [str(e.get("title") or e) for e in data.get("errors", [])]
        else:  # no report (e.g. a timeout): fall back to what st printed
            outcome.failures = sorted(set(PRINTED_FAILURE.findall(output)))
        return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants",
        default="",
        help="comma-separated variants (and/or 'correct'); default: correct and all variants",
    )
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default=PHASES)
    parser.add_argument("--timeout", type=float, default=180.0, help="per st run, seconds")
    parser.add_argument("--json", type=Path, help="also write the outcomes to this file")
    parser.add_argument(
        "--show-output", action="store_true", help="print st's output for unexpected outcomes"
    )
    args = parser.parse_args()

    names = [n.strip() for n in args.variants.split(",") if n.strip()] or ["correct", *VARIANTS]
    unknown = [n for n in names if n != "correct" and n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants: {', '.join(unknown)}")

    console = Console()
    if not console.is_terminal:  # piped or captured: keep the table readable, not 80 columns
        console = Console(width=170)
    outcomes: list[Outcome] = []
    total_started = time.perf_counter()
    for index, name in enumerate(names, 1):
        console.print(f"[{index}/{len(names)}] {name} ...", end=" ")
        outcome = run_st(name, args.max_examples, args.seed, args.phases, args.timeout)
        outcomes.append(outcome)
        verdict = "FAILURES" if outcome.detected else f"clean (exit {outcome.exit_code})"
        console.print(f"{verdict} in {outcome.seconds:.1f}s {', '.join(outcome.failures)}")
        surprising = (name == "correct") == outcome.detected or outcome.errors
        if args.show_output and surprising:
            console.print(outcome.output[-6000:], markup=False, highlight=False)
    total_seconds = time.perf_counter() - total_started

    table = Table(title=f"plain `st run --checks all` (max-examples {args.max_examples})")
    table.add_column("variant")
    table.add_column("expected catcher")
    table.add_column("detected by st")
    table.add_column("exit", justify="right")
    table.add_column("st failure kinds")
    table.add_column("seconds", justify="right")
    for outcome in outcomes:
        if outcome.variant == "correct":
            detected = "FALSE POSITIVE" if outcome.detected else "clean"
        else:
            detected = "yes" if outcome.detected else "no"
        if outcome.errors:
            detected += f" ({len(outcome.errors)} errors)"
        table.add_row(
            outcome.variant,
            expected_label(outcome.variant),
            detected,
            str(outcome.exit_code),
            "; ".join(outcome.failures) or "-",
            f"{outcome.seconds:.1f}",
        )
    console.print(table)

    variants = [o for o in outcomes if o.variant != "correct"]
    st_expected = [o for o in variants if SCHEMATHESIS in EXPECTED[o.variant]]
    ours_only = [o for o in variants if SCHEMATHESIS not in EXPECTED[o.variant]]
    console.print(f"detected by plain st: {sum(o.detected for o in variants)}/{len(variants)}")
    console.print(
        f"  expected st to catch: {sum(o.detected for o in st_expected)}/{len(st_expected)}"
        + "".join(f"\n    missed: {o.variant}" for o in st_expected if not o.detected)
    )
    console.print(
        f"  only ours expected:   {sum(o.detected for o in ours_only)}/{len(ours_only)}"
        + "".join(f"\n    st caught anyway: {o.variant}" for o in ours_only if o.detected)
    )
    correct = [o for o in outcomes if o.variant == "correct"]
    if correct:
        fp = correct[0].failures if correct[0].detected else []
        console.print(f"false positives on the correct server: {len(fp)} {'; '.join(fp)}")
    console.print(f"total wall time: {total_seconds:.1f}s")

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "max_examples": args.max_examples,
                    "seed": args.seed,
                    "phases": args.phases,
                    "total_seconds": round(total_seconds, 2),
                    "outcomes": [
                        {
                            "variant": o.variant,
                            "expected": expected_label(o.variant),
                            "detected": o.detected,
                            "exit_code": o.exit_code,
                            "failures": o.failures,
                            "errors": o.errors,
                            "seconds": round(o.seconds, 2),
                        }
                        for o in outcomes
                    ],
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
