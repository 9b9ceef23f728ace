"""Rate-limit counters that every worker process on the machine shares: a `limits` storage
backed by one SQLite file, implementing the sliding-window-counter strategy.

`limits` ships memory, Redis, Memcached and MongoDB storages; the memory one is per process,
so with several worker processes each would count on its own. (With ``--redis``, or a
``redis://`` rate_limit_storage, counters go to ``sandbox.state.redis.counters`` instead,
shared by every machine.) This storage keeps the two
fixed-window counters the strategy needs in SQLite, and ``hit_sliding_windows`` tests and
takes every window of a plan in one statement (``atomic()`` gives a transaction to the rest),
so N allowed requests are exactly N even when four processes race for the last one.
"""

from __future__ import annotations

import math
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from limits.storage import Storage
from limits.storage.base import SlidingWindowCounterSupport, TimestampedSlidingWindow

from sandbox.state.sqlite.file import SQLiteFile

_ONE_STATEMENT = sqlite3.sqlite_version_info >= (3, 35)  # RETURNING, MATERIALIZED

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL
);
"""


class SQLiteLimitsStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    STORAGE_SCHEME = ["sandbox+sqlite"]

    def __init__(self, location: str | Path = ":memory:", **options: object) -> None:
        super().__init__(str(location))
        # the test-and-take statement keeps what it read in a temporary table: in a file
        # (SQLite's default), that was 100 µs of system calls a request; in memory, none
        self.file = SQLiteFile(
            location, _SCHEMA, what="rate-limit file", pragmas=("temp_store = MEMORY",)
        )

    @property
    def base_exceptions(self) -> type[Exception]:
        return Exception

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One write transaction of the counters file: writers queue in the kernel
        (``SQLiteFile.write``), not in SQLite's busy handler, which polls with sleeps of
        1 ms and more and under steady contention cost more than the work."""
        with self.file.write():
            yield

    # -- plain counters (used by the fixed-window strategy; here for completeness) ----------
    def _row(self, key: str, now: float) -> tuple[int, float]:
        row = self.file.db.execute(
            "SELECT count, expires FROM counters WHERE key = ?", (key,)
        ).fetchone()
        if row is None or row[1] <= now:
            return 0, 0.0
        return int(row[0]), float(row[1])

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self.file.write() as db:
            count, expires = self._row(key, now)
            count, expires = count + amount, expires or now + expiry
            db.execute(
                "INSERT OR REPLACE INTO counters (key, count, expires) VALUES (?, ?, ?)",
                (key, count, expires),
            )
            self._sweep(now)
        return count

    def _sweep(self, now: float) -> None:
        """Now and then, drop expired counters: every window of every key leaves one behind."""
        if random.random() < 0.01:
            self.file.db.execute("DELETE FROM counters WHERE expires <= ?", (now,))

    def get(self, key: str) -> int:
        with self.file.guard():
            return self._row(key, time.time())[0]

    def get_expiry(self, key: str) -> float:
        with self.file.guard():
            return self._row(key, time.time())[1] or time.time()

    def check(self) -> bool:
        with self.file.guard():
            self.file.db.execute("SELECT 1").fetchone()
        return True

    def reset(self) -> int | None:
        with self.file.write() as db:
            return db.execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        with self.file.write() as db:
            db.execute("DELETE FROM counters WHERE key = ?", (key,))

    # -- the sliding window counter ------------------------------------------------------
    def _window(self, key: str, expiry: int, now: float) -> tuple[int, float, int, float]:
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        counts = dict(
            self.file.db.execute(
                "SELECT key, count FROM counters WHERE key IN (?, ?) AND expires > ?",
                (previous_key, current_key, now),
            ).fetchall()
        )
        return _window(counts.get(previous_key, 0), counts.get(current_key, 0), expiry, now)

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self.file.write():
            previous, previous_ttl, current, _ = self._window(key, expiry, now)
            weighted = previous * previous_ttl / expiry + current
            if math.floor(weighted) + amount > limit:
                return False
            _, current_key = self.sliding_window_keys(key, expiry, now)
            # a window's counter lives two windows: it is the "previous" one after that
            window_end = (int(now / expiry) + 1) * expiry
            self._bump(current_key, amount, window_end + expiry, now)
        return True

    def _bump(self, key: str, amount: int, expires: float, now: float) -> None:
        """Add to a window's counter in one statement; an expired leftover starts over."""
        self.file.db.execute(
            "INSERT INTO counters (key, count, expires) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (key) DO UPDATE SET expires = ?3, "
            "count = CASE WHEN counters.expires <= ?4 THEN ?2 ELSE counters.count + ?2 END",
            (key, amount, expires, now),
        )
        self._sweep(now)

    def get_sliding_windows(
        self, keys: list[str], expiries: list[int]
    ) -> list[tuple[int, float, int, float]]:
        """Every window of a plan in one query: the rate limiter's read, inside atomic()."""
        now = time.time()
        pairs = [
            self.sliding_window_keys(key, expiry, now)
            for key, expiry in zip(keys, expiries, strict=True)
        ]
        with self.file.guard():
            return self._read_windows(pairs, expiries, now)

    def take_sliding_windows(self, keys: list[str], expiries: list[int]) -> None:
        """Count one request in each window; the caller tested them in this transaction
        (joined without a savepoint: each statement is whole or not at all, and a failure
        ends the request with the caller's transaction)."""
        now = time.time()
        rows: list[object] = []
        for key, expiry in zip(keys, expiries, strict=True):
            _, current_key = self.sliding_window_keys(key, expiry, now)
            rows += (current_key, (int(now / expiry) + 2) * expiry)
        with self.file.write(undo_alone=False) as db:
            # every window in one statement (one per window was ~4 µs each)
            db.execute(_take_sql(len(keys)), (now, *rows))
            self._sweep(now)

    def hit_sliding_windows(
        self, keys: list[str], expiries: list[int], limits: list[int]
    ) -> tuple[list[int], list[tuple[int, float, int, float]]]:
        """Test every window of a plan and take one slot in each only if all have room:
        one statement (``_hit_sql``), so one write transaction and nothing else, in the
        writers' queue. The indexes of the windows that refused, and every window as read
        before the take, as the Redis counters answer (the rate limiter's ``_hit_all``).

        The test and the take were a transaction of four statements (BEGIN, a read, the
        take, COMMIT): inside a request, 150-160 µs of a 420 µs GET; one statement, 100-125
        (``bench/request_cost.py``, busy 2-core machine). A refusal writes nothing; its
        figures are read again at the same instant with the queue still held, so they are
        what it saw."""
        if not _ONE_STATEMENT:  # SQLite before 3.35 has no RETURNING
            return self._hit_in_transaction(keys, expiries, limits)
        now = time.time()
        params: list[object] = [now]
        pairs = []
        for key, expiry, limit in zip(keys, expiries, limits, strict=True):
            previous_key, current_key = self.sliding_window_keys(key, expiry, now)
            pairs.append((previous_key, current_key))
            params += (
                previous_key, current_key, _previous_ttl(expiry, now), expiry, limit,
                (int(now / expiry) + 2) * expiry,
            )  # fmt: skip
        with self.file.alone() as db:
            taken = {key: (count, previous) for key, count, previous
                     in db.execute(_hit_sql(len(keys)), params).fetchall()}  # fmt: skip
            if not taken:  # refused: nothing written, and nobody else has written since
                windows = self._read_windows(pairs, expiries, now)
                self._sweep(now)
                return _refusing(windows, expiries, limits), windows
            self._sweep(now)
        windows = []
        for (_, current_key), expiry in zip(pairs, expiries, strict=True):
            count, previous = taken[current_key]
            windows.append(_window(previous, count - 1, expiry, now))
        return [], windows

    def _hit_in_transaction(
        self, keys: list[str], expiries: list[int], limits: list[int]
    ) -> tuple[list[int], list[tuple[int, float, int, float]]]:
        with self.file.write():
            windows = self.get_sliding_windows(keys, expiries)
            blocked = _refusing(windows, expiries, limits)
            if not blocked:
                self.take_sliding_windows(keys, expiries)
        return blocked, windows

    def _read_windows(
        self, pairs: list[tuple[str, str]], expiries: list[int], now: float
    ) -> list[tuple[int, float, int, float]]:
        wanted = [name for pair in pairs for name in pair]
        counts = dict(self.file.db.execute(_read_sql(len(wanted)), (now, *wanted)).fetchall())
        return [
            _window(counts.get(previous_key, 0), counts.get(current_key, 0), expiry, now)
            for (previous_key, current_key), expiry in zip(pairs, expiries, strict=True)
        ]

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        with self.file.guard():
            return self._window(key, expiry, time.time())

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        previous_key, current_key = self.sliding_window_keys(key, expiry, time.time())
        with self.file.write() as db:
            db.execute("DELETE FROM counters WHERE key IN (?, ?)", (previous_key, current_key))


@lru_cache(maxsize=16)
def _read_sql(keys: int) -> str:
    """The read of ``keys`` window counters that have not expired."""
    marks = ", ".join("?" * keys)
    return f"SELECT key, count FROM counters WHERE expires > ? AND key IN ({marks})"


@lru_cache(maxsize=16)
def _take_sql(windows: int) -> str:
    """One more request in each of ``windows`` counters (parameters: now, then each
    counter's key and expiry), as ``_bump`` adds to one: an expired leftover starts over."""
    rows = ", ".join(f"(?{2 * i + 2}, 1, ?{2 * i + 3})" for i in range(windows))
    return (
        f"INSERT INTO counters (key, count, expires) VALUES {rows} "
        "ON CONFLICT (key) DO UPDATE SET expires = excluded.expires, "
        "count = CASE WHEN counters.expires <= ?1 THEN 1 ELSE counters.count + 1 END"
    )


@lru_cache(maxsize=16)
def _hit_sql(windows: int) -> str:
    """Test ``windows`` sliding windows and take a slot in each only if every one has room,
    as one statement. Parameters: now, then per window its previous and current counter
    keys, the seconds the previous window still overlaps, its length, its limit, and when
    its current counter expires. A window is full as ``limits`` reckons it (and
    ``RateLimiter`` does): previous * overlap / length + current >= limit, in the same
    floating-point steps. Returns each current counter's key, its count after the take and
    the previous counter's count; no rows when a window refused."""
    rows = ", ".join(
        f"(?{6 * i + 2}, ?{6 * i + 3}, ?{6 * i + 4}, ?{6 * i + 5}, ?{6 * i + 6}, ?{6 * i + 7})"
        for i in range(windows)
    )
    previous_of = " ".join(f"WHEN ?{6 * i + 3} THEN ?{6 * i + 2}" for i in range(windows))
    return (
        f"WITH asked (previous, current, overlap, length, most, until) AS (VALUES {rows}), "
        "seen AS MATERIALIZED (SELECT current, until, overlap, length, most, "
        "IFNULL((SELECT count FROM counters WHERE key = asked.previous AND expires > ?1), 0) "
        "AS p, "
        "IFNULL((SELECT count FROM counters WHERE key = asked.current AND expires > ?1), 0) "
        "AS c FROM asked) "
        "INSERT INTO counters (key, count, expires) SELECT current, 1, until FROM seen "
        "WHERE NOT EXISTS (SELECT 1 FROM seen WHERE p * overlap / length + c >= most) "
        "ON CONFLICT (key) DO UPDATE SET expires = excluded.expires, "
        "count = CASE WHEN counters.expires <= ?1 THEN 1 ELSE counters.count + 1 END "
        "RETURNING key, count, IFNULL((SELECT old.count FROM counters AS old WHERE "
        f"old.key = CASE counters.key {previous_of} END AND old.expires > ?1), 0)"
    )


def _refusing(
    windows: list[tuple[int, float, int, float]], expiries: list[int], limits: list[int]
) -> list[int]:
    """The indexes of the windows (previous, overlap, current, _) with no room."""
    return [
        index
        for index, ((previous, overlap, current, _), expiry, limit) in enumerate(
            zip(windows, expiries, limits, strict=True)
        )
        if previous * overlap / expiry + current >= limit
    ]


def _previous_ttl(expiry: int, now: float) -> float:
    """How much of the previous window still overlaps the sliding one, in seconds."""
    return (1 - (((now - expiry) / expiry) % 1)) * expiry


def _window(previous: int, current: int, expiry: int, now: float) -> tuple[int, float, int, float]:
    previous_ttl = _previous_ttl(expiry, now) if previous else 0.0
    # as limits' own storages report it: the rest of this window plus the next one
    current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
    return previous, previous_ttl, current, current_ttl
