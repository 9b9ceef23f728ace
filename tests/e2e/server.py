"""Start `sandbox serve` as a subprocess on a free port, the way users run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import DEFAULT_SPEC


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
    spec: Path = DEFAULT_SPEC,
    boot_seconds: float = 30,
) -> tuple[subprocess.Popen, str, Path]:
    """``sandbox serve spec`` with ``args``; ``env`` adds to the environment (SANDBOX_* settings).

    ``spec`` lets a test serve a corpus spec (a vendor's) instead of the default one;
    ``boot_seconds`` is how long a big spec may take to start before the test fails.
    """
    port = free_port()
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", str(spec), "--port", str(port), *args],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + boot_seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/health", timeout=1).status_code == 200:
                return process, base, log
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    pytest.fail("sandbox did not start:\n" + log.read_text())
