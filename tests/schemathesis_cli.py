"""Run Schemathesis's own CLI (`st run`) as a user would, and hand back what it printed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def run_schemathesis(
    spec: Path, base_url: str, api_key: str, *args: str, config: Path | None = None
) -> str:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis's `st` command is not installed in this environment"
    prefix = ["--config-file", str(config)] if config else []
    command = [
        st, *prefix, "run", str(spec), "--url", base_url,
        "--header", f"Authorization: Bearer {api_key}",
        "--max-examples", "25", "--seed", "1", "--no-color", *args,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    return output
