"""The request journal in the state file: every worker appends, any reads all of them."""

from __future__ import annotations

from typing import Any

from sandbox.jsonio import dumps, loads
from sandbox.state.protocols import JournalFilter
from sandbox.state.sqlite.file import SQLiteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal_entries (
    slot INTEGER PRIMARY KEY, id INTEGER NOT NULL, at REAL NOT NULL, method TEXT NOT NULL,
    path TEXT NOT NULL, operation TEXT, status INTEGER NOT NULL, key TEXT, scenario TEXT,
    problems INTEGER NOT NULL, entry TEXT NOT NULL, request_body TEXT, response_body TEXT
);
CREATE TABLE IF NOT EXISTS journal_last_id (
    one INTEGER PRIMARY KEY CHECK (one = 1), id INTEGER NOT NULL
);
INSERT OR IGNORE INTO journal_last_id VALUES (1, 0);
"""
_ROW = (
    "INSERT OR REPLACE INTO journal_entries (slot, id, at, method, path, operation, status, key, "
    "scenario, problems, entry, request_body, response_body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class SQLiteJournal:
    """A ring of ``capacity`` slots: entry ``id`` goes to slot ``id % capacity``, over the
    entry ``capacity`` before it, so keeping only the newest costs no DELETE. A list page's
    entry (5 KB, spilling onto overflow pages) cost the writer 15 µs appended and later
    deleted, 9 µs written over a slot. Ids keep counting across clears and restarts
    (``journal_last_id``), as the dashboard polls by them. Reads order by id without an
    index (at most ``capacity`` rows, and an index would cost every write). The request's
    and the response's body excerpts are columns of their own: written into the entry's
    JSON, every quote of a JSON body was escaped (4.8 µs to encode a list page's entry,
    1.0 without its bodies)."""

    def __init__(self, file: SQLiteFile) -> None:
        self.file = file
        file.adopt(SCHEMA)
        with file.write() as db:  # a state file from before the ring: its ids go on
            if db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'request_journal'"
            ).fetchone():
                db.execute(
                    "UPDATE journal_last_id SET id = MAX(id, "
                    "(SELECT COALESCE(MAX(id), 0) FROM request_journal))"
                )
                db.execute("DROP TABLE request_journal")

    def append(self, entries: list[dict[str, Any]], capacity: int) -> None:
        if capacity <= 0:
            return
        kept = entries[-capacity:]  # the older ones of a larger batch would be written over
        rows = [
            (entry["at"], entry["method"], entry["path"], entry.get("operation"),
             entry["status"], entry.get("key"), entry.get("scenario"),
             len(entry.get("problems") or []), *_without_bodies(entry))
            for entry in kept
        ]  # fmt: skip
        with self.file.write() as db:
            last = db.execute("SELECT id FROM journal_last_id").fetchone()[0]
            first = last + len(entries) - len(kept) + 1
            db.executemany(
                _ROW, [((first + n) % capacity, first + n, *row) for n, row in enumerate(rows)]
            )
            db.execute("UPDATE journal_last_id SET id = ?", (last + len(entries),))
            db.execute("DELETE FROM journal_entries WHERE slot >= ?", (capacity,))  # it shrank

    def read(self, query: JournalFilter, limit: int) -> list[dict[str, Any]]:
        clauses: list[str] = []
        values: list[Any] = []
        for column, value in (("operation", query.operation), ("key", query.key),
                              ("scenario", query.scenario)):  # fmt: skip
            if value:
                clauses.append(f"{column} = ?")
                values.append(value)
        if query.method:
            clauses.append("method = ?")
            values.append(query.method.upper())
        status = query.status_range()
        if status is not None:
            clauses.append("status BETWEEN ? AND ?")
            values += list(status)
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
                # the newest slots first, then their entries: a sort carrying every entry
                # would read each one's overflow pages
                "SELECT id, entry, request_body, response_body FROM journal_entries WHERE slot IN "
                f"(SELECT slot FROM journal_entries{where} ORDER BY id DESC LIMIT ?) "
                "ORDER BY id DESC",
                (*values, limit),
            ).fetchall()
        return [_with_bodies(row_id, *bodies) for row_id, *bodies in rows]

    def clear(self) -> None:
        with self.file.write() as db:
            db.execute("DELETE FROM journal_entries")


def _without_bodies(entry: dict[str, Any]) -> tuple[bytes, str | None, str | None]:
    """The entry's JSON less its two body excerpts, and the excerpts."""
    parts: dict[str, Any] = {}
    bodies: list[str | None] = []
    for side in ("request", "response"):
        found = entry.get(side)
        if isinstance(found, dict) and isinstance(found.get("body"), str):
            parts[side] = {k: v for k, v in found.items() if k != "body"}
            bodies.append(found["body"])
        else:
            bodies.append(None)
    return dumps({**entry, **parts} if parts else entry), bodies[0], bodies[1]


def _with_bodies(
    row_id: int, entry: str, request_body: str | None, response_body: str | None
) -> dict[str, Any]:
    whole = {"id": row_id, **loads(entry)}
    for side, body in (("request", request_body), ("response", response_body)):
        if body is not None:
            whole[side]["body"] = body
    return whole
