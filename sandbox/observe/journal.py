"""The request journal: the last N requests the sandbox answered, for the admin API and the
dashboard.

Each entry holds the request, the response, the matched operation, validation problems, the
scenario applied and the latency. Entries are written behind the request (a thread flushes
them in batches) so the journal costs the hot path an append, not a transaction; every worker
writes to the state file (or to Redis: ``sandbox.state.redis.journal``), so the journal shows
all of them. Credentials are shortened.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.errors import StorageError
from sandbox.jsonio import dumps, loads
from sandbox.state.sqlite.file import SQLiteFile

log = logging.getLogger("sandbox.observe.journal")

EXCERPT_CHARS = 4096
_FLUSH_EVERY = 0.2  # seconds
_SECRET_HEADERS = {"authorization", "cookie", "x-api-key", "api-key", "proxy-authorization"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS request_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, method TEXT NOT NULL,
    path TEXT NOT NULL, operation TEXT, status INTEGER NOT NULL, key TEXT, scenario TEXT,
    problems INTEGER NOT NULL, entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_journal_at ON request_journal (at);
"""


def shorten_secret(value: str) -> str:
    """Enough to tell credentials apart, not enough to use one."""
    scheme, _, token = value.partition(" ")
    if not token:
        scheme, token = "", scheme
    shown = token[:12] + "…" if len(token) > 16 else token[:4] + "…"
    return f"{scheme} {shown}".strip()


def excerpt(body: bytes) -> str:
    text = body[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


def safe_headers(headers: Any) -> dict[str, str]:
    return {
        name: shorten_secret(value) if name.lower() in _SECRET_HEADERS else value
        for name, value in headers.items()
    }


@dataclass(frozen=True)
class JournalFilter:
    operation: str | None = None
    method: str | None = None
    status: str | None = None  # "429" or a class: "4xx"
    key: str | None = None
    path: str | None = None  # a substring
    scenario: str | None = None
    problems: bool | None = None
    since: int | None = None  # entries after this id (for live polling)
    limit: int = 50


class Journal:
    def __init__(self, location: str | Path, capacity: int = 1000) -> None:
        self.file = SQLiteFile(location, _SCHEMA)
        self._buffer(capacity)

    def _buffer(self, capacity: int) -> None:
        """The in-process side: entries wait here for the flushing thread."""
        self.capacity = capacity
        self._pending: list[tuple] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pid: int | None = None

    def record(self, entry: dict[str, Any]) -> None:
        if self.capacity <= 0:
            return
        row = (
            entry["at"], entry["method"], entry["path"], entry.get("operation"),
            entry["status"], entry.get("key"), entry.get("scenario"),
            len(entry.get("problems") or []), dumps(entry),
        )  # fmt: skip
        with self._lock:
            self._pending.append(row)
        if self._pid != os.getpid():
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()  # a forked worker flushes its own entries
        threading.Thread(target=self._flush_forever, name="sandbox-journal", daemon=True).start()

    def _flush_forever(self) -> None:
        while True:
            self._wake.wait(_FLUSH_EVERY)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        with self._lock:
            rows, self._pending = self._pending, []
        if not rows:
            return
        try:
            self._write(rows)
        except StorageError as exc:  # the journal is a view of traffic: say so and go on
            log.warning("%d journal entries not kept: %s", len(rows), exc)

    def _write(self, rows: list[tuple]) -> None:
        """Keep the rows, and only the newest ``capacity`` entries."""
        with self.file.write() as db:
            db.executemany(
                "INSERT INTO request_journal (at, method, path, operation, status, key, "
                "scenario, problems, entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.execute(
                "DELETE FROM request_journal WHERE id <= (SELECT MAX(id) FROM request_journal) - ?",
                (self.capacity,),
            )

    def entries(self, query: JournalFilter) -> list[dict[str, Any]]:
        """Newest first."""
        self.flush()
        return self._read(query)

    def _read(self, query: JournalFilter) -> list[dict[str, Any]]:
        clauses, values = [], []
        for column, value in (("operation", query.operation), ("key", query.key),
                              ("scenario", query.scenario)):  # fmt: skip
            if value:
                clauses.append(f"{column} = ?")
                values.append(value)
        if query.method:
            clauses.append("method = ?")
            values.append(query.method.upper())
        if query.status:
            low, high = status_range(query.status)
            clauses.append("status BETWEEN ? AND ?")
            values += [low, high]
        if query.path:
            clauses.append("instr(path, ?) > 0")
            values.append(query.path)
        if query.problems is not None:
            clauses.append("problems > 0" if query.problems else "problems = 0")
        if query.since is not None:
            clauses.append("id > ?")
            values.append(query.since)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        with self.file.guard():
            rows = self.file.db.execute(
                f"SELECT id, entry FROM request_journal{where} ORDER BY id DESC LIMIT ?",
                (*values, max(1, min(query.limit, self.capacity))),
            ).fetchall()
        return [{"id": row_id, **loads(entry)} for row_id, entry in rows]

    def reset(self) -> None:
        with self._lock:
            self._pending = []
        self._clear()

    def _clear(self) -> None:
        with self.file.write() as db:
            db.execute("DELETE FROM request_journal")


def status_range(text: str) -> tuple[int, int]:
    """``429`` or ``4xx``; ValueError names the forms it takes."""
    text = text.strip().lower()
    if len(text) == 3 and text[0] in "12345" and text[1:] == "xx":
        return int(text[0]) * 100, int(text[0]) * 100 + 99
    if text.isdigit() and 100 <= int(text) <= 599:
        return int(text), int(text)
    raise ValueError(f"status must be a code like 429 or a class like 4xx, not {text!r}")


def journal_entry(**fields: Any) -> dict[str, Any]:
    return {"at": round(time.time(), 3), **fields}
