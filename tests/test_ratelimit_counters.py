"""The rate-limit counters that worker processes share (a SQLite file): a plan's windows are
tested and taken in one statement, exactly, with the figures the limiter reports."""

from __future__ import annotations

import threading
from pathlib import Path

from sandbox.access.ratelimit import RateLimiter
from sandbox.state.sqlite.counters import SQLiteLimitsStorage

PLAN = "5/hour;8/hour"  # hour-long windows: a test never straddles a window's end


def limiter(path: Path, plan: str = PLAN) -> tuple[RateLimiter, SQLiteLimitsStorage]:
    counters = SQLiteLimitsStorage(path)
    return RateLimiter({"default": plan}, counters), counters


def test_a_hit_is_one_statement_and_no_transaction_around_it(tmp_path: Path) -> None:
    """A hit was BEGIN, a read, the take and COMMIT: four statements, the limiter's whole
    cost; one statement is its own transaction and tests and takes every window."""
    limits, counters = limiter(tmp_path / "limits.sqlite")
    limits.hit("key")  # this thread's connection is open from here on
    statements: list[str] = []
    counters.file.db.set_trace_callback(statements.append)
    decision = limits.hit("key")
    assert decision is not None and decision.allowed and decision.remaining == 3
    run = [s for s in statements if not s.lstrip().upper().startswith("DELETE")]  # a sweep
    assert len(run) == 1, statements
    assert not any(s.lstrip().upper().startswith(("BEGIN", "COMMIT")) for s in statements)


def test_a_refused_hit_writes_nothing_and_says_how_long_to_wait(tmp_path: Path) -> None:
    limits, counters = limiter(tmp_path / "limits.sqlite", "2/hour;100/hour")
    assert [limits.hit("key").allowed for _ in range(2)] == [True, True]  # type: ignore[union-attr]
    refused = limits.hit("key")
    assert refused is not None and not refused.allowed
    assert (refused.limit, refused.remaining, refused.window) == (2, 0, 3600)
    assert 1 <= refused.retry_after <= 3600
    # the 100/hour window was not counted by the refusal: two requests, not three
    assert sum(count for _, count in _counts(counters)) == 2 * 2


def test_the_statement_and_the_transaction_agree_hit_by_hit(tmp_path: Path) -> None:
    """The one statement decides as the read-then-take transaction did (kept for SQLite
    before 3.35): every hit allowed or refused alike, with the same figures."""
    one = SQLiteLimitsStorage(tmp_path / "one.sqlite")
    other = SQLiteLimitsStorage(tmp_path / "other.sqlite")
    keys, expiries, limits = ["a/5", "a/8"], [3600, 7200], [5, 8]
    for _ in range(10):
        blocked, windows = one.hit_sliding_windows(keys, expiries, limits)
        expected, expected_windows = other._hit_in_transaction(keys, expiries, limits)
        assert blocked == expected
        assert [w[0::2] for w in windows] == [w[0::2] for w in expected_windows]  # counts
        assert [abs(w[3] - e[3]) < 2 for w, e in zip(windows, expected_windows, strict=True)] == [
            True
        ] * 2


def test_threads_racing_for_the_last_slots_get_exactly_the_limit(tmp_path: Path) -> None:
    limits, _ = limiter(tmp_path / "limits.sqlite", "50/hour")
    remaining: list[int] = []
    refused = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(15):
            decision = limits.hit("key")
            assert decision is not None
            with lock:
                (remaining.append(decision.remaining) if decision.allowed
                 else refused.append(decision))  # fmt: skip

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(remaining) == list(range(50))  # each slot handed out once
    assert len(refused) == 8 * 15 - 50


def _counts(counters: SQLiteLimitsStorage) -> list[tuple[str, int]]:
    return counters.file.db.execute("SELECT key, count FROM counters").fetchall()
