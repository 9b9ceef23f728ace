"""A create in the SQLite state file writes the record and its unique values without reading
them first; a taken value still refuses it whole (nothing of the record is left behind)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.errors import Conflict
from sandbox.state.protocols import ListQuery, Record
from sandbox.state.sqlite.file import SQLiteFile
from sandbox.state.sqlite.records import SQLiteRecords


@pytest.fixture()
def records(tmp_path: Path) -> SQLiteRecords:
    return SQLiteRecords(SQLiteFile(tmp_path / "state.sqlite", ""))


def user(record_id: str, email: str, handle: str) -> Record:
    body = {"id": record_id, "email": email, "handle": handle}
    return Record(record_id, body, "", {"email": email, "handle": handle})


def test_a_create_writes_without_reading_its_unique_values_first(records) -> None:
    records.insert("t", "users", [user("u0", "zero@example.com", "zero")])  # connection open
    statements: list[str] = []
    records.file.db.set_trace_callback(statements.append)
    records.insert("t", "users", [user("u1", "one@example.com", "one")])
    kinds = [s.split(None, 1)[0].upper() for s in statements]
    assert kinds == ["BEGIN", "INSERT", "INSERT", "COMMIT"], statements


def test_a_taken_value_refuses_the_create_and_leaves_nothing_of_it(records) -> None:
    records.insert("t", "users", [user("u1", "one@example.com", "one")])
    with pytest.raises(Conflict) as refused:
        records.insert("t", "users", [user("u2", "two@example.com", "one")])  # handle taken
    assert (refused.value.field, refused.value.value, refused.value.existing_id) == (
        "handle", "one", "u1",
    )  # fmt: skip
    assert records.get("t", "users", "u2") is None
    assert records.query("t", "users", ListQuery(limit=10))[1] == 1
    # its other value was not kept either: another record may have it
    records.insert("t", "users", [user("u3", "two@example.com", "three")])
    assert records.get("t", "users", "u3") is not None


def test_a_taken_id_refuses_the_create_and_keeps_the_first_records_values(records) -> None:
    records.insert("t", "users", [user("u1", "one@example.com", "one")])
    with pytest.raises(Conflict):
        records.insert("t", "users", [user("u1", "other@example.com", "other")])
    with pytest.raises(Conflict):  # the first record's values are still its own
        records.insert("t", "users", [user("u9", "one@example.com", "nine")])
    records.insert("t", "users", [user("u8", "other@example.com", "other")])  # never kept


def test_a_create_writes_no_counter_of_its_own(records) -> None:
    """A list's order is its rows' ``seq``, the rowid: a new row takes the highest plus
    one, so no ``sqlite_sequence`` row is read and written in every create (a page more
    in each commit); and a unique value is one b-tree's row, not a table's and its key's."""
    db = records.file.db
    records.insert("t", "users", [user("u1", "one@example.com", "one")])
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "sqlite_sequence" not in tables
    assert (
        "WITHOUT ROWID"
        in db.execute("SELECT sql FROM sqlite_master WHERE name = 'uniques'").fetchone()[0]
    )


def test_a_list_keeps_creation_order_when_the_newest_is_deleted(records) -> None:
    """A deleted newest row's seq may be taken again: by a record newer than every other."""
    for n in range(3):
        records.insert("t", "users", [user(f"u{n}", f"{n}@example.com", f"h{n}")])
    assert records.delete("t", "users", "u2")
    records.insert("t", "users", [user("u9", "9@example.com", "h9")])
    records.insert("t", "users", [user("u2", "2@example.com", "h2")])  # its id back, last
    listed, total, _ = records.query("t", "users", ListQuery(limit=10))
    assert [item["id"] for item in listed] == ["u0", "u1", "u9", "u2"] and total == 4


_OLD_SCHEMA = """
CREATE TABLE records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL, resource TEXT NOT NULL, id TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '', body TEXT NOT NULL,
    UNIQUE (tenant, resource, id)
);
CREATE TABLE uniques (
    tenant TEXT NOT NULL, resource TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
    id TEXT NOT NULL, PRIMARY KEY (tenant, resource, field, value)
);
"""

# the tables as the release before records were named within their parent made them
_UNSCOPED_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL, resource TEXT NOT NULL, id TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '', body TEXT NOT NULL,
    UNIQUE (tenant, resource, id)
);
CREATE INDEX IF NOT EXISTS records_by_parent ON records (tenant, resource, parent, seq);
CREATE TABLE IF NOT EXISTS uniques (
    tenant TEXT NOT NULL, resource TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
    id TEXT NOT NULL, PRIMARY KEY (tenant, resource, field, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uniques_by_id ON uniques (tenant, resource, id);
CREATE TABLE IF NOT EXISTS tenants (tenant TEXT PRIMARY KEY, seeded_at REAL NOT NULL);
"""


def _old_file(path: Path, schema: str) -> None:
    """A state file as an older release left it: its tables and its rows, written here."""
    db = SQLiteFile(path, schema).db
    rows = [("users", "u1", "", {"id": "u1", "email": "one@example.com"}),
            ("labels", "bug", "p1", {"id": "bug", "c": "red"}),
            ("users", "u3", "", {"id": "u3", "email": "three@example.com"}),
            ("teams", "core", "o1", {"id": "core"}),  # teams of orgs, their discussions:
            ("discussions", "d1", "core", {"id": "d1"}),  # under the team's id alone
            ("comments", "c1", "d1", {"id": "c1"})]  # fmt: skip
    for resource, record_id, parent, body in rows:
        db.execute(
            "INSERT INTO records (tenant, resource, id, parent, body) VALUES (?, ?, ?, ?, ?)",
            ("t", resource, record_id, parent, json.dumps(body)),
        )
    db.execute("INSERT INTO uniques VALUES ('t', 'users', 'email', 'one@example.com', 'u1')")
    db.commit()


@pytest.mark.parametrize(
    "schema", [_OLD_SCHEMA, _UNSCOPED_SCHEMA], ids=["autoincrement", "unscoped"]
)
def test_a_state_file_made_before_is_rebuilt_once_and_keeps_its_records(
    tmp_path: Path, schema: str
) -> None:
    """A file whose records are unique by id alone (as every release before made them) has
    its records table rebuilt when opened: its records, their order and parents and unique
    values kept; then one id may be under two parents. A second opening changes nothing."""
    path = tmp_path / "state.sqlite"
    _old_file(path, schema)
    records = SQLiteRecords(SQLiteFile(path, ""))
    listed, total, _ = records.query("t", "users", ListQuery(limit=10))
    assert [item["id"] for item in listed] == ["u1", "u3"] and total == 2
    assert records.get("t", "labels", "bug", "p1") == {"id": "bug", "c": "red"}
    with pytest.raises(Conflict):  # its unique value still held, by the record it was
        records.insert("t", "users", [user("u2", "one@example.com", "two")])
    records.insert("t", "users", [user("u4", "four@example.com", "four")])
    records.insert("t", "labels", [Record("bug", {"id": "bug", "c": "blue"}, "p2")])
    assert records.get("t", "labels", "bug", "p1") == {"id": "bug", "c": "red"}
    listed, _, _ = records.query("t", "users", ListQuery(limit=10))
    assert [item["id"] for item in listed] == ["u1", "u3", "u4"]
    assert records.delete("t", "users", "u1")  # and its value freed with it
    records.insert("t", "users", [user("u5", "one@example.com", "five")])
    db = records.file.db
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'records'").fetchone()[0]
    assert "UNIQUE (tenant, resource, id, parent)" in sql
    assert "records_by_parent" in {row[1] for row in db.execute("PRAGMA index_list(records)")}
    statements: list[str] = []
    again = SQLiteFile(path, "")
    again.db.set_trace_callback(statements.append)
    reopened = SQLiteRecords(again)
    assert not any(s.upper().startswith(("BEGIN", "CREATE TABLE", "ALTER")) for s in statements)
    assert reopened.get("t", "labels", "bug", "p2") == {"id": "bug", "c": "blue"}

    # records three levels deep and more moved under their parent's line, once, top down
    nested = [("discussions", "teams"), ("comments", "discussions")]
    assert records.get("t", "discussions", "d1", "core") == {"id": "d1"}  # not yet
    records.reline(nested)
    assert records.get("t", "discussions", "d1", "o1\x1fcore") == {"id": "d1"}
    assert records.get("t", "discussions", "d1", "core") is None
    assert records.get("t", "comments", "c1", "o1\x1fcore\x1fd1") == {"id": "c1"}
    assert records.get("t", "teams", "core", "o1") == {"id": "core"}  # two levels: as it was
    records.insert("t", "discussions", [Record("d1", {"id": "d1", "n": 2}, "o2\x1fcore")])
    statements.clear()
    reopened.reline(nested)  # done: one read
    assert [s for s in statements if not s.upper().startswith("PRAGMA")] == []
    assert records.get("t", "discussions", "d1", "o1\x1fcore") == {"id": "d1"}


def test_a_new_state_file_has_nothing_to_reline(records) -> None:
    records.insert("t", "discussions", [Record("d1", {"id": "d1"}, "core")])
    records.reline([("discussions", "teams")])
    assert records.get("t", "discussions", "d1", "core") == {"id": "d1"}
