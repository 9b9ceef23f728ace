"""Head to head on a real API nobody here wrote: Kinto (from PyPI, in-memory, its own
OpenAPI document, HTTP Basic accounts, 44 operations), plain `st run --checks all` and
`contracts run` with the same budget, each on a fresh server. bench/real_api_bench.py runs
the longer comparison whose figures the README gives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.real_apis import kinto

OURS = {"envelope_conformance", "error_shape", "rate_limit_headers", "pagination",
        "identity_and_persistence", "webhook_delivery"}  # fmt: skip
# a budget in cases, not seconds, so a loaded machine changes the time taken, not the result
BUDGET = ["--max-examples", "3", "--seed", "1", "--phases", "examples,coverage,fuzzing"]


@pytest.mark.slow
def test_kinto_both_tools_same_budget(tmp_path: Path) -> None:
    with kinto(tmp_path / "st") as server:
        out = tmp_path / "st.json"
        st = Path(sys.executable).parent / "st"
        subprocess.run(
            [str(st), "run", str(server.spec), "--url", server.base_url, "--header",
             f"Authorization: {server.authorization}", "--checks", "all", *BUDGET,
             "--no-color", "--report", "json", "--report-json-path", str(out)],
            capture_output=True, text=True, timeout=1200,
        )  # fmt: skip
        theirs = {(f["code"], op) for f in json.loads(out.read_text())["failures"]
                  for op in f["operations"]}  # fmt: skip
    with kinto(tmp_path / "ours") as server:
        out = tmp_path / "ours.json"
        done = subprocess.run(
            [sys.executable, "-m", "contracts", "run", str(server.spec), "--base-url",
             server.base_url, "--basic", f"{server.user}:{server.password}", *BUDGET,
             "--report", "json", str(out)],
            capture_output=True, text=True, timeout=1200, cwd=ROOT,
        )  # fmt: skip
        report = json.loads(out.read_text())
        alive = server.principal_alive()
    findings = {(f["check"], f["operation"]) for f in report["failures"]}
    assert done.returncode == 1 and report["errors"] == [], done.stdout[-3000:]
    # Kinto's /__version__ answers 500 without a version file: both tools must see it
    assert ("ST101", "GET /__version__") in theirs
    assert ("not_a_server_error", "GET /__version__") in findings
    # no false alarm of ours on a server nobody here wrote (each kind judged in the README)
    assert [f for f in report["failures"] if f["check"] in OURS] == []
    # the account it acts as is neither deleted nor changed, so later answers mean something
    assert alive, report["principal"]
    assert "DELETE /accounts (changes the account the run acts as)" in report["skipped"]
    assert report["requests"]["coverage"] > 100
    assert all("[Filtered]" not in f["curl"] for f in report["failures"])
