"""`contracts run` measured: against plain Schemathesis on the planted-violation corpus, and
its speed in-process versus over HTTP against the sandbox. Prints figures; asserts nothing.

    python bench/contracts_bench.py                  # both parts
    python bench/contracts_bench.py --part corpus --max-examples 30
    python bench/contracts_bench.py --part speed --max-examples 10

Corpus: for the correct reference server and every variant, the variant is served on its own
127.0.0.1 port and both tools run against it as users run them (subprocesses, same seed,
examples, phases): `st run --checks all` (the anchor) and `contracts run --base-url`.

Speed: test cases per second of `contracts run openapi.yaml` with the sandbox in-process (a
loopback server in the runner's own process) and over HTTP against `sandbox serve` (gunicorn,
another process), in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from contract_anchor import PHASES, expected_label, run_st  # noqa: E402

from tests.contract_corpus.reference import SPEC_PATH, TOKEN, VARIANTS  # noqa: E402
from tests.contract_corpus.serve import serve  # noqa: E402

console = Console()


def run_contracts(
    variant: str, max_examples: int, seed: int, phases: str
) -> tuple[bool, int, float]:
    """(detected, failures, seconds) of `contracts run` against the served variant."""
    with tempfile.TemporaryDirectory() as tmp, serve(variant) as base:
        out = Path(tmp) / "r.json"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "contracts", "run", str(SPEC_PATH), "--base-url", base,
             "--bearer", TOKEN, "--max-examples", str(max_examples), "--seed", str(seed),
             "--phases", phases, "--report", "json", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        failures = len(json.loads(out.read_text())["failures"]) if out.exists() else 0
        return done.returncode == 1 and failures > 0, failures, seconds


def corpus(args: argparse.Namespace) -> None:
    variants = ["correct", *VARIANTS] if not args.variants else args.variants.split(",")
    table = Table(title=f"Planted violations ({args.max_examples} examples, seed {args.seed}, "
                  f"phases {args.phases})")  # fmt: skip
    for column in ("variant", "expected", "st", "contracts", "st s", "contracts s"):
        table.add_column(column)
    totals = {"st": 0, "ours": 0, "st_s": 0.0, "ours_s": 0.0, "st_fp": 0, "ours_fp": 0}
    for variant in variants:
        st = run_st(variant, args.max_examples, args.seed, args.phases, 600)
        ours, count, seconds = run_contracts(variant, args.max_examples, args.seed, args.phases)
        totals["st_s"] += st.seconds
        totals["ours_s"] += seconds
        if variant == "correct":
            totals["st_fp"] += int(st.exit_code != 0)
            totals["ours_fp"] += int(ours or count > 0)
        else:
            totals["st"] += int(st.detected)
            totals["ours"] += int(ours)
        mark = {True: "[green]yes[/]", False: "[red]no[/]"}
        table.add_row(variant, expected_label(variant),
                      "clean" if variant == "correct" and st.exit_code == 0 else mark[st.detected],
                      "clean" if variant == "correct" and not ours else f"{mark[ours]} ({count})",
                      f"{st.seconds:.1f}", f"{seconds:.1f}")  # fmt: skip
        console.print(f"  {variant}: st {st.detected} {st.seconds:.1f}s, contracts {ours} "
                      f"{seconds:.1f}s", highlight=False)  # fmt: skip
    console.print(table)
    planted = len([v for v in variants if v != "correct"])
    console.print(
        f"detected: st {totals['st']}/{planted}, contracts {totals['ours']}/{planted}; "
        f"false positives on the correct server: st {totals['st_fp']}, contracts "
        f"{totals['ours_fp']}; wall time: st {totals['st_s']:.0f} s, contracts "
        f"{totals['ours_s']:.0f} s"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def speed(args: argparse.Namespace) -> None:
    from contracts.runner import RunOptions, run

    spec = ROOT / "openapi.yaml"
    phases = tuple(args.speed_phases.split(","))
    rows = []
    started = time.perf_counter()
    report = run(RunOptions(spec, max_examples=args.max_examples, seed=args.seed, phases=phases))
    rows.append(("in-process (loopback, same process)", report, time.perf_counter() - started))
    port = _free_port()
    with tempfile.TemporaryDirectory() as state:
        server = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "serve", str(spec), "--port", str(port),
             "--state", f"{state}/s.sqlite", "--rate-limits", "1000000000/hour",
             "--log-format", "off"],
            cwd=state, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # the run subscribes made-up URLs: refuse them before any DNS lookup
            env={**os.environ, "SANDBOX_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"},
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    key = requests.get(base + "/__sandbox/config", timeout=1).json()
                    break
                except requests.RequestException:
                    time.sleep(0.1)
            started = time.perf_counter()
            report = run(RunOptions(spec, base_url=base + "/v1",
                                    bearer=key["default_api_key"], max_examples=args.max_examples,
                                    seed=args.seed, phases=phases))  # fmt: skip
            rows.append(("over HTTP (sandbox serve, gunicorn 1x8)", report,
                         time.perf_counter() - started))  # fmt: skip
        finally:
            server.terminate()
            server.wait(10)
    table = Table(title=f"contracts run openapi.yaml ({args.max_examples} examples, phases "
                  f"{args.speed_phases})")  # fmt: skip
    for column in ("target", "cases", "seconds", "cases/s", "failures"):
        table.add_column(column)
    for name, found, seconds in rows:
        table.add_row(name, str(found.cases), f"{seconds:.1f}", f"{found.cases / seconds:.0f}",
                      str(len(found.failures)))  # fmt: skip
    console.print(table)
    (_inproc, a, sa), (_http, b, sb) = rows
    console.print(f"in-process / HTTP: {(a.cases / sa) / (b.cases / sb):.2f}x cases per second")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("corpus", "speed", "both"), default="both")
    parser.add_argument("--variants", help="comma-separated; default: correct and all")
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default=PHASES)
    parser.add_argument("--speed-phases", default="examples,coverage,fuzzing")
    args = parser.parse_args()
    if args.part in ("corpus", "both"):
        corpus(args)
    if args.part in ("speed", "both"):
        speed(args)


if __name__ == "__main__":
    main()
