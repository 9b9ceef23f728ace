"""Vendors' official SDKs against their own specs: which calls work today (issue 18).

Runs the scenarios of tests/vendor_sdks.py (OpenAI, Twilio, Spotify, Stripe, and Stripe
against ``--stateless`` as a stripe-mock drop-in), each against its corpus spec served by a
real ``sandbox serve``, and prints per SDK every call's PASS/FAIL with the first line of
its error, then ``passed/total``. A failing call that is not yet in its scenario's
``passing`` set is what the e2e suite cannot hold yet; a call that passes but is not listed
is printed as "would join", so whoever fixes a cause knows what to add.

Then, per corpus spec (INDEX.tsv and INDEX-added.tsv), what ``sandbox check`` reports. It
lists the resources it finds (``resources: N found, ...``) after its ``ok:`` line with the
operation count and its notes; resources, operations and notes are counted.

    .venv/bin/python bench/vendor_sdks.py                    # every SDK, then the corpus
    .venv/bin/python bench/vendor_sdks.py --sdk openai -v    # one SDK, with the exchanges
    .venv/bin/python bench/vendor_sdks.py --json results.json --no-check

It asserts nothing and exits 0 whatever fails: it is the measuring instrument, the
e2e tests are the gate.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(1, str(ROOT))  # for tests.*

from tests.corpus import corpus_dir, listed_specs  # noqa: E402
from tests.vendor_sdks import SCENARIOS, Outcome, Scenario, run_scenario  # noqa: E402

OK_LINE = re.compile(r"^ok: .*?(\d+) operations")
MORE_LIKE = re.compile(r"\.\.\. and (\d+) more like these")
RESOURCES = re.compile(r"^resources: (\d+) found, (\d+) operations bound")


def report_scenario(scenario: Scenario, outcomes: list[Outcome], verbose: bool) -> None:
    passed = sum(outcome.passed for outcome in outcomes)
    print(f"\n== {scenario.name} ({scenario.spec}) {passed}/{len(outcomes)}")
    for outcome in outcomes:
        mark = "PASS" if outcome.passed else "FAIL"
        print(f"  {mark} {outcome.call}" + (f": {outcome.error}" if outcome.error else ""))
        if verbose:
            for exchange in outcome.exchanges:
                print(f"       {exchange['method']} {exchange['path']} -> {exchange['status']}")
                if exchange["problems"]:
                    print(f"         problems: {json.dumps(exchange['problems'])[:400]}")
                print(f"         sent: {exchange['request'][:200]}")
                print(f"         body: {exchange['response'][:300]}")
    joins = [o.call for o in outcomes if o.passed and o.call not in scenario.passing]
    leaves = [o.call for o in outcomes if not o.passed and o.call in scenario.passing]
    if joins:
        print(f"  would join the e2e suite (add to passing): {', '.join(joins)}")
    if leaves:
        print(f"  listed as passing but FAILED (the e2e suite fails): {', '.join(leaves)}")


def check_spec(corpus: Path, relative: str, cache: Path) -> dict[str, Any]:
    """What `sandbox check` says about one spec: operations, notes, whether it needs --lenient."""
    base = [sys.executable, "-m", "sandbox", "check", str(corpus / relative)]
    base += ["--spec-cache", str(cache)]
    done = subprocess.run(base, capture_output=True, text=True, cwd=cache, timeout=600)
    lenient = done.returncode != 0  # an invalid spec is served with --lenient, as a user would
    if lenient:
        done = subprocess.run([*base, "--lenient"], capture_output=True, text=True, cwd=cache,
                              timeout=600)  # fmt: skip
    lines = (done.stdout + done.stderr).splitlines()
    failed = [line for line in lines if not line.startswith("note:")][:2] if done.returncode else []
    operations = next((int(m[1]) for line in lines if (m := OK_LINE.match(line))), None)
    notes = sum(line.startswith(("note:", "warning:")) for line in lines)
    notes += sum(int(m[1]) for line in lines if (m := MORE_LIKE.search(line)))
    return {
        "spec": relative,
        "exit": done.returncode,
        "lenient": lenient,
        "operations": operations,
        "notes": notes,
        "resources_listed": next(
            (int(m[1]) for line in lines if (m := RESOURCES.match(line))), None
        ),
        "operations_bound": next(
            (int(m[2]) for line in lines if (m := RESOURCES.match(line))), None
        ),
        "error": " / ".join(failed),
    }


def check_corpus() -> list[dict[str, Any]]:
    corpus = corpus_dir()
    with tempfile.TemporaryDirectory(prefix="sdk-check-") as folder, ThreadPoolExecutor(2) as pool:
        caches = [Path(folder) / str(n) for n in range(len(listed_specs(corpus)))]
        for cache in caches:
            cache.mkdir()
        return list(
            pool.map(
                lambda pair: check_spec(corpus, *pair),
                zip(listed_specs(corpus), caches, strict=True),
            )
        )


def report_checks(rows: list[dict[str, Any]]) -> None:
    print("\n== sandbox check per corpus spec")
    for row in rows:
        flag = " --lenient" if row["lenient"] else ""
        ops = "?" if row["operations"] is None else row["operations"]
        found = "?" if row["resources_listed"] is None else row["resources_listed"]
        bound = "?" if row["operations_bound"] is None else row["operations_bound"]
        print(f"  {row['spec']}{flag}: {found} resources binding {bound} of {ops} operations, "
              f"{row['notes']} notes, exit {row['exit']}")  # fmt: skip
        if row["error"]:
            print(f"    cannot be served: {row['error'][:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdk", action="append", choices=sorted(SCENARIOS),
                        help="run only this scenario (repeatable); default: all")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--no-check", action="store_true", help="skip the sandbox check counts")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print the journaled exchanges of each failing call")  # fmt: skip
    args = parser.parse_args()

    results: dict[str, Any] = {"sdks": {}, "check": []}
    totals = []
    for name in args.sdk or list(SCENARIOS):
        scenario = SCENARIOS[name]
        started = time.perf_counter()
        outcomes = run_scenario(scenario)
        report_scenario(scenario, outcomes, args.verbose)
        passed = sum(outcome.passed for outcome in outcomes)
        totals.append(f"{name} {passed}/{len(outcomes)}")
        results["sdks"][name] = {
            "spec": scenario.spec,
            "seconds": round(time.perf_counter() - started, 1),
            "passed": passed,
            "total": len(outcomes),
            "calls": [vars(outcome) for outcome in outcomes],
        }
    print("\n== totals: " + ", ".join(totals))
    if not args.no_check:
        results["check"] = check_corpus()
        report_checks(results["check"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
