"""contracts/ stays typed and formatted: `mypy` (strict, as configured in pyproject.toml) and
`ruff format --check`, run as a developer runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def test_contracts_is_clean_under_mypy(tmp_path) -> None:
    done = subprocess.run(
        [str(BIN / "mypy"), "contracts", "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_contracts_is_formatted() -> None:
    done = subprocess.run([str(BIN / "ruff"), "format", "--check", "contracts"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
