"""The journal's flushing thread lives as long as its journal: an app a test or a contract
run makes and drops takes its thread with it (each used to stay, waking every second to
write to a state file that was often deleted by then)."""

from __future__ import annotations

import gc
import threading
import time

from sandbox import create_app, load_settings
from sandbox.state.protocols import JournalFilter
from tests.conftest import DEFAULT_SPEC


def _journal_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "sandbox-journal"}


def _served_once(state: str) -> object:
    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"state": state})
    app = create_app(DEFAULT_SPEC, settings)
    auth = {"Authorization": f"Bearer {settings.default_api_key}"}
    assert app.test_client().get("/v1/users", headers=auth).status_code == 200  # its thread
    return app


def test_a_dropped_app_takes_its_journal_thread_with_it(tmp_path) -> None:
    before = _journal_threads()
    apps = [_served_once(str(tmp_path / f"state-{number}")) for number in range(3)]
    ours = _journal_threads() - before
    assert len(ours) == 3  # one per app
    del apps
    gc.collect()  # an app is full of cycles
    deadline = time.monotonic() + 5
    while any(thread.is_alive() for thread in ours) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(thread.is_alive() for thread in ours)


def test_a_kept_app_keeps_flushing(tmp_path) -> None:
    """While the app is alive its thread writes what it served, without being asked."""
    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"state": str(tmp_path / "s")})
    app = create_app(DEFAULT_SPEC, settings)
    auth = {"Authorization": f"Bearer {settings.default_api_key}"}
    app.test_client().get("/v1/users", headers=auth)
    gc.collect()
    store = app.extensions["sandbox"].journal.store
    deadline = time.monotonic() + 5
    while not store.read(JournalFilter(), 10):
        assert time.monotonic() < deadline, "the journal's thread wrote nothing"
        time.sleep(0.1)
