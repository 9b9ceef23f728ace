"""`contracts run` on every root spec of the real-world corpus (the repo's
tests/data/corpus.tar.xz unpacked to a temporary folder, or --corpus DIR), each served by the
sandbox in-process, as a user runs it. Prints, per spec, the exit status, the findings by
check and problem, and any error; asserts nothing.

    python bench/contracts_corpus_specs.py      # every spec; the big real/ ones 60 s each
    python bench/contracts_corpus_specs.py --only spotify --max-time 120 --json out.json

A spec the sandbox refuses as invalid OpenAPI is run with --lenient (and said so).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(1, str(ROOT))  # for tests.corpus

from tests.corpus import CorpusMissing, corpus_dir, listed_specs  # noqa: E402


def run_one(relative: str, args: argparse.Namespace, out: Path) -> dict[str, object]:
    spec = args.corpus / relative
    base = [sys.executable, "-m", "contracts", "run", str(spec), "--max-examples",
            str(args.max_examples), "--seed", str(args.seed), "--phases", args.phases,
            "--report", "json", str(out)]  # fmt: skip
    if relative.startswith("real/"):  # the big ones; the small finish their examples first
        base += ["--max-time", str(args.max_time)]
    started = time.perf_counter()
    done = subprocess.run(base, capture_output=True, text=True, cwd=ROOT,
                          timeout=args.max_time * 5 + 300)  # fmt: skip
    lenient = False
    if done.returncode == 2 and "--lenient" in done.stderr:
        lenient = True
        done = subprocess.run([*base, "--lenient"], capture_output=True, text=True, cwd=ROOT,
                              timeout=args.max_time * 5 + 300)  # fmt: skip
    seconds = time.perf_counter() - started
    result: dict[str, object] = {"spec": relative, "exit": done.returncode, "lenient": lenient,
                                 "seconds": round(seconds, 1)}  # fmt: skip
    if not out.exists():
        result["crash"] = (done.stdout[-1500:] + done.stderr[-1500:]).strip()
        return result
    data = json.loads(out.read_text())
    result["cases"] = data["cases"]
    result["errors"] = data["errors"]
    result["findings"] = [
        {"operation": f["operation"], "check": f["check"], "title": f["title"],
         "status": f["status"], "message": f["message"][:400], "why": _why(f["message"])}
        for f in data["failures"]
    ]  # fmt: skip
    return result


def _why(message: str) -> str:
    """The runner's word on whose the finding is (the spec's own, not the server's), if any."""
    return next((line for line in message.splitlines() if line.startswith(WHY)), "")


WHY = ("The spec's own", "Not the server's")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="substring of the spec paths to run")
    parser.add_argument("--max-time", type=int, default=60)
    parser.add_argument("--max-examples", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--corpus", type=Path, help="corpus folder (default: the repo's archive)")
    args = parser.parse_args()
    try:
        args.corpus = args.corpus or corpus_dir()
    except CorpusMissing as missing:
        sys.exit(f"contracts_corpus_specs: {missing}")
    results = []
    with tempfile.TemporaryDirectory(prefix="contracts-corpus-") as tmp:
        for number, relative in enumerate(listed_specs(args.corpus)):
            if args.only and args.only not in relative:
                continue
            result = run_one(relative, args, Path(tmp) / f"{number}.json")
            results.append(result)
            findings = result.get("findings", [])
            kinds = Counter((f["check"], f["title"], bool(f["why"])) for f in findings)  # type: ignore[union-attr,index]
            print(f"{relative}: exit {result['exit']}{' (lenient)' if result['lenient'] else ''}"
                  f", {result.get('cases')} cases, {len(findings)} findings, "  # type: ignore[arg-type]
                  f"{len(result.get('errors') or [])} errors, {result['seconds']} s",
                  flush=True)  # fmt: skip
            for (check, title, why), count in sorted(kinds.items()):
                said = " (explained: not the server's)" if why else ""
                print(f"    {count:3d} {check}: {title}{said}")
            for error in result.get("errors") or []:  # type: ignore[attr-defined]
                print(f"    error: {str(error)[:300]}")
            if "crash" in result:
                print(f"    CRASH: {result['crash']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
