"""Records, their unique values and which tenants are seeded, in the state file (WAL mode,
safe for many threads and several worker processes: see ``file``).

Bodies are stored as the JSON ``jsonio.dumps`` wrote from a record already made valid, so
they are read back with orjson alone: the strict reader (depth, hostile text) is for what a
client sends, and cost a list page twenty walks of its records. Which tenants are seeded is
kept per process too, read again only after a reset (``versions``); and every write of a
resource's records bumps that resource's counter (``version``), so a reader of rarely
changed records (webhook subscriptions, on every create) can keep a copy. This store keeps
one too: the rows of the last pages and records read, as stored text, used while their
resource's counter stands still (a list page's two queries cost 15 µs and more; each
answer still parses its own objects from the text, as callers change them).

A list's order is ``seq``, the rowid: a new row takes the highest plus one, which orders it
after every row there is, as ``AUTOINCREMENT`` did, without reading and writing its row of
``sqlite_sequence`` in every create; ``uniques`` is one b-tree ``WITHOUT ROWID`` (its key is
its primary key), not a table and a key index beside it. A create's transaction in a
stand-alone SQLite loop on /dev/shm: ~55 µs before, ~49 µs so (a state file made before
kept its tables as they were, and worked the same, until the rebuild below).

A record is named by its id within its parent (``Record.parent``: "" at the top level), so
one id under two parents is two records (a label ``bug`` in two repositories): the records
table is unique on (tenant, resource, id, parent), which serves a read by id as the old
(tenant, resource, id) did, one column deeper. A unique value stays unique across the
resource (no spec says it is per parent) and names its owner by id and parent. A file made
before, unique on (tenant, resource, id), has its records table rebuilt once when opened
(SQLite cannot drop a UNIQUE constraint in place): rows, ``seq`` and so order kept.

A scoped line (``RecordStore``: ``/repos/{owner}/{repo}/labels``) sees the line without its
scope too: a list reads ``parent IN (scoped, unscoped)`` in ``seq`` order, a read by id asks
the unscoped line where the scoped one has no such id (a second indexed SELECT, only then),
and a create under a scope asks whether the unscoped line holds its id (one indexed SELECT
more in that create alone: a create with no scope, ``POST /users``, runs the same five
statements as before)."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import orjson

from sandbox.errors import Conflict
from sandbox.jsonio import dumps
from sandbox.state.protocols import ListQuery, Record, unscoped
from sandbox.state.sqlite.file import SQLiteFile
from sandbox.state.sqlite.versions import SLOTS, Copy, Versions

_stored = orjson.loads  # bodies this module wrote (see the module docstring)
_KEPT = 512  # pages, and records, kept per process: the lot is dropped when it is full

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL, resource TEXT NOT NULL, id TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '', body TEXT NOT NULL,
    UNIQUE (tenant, resource, id, parent)
);
CREATE INDEX IF NOT EXISTS records_by_parent ON records (tenant, resource, parent, seq);
CREATE TABLE IF NOT EXISTS uniques (
    tenant TEXT NOT NULL, resource TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
    id TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant, resource, field, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uniques_by_id ON uniques (tenant, resource, id);
CREATE TABLE IF NOT EXISTS tenants (tenant TEXT PRIMARY KEY, seeded_at REAL NOT NULL);
"""

# a records table made before a record was named within its parent: its rows moved to one
# that is (``_rebuild``), in one write transaction; the index by parent made again with it
_REBUILD = """
CREATE TABLE records_rebuilt (
    seq INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL, resource TEXT NOT NULL, id TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '', body TEXT NOT NULL,
    UNIQUE (tenant, resource, id, parent)
);
INSERT INTO records_rebuilt (seq, tenant, resource, id, parent, body)
    SELECT seq, tenant, resource, id, parent, body FROM records ORDER BY seq;
DROP TABLE records;
ALTER TABLE records_rebuilt RENAME TO records;
CREATE INDEX IF NOT EXISTS records_by_parent ON records (tenant, resource, parent, seq);
"""


class SQLiteRecords:
    versions_are_local = True  # a memory map beside the state file (``versions``)

    def __init__(self, file: SQLiteFile) -> None:
        self.file = file
        file.adopt(SCHEMA)
        self.location = self.file.location
        self._guard = self.file.guard
        self._write = self.file.write
        self._tenants_slot = Versions.slot("tenants")
        self._seeded = Copy(lambda: file.versions.read(self._tenants_slot), set[str])
        self._slots: dict[str, int] = {}
        # (version, rows' text, total, offset) per page query; (version, text) per id and parent
        self._pages: dict[tuple[Any, ...], tuple[int, list[str], int, int]] = {}
        self._items: dict[tuple[str, str, str, str], tuple[int, str]] = {}
        self._rebuild()

    def _rebuild(self) -> None:
        """A file made before (records unique by id alone, uniques with no parent) brought to
        this schema, once: checked again inside the write, as another process may open the
        same file at the same time. A file of this schema costs two PRAGMA reads."""
        if not self._outdated():
            return
        with self._write() as db:
            if not self._outdated():
                return
            if "parent" not in {row[1] for row in db.execute("PRAGMA table_info(uniques)")}:
                db.execute("ALTER TABLE uniques ADD COLUMN parent TEXT NOT NULL DEFAULT ''")
            if self._unique_by_id_alone(db):
                for statement in _REBUILD.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {_RELINE_PENDING}")  # see ``reline``
            self.file.changed(*range(SLOTS))  # kept pages and records read before: stale

    def _outdated(self) -> bool:
        with self._guard():
            db = self._db
            uniques = {row[1] for row in db.execute("PRAGMA table_info(uniques)")}
            return "parent" not in uniques or self._unique_by_id_alone(db)

    @staticmethod
    def _unique_by_id_alone(db: sqlite3.Connection) -> bool:
        """Whether the records table has the old UNIQUE (tenant, resource, id)."""
        for index in db.execute("PRAGMA index_list(records)").fetchall():
            if index[2]:  # unique
                columns = [row[2] for row in db.execute(f"PRAGMA index_info('{index[1]}')")]
                if columns == ["tenant", "resource", "id"]:
                    return True
        return False

    @property
    def _db(self) -> sqlite3.Connection:
        return self.file.db

    # -- the interface ------------------------------------------------------------------
    def ensure_seeded(
        self, tenant: str, seed: Callable[[], dict[str, list[Record]]], scope: str = ""
    ) -> None:
        marker = f"{tenant}\x1f{scope}" if scope else tenant
        seeded = self._seeded.get()  # emptied by a reset in any process
        if marker in seeded:
            return
        with self._guard():
            if self._db.execute("SELECT 1 FROM tenants WHERE tenant = ?", (marker,)).fetchone():
                seeded.add(marker)
                return
        records = seed()
        with self._write() as db:
            if db.execute("SELECT 1 FROM tenants WHERE tenant = ?", (marker,)).fetchone():
                return  # another thread or process seeded it meanwhile
            for resource, items in records.items():
                self._insert(db, tenant, resource, items)
            db.execute("INSERT INTO tenants VALUES (?, julianday('now'))", (marker,))

    def version(self, resource: str) -> int:
        """A number that moves whenever any process writes a record of ``resource``."""
        slot = self._slots.get(resource)
        if slot is None:
            slot = self._slots[resource] = Versions.slot("records\x1f" + resource)
        return self.file.versions.read(slot)

    def _kept(self, table: dict[Any, Any], key: Any, version: int) -> Any:
        """What ``table`` holds for ``key`` read at ``version``, or None. Nothing is kept
        for, or given to, a thread inside a write transaction."""
        held = table.get(key)
        if held is None or held[0] != version or self.file.writing:
            return None
        return held

    def _keep(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if self.file.writing:
            return
        if len(table) >= _KEPT:
            table.clear()
        table[key] = value

    def _changed(self, resource: str) -> None:
        slot = self._slots.get(resource)
        if slot is None:
            slot = self._slots[resource] = Versions.slot("records\x1f" + resource)
        self.file.changed(slot)

    def get(self, tenant: str, resource: str, record_id: str, parent: str = "") -> dict | None:
        version = self.version(resource)  # first: see state.sqlite.versions
        key = (tenant, resource, record_id, parent)
        held = self._kept(self._items, key, version)
        if held is not None:
            return _stored(held[1])
        shared = unscoped(parent)
        with self._guard():
            row = self._db.execute(_GET, (tenant, resource, record_id, parent)).fetchone()
            if row is None and shared is not None:  # a seed, or a record from before scopes
                row = self._db.execute(_GET, (tenant, resource, record_id, shared)).fetchone()
        if row is None:
            return None
        self._keep(self._items, key, (version, row[0]))
        return _stored(row[0])

    def insert(self, tenant: str, resource: str, records: list[Record]) -> None:
        with self._write(undo_alone=len(records) > 1) as db:
            self._insert(db, tenant, resource, records)

    def _insert(
        self, db: sqlite3.Connection, tenant: str, resource: str, records: list[Record]
    ) -> None:
        """Each record: its row (a taken id fails here, before anything of it is written),
        then its unique values in one statement, whole or not at all: a taken value fails
        it, and the record's row is taken back. So a single record needs no savepoint to
        leave nothing behind; only a batch has earlier records to undo, and ``write`` nests
        it in one. (The values were read first, one query each, to find a taken one before
        writing: a statement more in every create, for a conflict that is rare.)"""
        self._changed(resource)
        for record in records:
            shared = unscoped(record.parent)
            if (
                shared is not None
                and db.execute(_GET, (tenant, resource, record.id, shared)).fetchone()
            ):  # in view under the scope already (RecordStore)
                raise Conflict("id", record.id, record.id)
            try:
                db.execute(
                    "INSERT INTO records (tenant, resource, id, parent, body) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (tenant, resource, record.id, record.parent, dumps(record.body).decode()),
                )
            except sqlite3.IntegrityError:
                raise Conflict("id", record.id, record.id) from None
            if record.unique:
                self._add_uniques(db, tenant, resource, record)

    def _add_uniques(
        self, db: sqlite3.Connection, tenant: str, resource: str, record: Record
    ) -> None:
        """A new record's unique values, or Conflict (its row taken back) for a taken one."""
        rows = [(tenant, resource, f, v, record.id, record.parent)
                for f, v in record.unique.items()]  # fmt: skip
        try:
            db.execute(_uniques_sql(len(rows)), [x for row in rows for x in row])
        except sqlite3.IntegrityError:
            try:  # a value's row that is this id's own (none is left by a delete) is kept
                self._check_uniques(db, tenant, resource, record)
            except Conflict:
                db.execute(
                    "DELETE FROM records "
                    "WHERE tenant = ? AND resource = ? AND id = ? AND parent = ?",
                    (tenant, resource, record.id, record.parent),
                )
                raise
            db.executemany(_UNIQUE_ROW.replace("INSERT", "INSERT OR REPLACE"), rows)

    def _check_uniques(
        self, db: sqlite3.Connection, tenant: str, resource: str, record: Record
    ) -> None:
        for field, value in record.unique.items():
            taken = db.execute(
                "SELECT id, parent FROM uniques "
                "WHERE tenant = ? AND resource = ? AND field = ? AND value = ?",
                (tenant, resource, field, value),
            ).fetchone()
            if taken and (taken[0], taken[1]) != (record.id, record.parent):
                raise Conflict(field, value, taken[0])

    def _claim_uniques(
        self, db: sqlite3.Connection, tenant: str, resource: str, record: Record
    ) -> None:
        """A replaced record's unique values: checked, then the old ones swapped for them."""
        self._check_uniques(db, tenant, resource, record)
        db.execute(
            "DELETE FROM uniques WHERE tenant = ? AND resource = ? AND id = ? AND parent = ?",
            (tenant, resource, record.id, record.parent),
        )
        db.executemany(
            _UNIQUE_ROW,
            [(tenant, resource, f, v, record.id, record.parent) for f, v in record.unique.items()],
        )

    def replace(self, tenant: str, resource: str, record: Record) -> bool:
        with self._write() as db:
            parent = self._holder(db, tenant, resource, record.id, record.parent)
            if parent is None:
                return False
            if parent != record.parent:
                record = dataclasses.replace(record, parent=parent)
            self._changed(resource)
            self._claim_uniques(db, tenant, resource, record)
            db.execute(
                "UPDATE records SET body = ? "
                "WHERE tenant = ? AND resource = ? AND id = ? AND parent = ?",
                (dumps(record.body).decode(), tenant, resource, record.id, record.parent),
            )
            return True

    def _holder(
        self, db: sqlite3.Connection, tenant: str, resource: str, record_id: str, parent: str
    ) -> str | None:
        """The line the record of that id in view under ``parent`` is kept under: ``parent``
        itself, or the line without its scope (``RecordStore``); None where neither has it."""
        for line in (parent, unscoped(parent)):
            if (
                line is not None
                and db.execute(_GET, (tenant, resource, record_id, line)).fetchone()
            ):
                return line
        return None

    def delete(self, tenant: str, resource: str, record_id: str, parent: str = "") -> bool:
        condition = "tenant = ? AND resource = ? AND id = ? AND parent = ?"
        with self._write() as db:
            args = (tenant, resource, record_id, parent)
            deleted = db.execute(f"DELETE FROM records WHERE {condition}", args).rowcount
            shared = unscoped(parent)
            if not deleted and shared is not None:  # a seed, or a record from before scopes
                args = (tenant, resource, record_id, shared)
                deleted = db.execute(f"DELETE FROM records WHERE {condition}", args).rowcount
            if deleted:
                self._changed(resource)
                db.execute(f"DELETE FROM uniques WHERE {condition}", args)
            return bool(deleted)

    def query(self, tenant: str, resource: str, query: ListQuery) -> tuple[list[dict], int, int]:
        shared = unscoped(query.parent)
        where = [
            "tenant = ?",
            "resource = ?",
            "parent = ?" if shared is None else "parent IN (?, ?)",
        ]
        args: list[Any] = [tenant, resource, query.parent]
        if shared is not None:  # the seeds and what came before scopes, in view too
            args.append(shared)
        for field, value in query.filters.items():
            where.append("json_extract(body, ?) = ?")
            args += [_json_path(field), _sql_value(value)]
        condition = " AND ".join(where)
        order = ", ".join(
            f"json_extract(body, '{_json_path(field)}') {'DESC' if descending else 'ASC'}"
            for field, descending in query.sort
        )
        order = f"{order}, seq" if order else "seq"
        version = self.version(resource)  # first: see state.sqlite.versions
        key = (condition, order, tuple(args), query.offset, query.limit, query.after_id)
        held = self._kept(self._pages, key, version)
        if held is not None:
            return [_stored(text) for text in held[1]], held[2], held[3]
        with self._guard():
            db = self._db
            total = db.execute(f"SELECT COUNT(*) FROM records WHERE {condition}", args).fetchone()[
                0
            ]
            offset = query.offset
            if query.after_id is not None:
                ids = [
                    row[0]
                    for row in db.execute(
                        f"SELECT id FROM records WHERE {condition} ORDER BY {order}", args
                    )
                ]
                offset = ids.index(query.after_id) + 1 if query.after_id in ids else len(ids)
            rows = db.execute(
                f"SELECT body FROM records WHERE {condition} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, query.limit, offset],
            ).fetchall()
        texts = [row[0] for row in rows]
        self._keep(self._pages, key, (version, texts, total, offset))
        return [_stored(text) for text in texts], total, offset

    def reline(self, nested: list[tuple[str, str]]) -> None:
        """Only in a file ``_rebuild`` brought here (it marks it in the file's user_version,
        which nothing else uses); one UPDATE per resource, each row given the line of the
        oldest parent record with its parent's id (the one there was, unless a record made
        since took the id under another parent). A row already under a line is left."""
        with self._guard():
            if self._db.execute("PRAGMA user_version").fetchone()[0] != _RELINE_PENDING:
                return
        with self._write() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] != _RELINE_PENDING:
                return
            for resource, parent in nested:
                self._changed(resource)
                db.execute(_RELINE, {"resource": resource, "parent": parent})
            db.execute("PRAGMA user_version = 0")

    def reset(self) -> None:
        with self._write() as db:
            self.file.changed(*range(SLOTS))  # every resource's records, and the tenants
            db.execute("DELETE FROM records")
            db.execute("DELETE FROM uniques")
            db.execute("DELETE FROM tenants")


_GET = "SELECT body FROM records WHERE tenant = ? AND resource = ? AND id = ? AND parent = ?"
_RELINE_PENDING = 1  # the file's user_version while ``reline`` has yet to run
# a nested resource's rows under their parent's id alone (no line: no \x1f in it), each put
# under the line of the parent record of that id (its parent, \x1f, its id)
_RELINE = """
UPDATE records SET parent = (
    SELECT p.parent || char(31) || p.id FROM records AS p
    WHERE p.tenant = records.tenant AND p.resource = :parent AND p.id = records.parent
        AND p.parent != '' ORDER BY p.seq LIMIT 1)
WHERE resource = :resource AND parent != '' AND instr(parent, char(31)) = 0
    AND EXISTS (SELECT 1 FROM records AS p WHERE p.tenant = records.tenant
        AND p.resource = :parent AND p.id = records.parent AND p.parent != '')
"""

# by name: a file made before has the parent column last, added to it (``_rebuild``)
_UNIQUE_COLUMNS = "uniques (tenant, resource, field, value, id, parent)"
_UNIQUE_ROW = f"INSERT INTO {_UNIQUE_COLUMNS} VALUES (?, ?, ?, ?, ?, ?)"


@lru_cache(maxsize=16)
def _uniques_sql(rows: int) -> str:
    """The insert of ``rows`` unique values, one statement (all of them or none)."""
    return f"INSERT INTO {_UNIQUE_COLUMNS} VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?)"] * rows)


def _json_path(field: str) -> str:
    if not all(ch.isalnum() or ch in "_-" for ch in field):
        raise ValueError(f"not a field name: {field!r}")
    return f'$."{field}"'


def _sql_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return dumps(value).decode()
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return float(value)  # beyond SQLite's integers; JSON numbers that big are stored as REAL
    return value
