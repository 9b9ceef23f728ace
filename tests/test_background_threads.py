"""An app's background threads (the journal's flushing, the webhooks' delivery) live as long
as the app: one a test or a contract run makes and drops takes its threads with it (each used
to stay, waking every second or so to use a state file that was often deleted by then)."""

from __future__ import annotations

import gc
import threading
import time

from sandbox import create_app, load_settings
from sandbox.state.protocols import JournalFilter
from tests.conftest import DEFAULT_SPEC


def _threads(name: str = "sandbox-journal") -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == name}


def _ended(threads: set[threading.Thread]) -> bool:
    """Whether the threads end once their app is collected (an app is full of cycles, and a
    thread may hold its app a moment longer, while it works: the collector runs again)."""
    deadline = time.monotonic() + 5
    while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.1)
    return not any(thread.is_alive() for thread in threads)


def _served_once(state: str) -> object:
    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"state": state})
    app = create_app(DEFAULT_SPEC, settings)
    auth = {"Authorization": f"Bearer {settings.default_api_key}"}
    assert app.test_client().get("/v1/users", headers=auth).status_code == 200  # its thread
    return app


def test_a_dropped_app_takes_its_journal_thread_with_it(tmp_path) -> None:
    before = _threads()
    apps = [_served_once(str(tmp_path / f"state-{number}")) for number in range(3)]
    ours = _threads() - before
    assert len(ours) == 3  # one per app
    del apps
    assert _ended(ours)


def test_a_dropped_app_takes_its_webhook_delivery_thread_with_it(tmp_path) -> None:
    before = _threads("webhook-delivery")
    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"state": str(tmp_path / "s")})
    app = create_app(DEFAULT_SPEC, settings)
    client = app.test_client()
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["*"]}
    assert client.post("/__sandbox/webhooks", json=hook).status_code == 201
    assert client.post("/__sandbox/events", json={"type": "user.created"}).status_code == 202
    ours = _threads("webhook-delivery") - before
    assert len(ours) == 1
    del app, client
    assert _ended(ours)


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
