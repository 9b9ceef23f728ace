"""The state file's write transaction as a plain object (not three generators stacked):
the same commit, rollback, error translation and writers' queue as before."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from sandbox.errors import StorageError
from sandbox.state.sqlite.file import SQLiteFile

SCHEMA = "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT);"


@pytest.fixture()
def file(tmp_path: Path) -> SQLiteFile:
    return SQLiteFile(tmp_path / "state.sqlite", SCHEMA)


def rows(file: SQLiteFile) -> list[tuple[str, str]]:
    return file.db.execute("SELECT k, v FROM t ORDER BY k").fetchall()


def test_a_write_commits_and_a_failed_one_leaves_nothing(file: SQLiteFile) -> None:
    with file.write() as db:
        db.execute("INSERT INTO t VALUES ('a', '1')")
    with pytest.raises(RuntimeError), file.write() as db:
        db.execute("INSERT INTO t VALUES ('b', '2')")
        raise RuntimeError("the body failed")
    assert rows(file) == [("a", "1")]
    assert not file.writing and not file.db.in_transaction


def test_sqlite_failures_in_the_body_are_storage_errors_and_conflicts_stay_themselves(
    file: SQLiteFile,
) -> None:
    with pytest.raises(StorageError), file.write() as db:
        db.execute("INSERT INTO nowhere VALUES (1)")
    with file.write() as db:
        db.execute("INSERT INTO t VALUES ('a', '1')")
    with pytest.raises(sqlite3.IntegrityError), file.write() as db:
        db.execute("INSERT INTO t VALUES ('a', '2')")
    assert rows(file) == [("a", "1")]


def test_nested_writes_join_or_undo_alone(file: SQLiteFile) -> None:
    with file.write() as db:
        db.execute("INSERT INTO t VALUES ('a', '1')")
        with file.write(undo_alone=False) as joined:
            assert joined is db
            joined.execute("INSERT INTO t VALUES ('b', '2')")
        with pytest.raises(RuntimeError), file.write() as inner:
            inner.execute("INSERT INTO t VALUES ('c', '3')")
            raise RuntimeError("undo the savepoint only")
    assert rows(file) == [("a", "1"), ("b", "2")]


def test_the_writers_queue_is_left_after_a_failure(file: SQLiteFile) -> None:
    with pytest.raises(StorageError), file.write() as db:
        db.execute("INSERT INTO nowhere VALUES (1)")
    done = threading.Event()

    def other_thread() -> None:  # would wait forever on a queue still held
        with file.write() as db:
            db.execute("INSERT INTO t VALUES ('x', 'y')")
        done.set()

    worker = threading.Thread(target=other_thread, daemon=True)
    worker.start()
    assert done.wait(10)
    assert rows(file) == [("x", "y")]


def test_a_write_bumps_its_counters_before_and_after_the_commit(file: SQLiteFile) -> None:
    slot = 7
    before = file.versions.read(slot)
    with file.write():
        file.changed(slot)
        assert file.versions.read(slot) == before + 1
    assert file.versions.read(slot) == before + 2
