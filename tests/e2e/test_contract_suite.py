"""`contract_suite`: two lines in a team's own test module give one pytest test per operation
and check. Run here as a team would run it: pytest on a test file of its own."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

TWO_LINES = """
from contracts import contract_suite
from tests.contract_corpus import SPEC_PATH, TOKEN, make_app

test_api = contract_suite(SPEC_PATH, app=make_app("{variant}"), bearer=TOKEN, max_examples=3)
"""


def pytest_on(tmp_path, variant: str) -> subprocess.CompletedProcess:
    module = tmp_path / "test_our_api.py"
    module.write_text(TWO_LINES.format(variant=variant))
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(module), "-q", "-rf", "-p", "no:cacheprovider",
         "-p", "no:randomly", "--rootdir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("variant", "failing"),
    [("correct", None), ("remaining_above_limit", "rate_limit_headers")],
)
def test_one_test_per_operation_and_check(tmp_path, variant, failing) -> None:
    done = pytest_on(tmp_path, variant)
    out = done.stdout
    counts = out.strip().splitlines()[-1]
    if failing is None:
        assert done.returncode == 0, out[-3000:]
        assert " passed" in counts and "failed" not in counts
        passed = int(counts.split(" passed")[0].split()[-1])
        assert passed >= 7 * 12  # 7 operations, a dozen checks or more each
        return
    assert done.returncode == 1, out[-3000:]
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert any(failing in line and "GET /items/{id}" in line for line in failed), failed
    assert len(failed) >= 6  # every operation sends the header
    assert all(failing in line for line in failed), failed  # one broken promise, one check
