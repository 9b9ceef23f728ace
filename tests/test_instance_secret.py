"""Default credentials: stable across restarts, shared by workers and machines, and never
computable from public facts (the spec's file name, this code)."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import load_settings
from sandbox.errors import ConfigError
from tests.conftest import DEFAULT_SPEC


def credentials(state: str, **overrides: object) -> tuple[str, tuple[str, str], str]:
    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"state": state, **overrides})
    return (settings.default_api_key, settings.default_oauth_client,
            settings.signing_secret_for_callbacks)  # fmt: skip


def test_the_banner_key_is_not_a_hash_of_the_spec_name(tmp_path: Path) -> None:
    key, (client_id, client_secret), _ = credentials(str(tmp_path / "state.sqlite"))
    public = hashlib.sha256(f"openapi-sandbox:{DEFAULT_SPEC.name}".encode()).hexdigest()
    assert key != f"sk_test_{public[:24]}"  # what anyone could compute before
    oauth = hashlib.sha256(f"openapi-sandbox-oauth:{DEFAULT_SPEC.name}".encode()).hexdigest()
    assert (client_id, client_secret) != (f"client_test_{oauth[:16]}", f"cs_test_{oauth[16:48]}")
    other, _, _ = credentials(str(tmp_path / "elsewhere" / "state.sqlite"))
    assert other != key  # another sandbox (another state directory) has other keys


def test_stable_across_restarts_and_kept_private(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    first = credentials(state)
    assert credentials(state) == first
    secret = tmp_path / "secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    secret.unlink()  # a new secret: new credentials
    assert credentials(state)[0] != first[0]


def test_a_throwaway_state_gets_throwaway_credentials() -> None:
    assert credentials(":memory:")[0] != credentials(":memory:")[0]


def _key_in_a_new_process(state: str, queue) -> None:
    queue.put(credentials(state)[0])


def test_workers_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    state = str(tmp_path / "fresh" / "state.sqlite")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    racers = [context.Process(target=_key_in_a_new_process, args=(state, queue)) for _ in range(6)]
    for racer in racers:
        racer.start()
    keys = {queue.get(timeout=60) for _ in racers}
    for racer in racers:
        racer.join(timeout=60)
    assert len(keys) == 1
    assert [p.name for p in (tmp_path / "fresh").iterdir()] == ["secret"]  # no leftovers


def test_machines_sharing_redis_agree_and_prefixes_separate(redis_server) -> None:
    first = credentials(":memory:", redis=redis_server.url(prefix="team-a"))
    assert credentials(":memory:", redis=redis_server.url(prefix="team-a")) == first
    assert credentials(":memory:", redis=redis_server.url(prefix="team-b"))[0] != first[0]


def test_a_corrupt_or_unwritable_secret_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("not hex at all")
    with pytest.raises(ConfigError, match="delete it"):
        credentials(str(tmp_path / "state.sqlite"))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere: a file where the dir should be
            locked.chmod(0o700)
            locked.rmdir()
            locked.write_text("a file, not a directory")
        with pytest.raises(ConfigError, match="cannot keep the sandbox's secret"):
            credentials(str(locked / "state.sqlite"))
    finally:
        if locked.is_dir():
            locked.chmod(0o700)


def test_serve_says_what_is_wrong_with_the_secret_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("zz")
    run = subprocess.run(
        [sys.executable, "-m", "sandbox", "serve", str(DEFAULT_SPEC),
         "--state", str(tmp_path / "state.sqlite"), "--port", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "not a sandbox secret" in run.stderr
    assert "Traceback" not in run.stderr
