"""`sandbox demo`, run as a user runs it: a real process, real HTTP on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import DEFAULT_SPEC, ROOT


def test_the_demo_shows_backoff_a_flaky_recovery_and_a_verified_webhook() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "demo", str(DEFAULT_SPEC)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "429 Too Many Requests, Retry-After" in out
    assert "after waiting Retry-After the client goes on" in out
    assert out.count("503, retrying in 1s with the same Idempotency-Key") == 2
    assert "attempt 3: 201 created" in out
    assert "Idempotent-Replayed: true" in out
    assert "user.created arrived, signature verified" in out
