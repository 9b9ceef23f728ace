"""`contracts run` against plain Schemathesis on a real API nobody here wrote: Kinto, from
PyPI (the test extra), in-memory, serving its own OpenAPI document. Prints figures and
every finding, for a person to judge; asserts nothing.

    python bench/real_api_bench.py                      # 90 s each, seed 1
    python bench/real_api_bench.py --max-time 30 --json out.json

Each tool gets a fresh Kinto, the same spec (the document Kinto serves), the same
credentials (HTTP Basic, account ``admin``), seed, examples and time budget, and runs as a
user runs it (a subprocess). A third run is `contracts run --no-contract-checks`: the same
run with Schemathesis's checks alone. Time-bounded runs differ by chance, so the coverage
comparison proper is made apart: the coverage phase alone, unbounded, with our checks and
without (each on a fresh Kinto): the requests and undeclared-method probes must be equal.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.real_apis import RealServer, kinto  # noqa: E402

OUR_CHECKS = {
    "envelope_conformance", "error_shape", "rate_limit_headers", "pagination",
    "identity_and_persistence", "webhook_delivery",
}  # fmt: skip


def printed_failures(output: str) -> list[dict[str, Any]]:
    """st's FAILURES section: each failure with its operation, code, title and status."""
    found: list[dict[str, Any]] = []
    operation = ""
    for line in output.split("=== FAILURES ===", 1)[-1].splitlines():
        header = re.fullmatch(r"_+ (.+?) _+", line.strip())
        if header:
            operation = header.group(1)
            continue
        failure = re.fullmatch(r"- (ST\d+) (.+)", line.strip())
        if failure:
            found.append({"operation": operation, "check": failure.group(1),
                          "title": failure.group(2), "status": None, "message": ""})  # fmt: skip
            continue
        status = re.match(r"\[(\d{3})\]", line.strip())
        if status and found and found[-1]["status"] is None:
            for item in reversed(found):  # one response may answer several failures
                if item["status"] is not None or item["operation"] != operation:
                    break
                item["status"] = int(status.group(1))
    return found


def run_st(server: RealServer, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    st = Path(sys.executable).parent / "st"
    command = [
        str(st), "run", str(server.spec), "--url", server.base_url,
        "--header", f"Authorization: {server.authorization}", "--checks", "all",
        "--max-examples", str(args.max_examples), "--seed", str(args.seed),
        "--max-time", str(args.max_time), "--phases", args.phases, "--no-color",
        "--report", "json", "--report-json-path", str(out),
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.max_time * 4)
    seconds = time.perf_counter() - started
    data = json.loads(out.read_text()) if out.exists() else {"failures": []}
    findings = printed_failures(done.stdout)
    locked = re.search(r"Authentication failed: (\d+) operations", done.stdout)
    return {"tool": "st run --checks all", "exit": done.returncode, "seconds": seconds,
            "findings": findings, "cases": data.get("test_cases", {}).get("generated"),
            "auth_only": int(locked.group(1)) if locked else 0,
            "principal_alive": server.principal_alive()}  # fmt: skip


def run_contracts(server: RealServer, args: argparse.Namespace, out: Path,
                  *extra: str) -> dict[str, Any]:  # fmt: skip
    command = [
        sys.executable, "-m", "contracts", "run", str(server.spec), "--base-url",
        server.base_url, "--basic", f"{server.user}:{server.password}",
        "--max-examples", str(args.max_examples), "--seed", str(args.seed),
        "--max-time", str(args.max_time), "--phases", args.phases,
        "--report", "json", str(out), *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.max_time * 4,
                          cwd=ROOT)  # fmt: skip
    seconds = time.perf_counter() - started
    if not out.exists():
        raise RuntimeError(done.stdout[-3000:] + done.stderr[-3000:])
    data = json.loads(out.read_text())
    findings = [{"operation": f["operation"], "check": f["check"], "title": f["title"],
                 "message": f["message"][:300], "status": f["status"], "curl": f["curl"]}
                for f in data["failures"]]  # fmt: skip
    name = "contracts run" + (" " + " ".join(extra) if extra else "")
    auth_only = sum(1 for result in data["operations"].values() if result["statuses"]
                    and set(map(int, result["statuses"])) <= {401, 403})  # fmt: skip
    return {"tool": name, "exit": done.returncode, "seconds": seconds, "findings": findings,
            "auth_only": auth_only,
            "cases": data["cases"], "requests": data["requests"], "probes": data["probes"],
            "principal": data["principal"], "skipped": data["skipped"],
            "errors": data["errors"], "principal_alive": server.principal_alive()}  # fmt: skip


def coverage_both_ways(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    found = {}
    for name, extra in (("with our checks", ()), ("without", ("--no-contract-checks",))):
        with kinto(tmp / f"coverage-{len(found)}") as server:
            out = tmp / f"coverage-{len(found)}.json"
            subprocess.run(
                [sys.executable, "-m", "contracts", "run", str(server.spec), "--base-url",
                 server.base_url, "--basic", f"{server.user}:{server.password}", "--phases",
                 "coverage", "--seed", str(args.seed), "--max-examples", str(args.max_examples),
                 "--report", "json", str(out), *extra],
                capture_output=True, timeout=1800, cwd=ROOT,
            )  # fmt: skip
            data = json.loads(out.read_text())
            found[name] = {"coverage requests": data["requests"].get("coverage", 0),
                           "probes": sum(data["probes"].values())}  # fmt: skip
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=int, default=90)
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--json", type=Path, help="also write every finding here")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="real-api-bench-") as tmp:
        for index, runner in enumerate((run_st, run_contracts, "plain")):
            directory = Path(tmp) / f"kinto-{index}"
            with kinto(directory) as server:
                out = directory / "report.json"
                if runner == "plain":
                    results.append(run_contracts(server, args, out, "--no-contract-checks"))
                else:
                    results.append(runner(server, args, out))  # type: ignore[operator]
            print(f"{results[-1]['tool']}: {len(results[-1]['findings'])} findings in "
                  f"{results[-1]['seconds']:.0f} s", flush=True)  # fmt: skip
        coverage = coverage_both_ways(args, Path(tmp))
    print(f"\ncoverage phase alone, unbounded: {coverage}")
    print(f"\nKinto, {args.max_time} s each, {args.max_examples} examples, seed {args.seed}, "
          f"phases {args.phases}\n")  # fmt: skip
    for result in results:
        kinds = Counter((f["check"], f["title"]) for f in result["findings"])
        ours = sum(1 for f in result["findings"] if f["check"] in OUR_CHECKS)
        print(f"## {result['tool']}: exit {result['exit']}, {len(result['findings'])} findings "
              f"({ours} from our checks), {len(kinds)} kinds, cases {result['cases']}, "
              f"account still signs in: {result['principal_alive']}")  # fmt: skip
        if "requests" in result:
            print(f"   operations whose every answer was 401/403: {result['auth_only']}")
        else:  # Schemathesis's own heuristic, not the same count
            print(f"   st's 'Authentication failed' warning: {result['auth_only']} operations")
        if "requests" in result:
            print(
                f"   requests per phase {result['requests']}; probes "
                f"{sum(result['probes'].values())}; acting as {result['principal']}"
            )
            for skipped in result["skipped"]:
                print(f"   not run: {skipped}")
        for (check, title), count in sorted(kinds.items()):
            print(f"   {count:3d}  {check}: {title}")
            for finding in result["findings"]:
                if (finding["check"], finding["title"]) == (check, title):
                    print(f"          {finding['operation']}  [{finding['status']}]")
        for finding in result["findings"]:
            if finding["check"] in OUR_CHECKS:
                print(f"   ours: {finding['operation']} {finding['title']}: {finding['message']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
