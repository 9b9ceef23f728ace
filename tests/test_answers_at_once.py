"""Which requests the server may answer on its event loop (``Sandbox.answers_at_once``).

The rule: a read of local state that nothing makes wait. Whatever may sleep or queue (a
write, a scenario's latency, chaos, the admin API, state or counters behind a network) goes
to a thread, since on the loop it would hold every other request of the worker
(tests/e2e/test_serve.py shows that on a real server).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder

from sandbox import create_app, load_settings
from sandbox.scenarios.chaos import Chaos
from sandbox.scenarios.presets import parse_header
from tests.conftest import DEFAULT_SPEC


def _sandbox(tmp_path: Path, **overrides: object):
    settings = load_settings(
        DEFAULT_SPEC, environ={},
        overrides={"state": str(tmp_path / "state.sqlite"), "workers": 2, **overrides},
    )  # fmt: skip
    return create_app(DEFAULT_SPEC, settings).extensions["sandbox"]


def _environ(method: str, path: str, **headers: str) -> dict:
    return EnvironBuilder(path=path, method=method, headers=headers).get_environ()


@pytest.fixture
def sandbox(tmp_path: Path):
    return _sandbox(tmp_path)


@pytest.mark.parametrize(
    ("method", "path", "headers", "at_once"),
    [
        ("GET", "/v1/users", {}, True),
        ("HEAD", "/v1/users/usr_1", {}, True),
        ("GET", "/docs/openapi.json", {}, True),
        ("POST", "/v1/users", {}, False),
        ("PATCH", "/v1/users/usr_1", {}, False),
        ("DELETE", "/v1/users/usr_1", {}, False),
        ("OPTIONS", "/v1/users", {}, False),
        ("GET", "/v1/users", {"X-Sandbox-Scenario": "slow; latency=2s"}, False),
        ("GET", "/v1/users", {"X-Sandbox-Scenario": "not_found"}, False),
        ("GET", "/__sandbox/requests", {}, False),
    ],
)
def test_a_read_nothing_makes_wait_is_answered_at_once(
    sandbox, method: str, path: str, headers: dict, at_once: bool
) -> None:
    assert sandbox.answers_at_once(_environ(method, path, **headers)) is at_once


def test_a_scenario_switched_on_sends_every_request_to_a_thread_until_cleared(sandbox) -> None:
    read = _environ("GET", "/v1/users")
    active = sandbox.board.activate(parse_header("slow; latency=1s"), operation="getUser")
    assert not sandbox.answers_at_once(read)  # any scenario: which one applies is the app's
    sandbox.board.clear(active.id)
    assert sandbox.answers_at_once(read)


def test_chaos_sends_reads_to_a_thread(tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path)
    sandbox.board.set_chaos(Chaos(latency=(0.1, 0.2)))
    assert not sandbox.answers_at_once(_environ("GET", "/v1/users"))
    sandbox.board.reset()
    assert sandbox.answers_at_once(_environ("GET", "/v1/users"))
    started_with_chaos = _sandbox(tmp_path / "other", chaos="error_rate=0.2")
    assert not started_with_chaos.answers_at_once(_environ("GET", "/v1/users"))


def test_reads_of_redis_state_go_to_a_thread(tmp_path: Path, redis_url: str) -> None:
    """Every read of Redis is a round trip: on the loop it would hold the worker."""
    sandbox = _sandbox(tmp_path, redis=redis_url)
    assert not sandbox.answers_at_once(_environ("GET", "/v1/users"))


def test_counters_in_redis_send_reads_to_a_thread(tmp_path: Path, redis_url: str) -> None:
    sandbox = _sandbox(tmp_path, rate_limit_storage=redis_url)
    assert not sandbox.limiter.counts_here
    assert not sandbox.answers_at_once(_environ("GET", "/v1/users"))
    assert _sandbox(tmp_path / "here").limiter.counts_here  # SQLite counters beside the state
    assert _sandbox(tmp_path / "one", workers=1).limiter.counts_here  # in memory


def test_a_board_that_cannot_be_read_is_a_no(sandbox, monkeypatch) -> None:
    def broken() -> bool:
        raise OSError("the state file went away")

    monkeypatch.setattr(sandbox.board, "quiet", broken)
    assert not sandbox.answers_at_once(_environ("GET", "/v1/users"))
