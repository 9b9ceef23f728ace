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
