"""A create in the SQLite state file writes the record and its unique values without reading
them first; a taken value still refuses it whole (nothing of the record is left behind)."""

from __future__ import annotations

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


def test_a_state_file_made_before_keeps_its_tables_and_works(tmp_path: Path) -> None:
    """A file whose tables an older release made (AUTOINCREMENT, uniques with a rowid) is
    used as it is: same answers, same conflicts."""
    path = tmp_path / "state.sqlite"
    SQLiteFile(path, _OLD_SCHEMA)
    records = SQLiteRecords(SQLiteFile(path, ""))
    records.insert("t", "users", [user("u1", "one@example.com", "one")])
    with pytest.raises(Conflict):
        records.insert("t", "users", [user("u2", "ONE@example.com".casefold(), "two")])
    records.insert("t", "users", [user("u3", "three@example.com", "three")])
    listed, total, _ = records.query("t", "users", ListQuery(limit=10))
    assert [item["id"] for item in listed] == ["u1", "u3"] and total == 2
    sql = records.file.db.execute("SELECT sql FROM sqlite_master WHERE name = 'records'")
    assert "AUTOINCREMENT" in sql.fetchone()[0]
