"""One SQLite file shared by threads and worker processes: the plumbing every table uses.

Each thread of each process has its own connection (a forked worker opens new ones instead of
sharing its parent's); writes take the database lock up front (``BEGIN IMMEDIATE``) so
concurrent writers queue instead of failing. ``:memory:`` means a throwaway file, because
SQLite's shared-cache memory mode fails at once under concurrent threads instead of waiting.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sandbox.errors import StorageError
from sandbox.state.sqlite.versions import Versions

_BUSY_TIMEOUT_MS = 10_000


class SQLiteFile:
    def __init__(
        self, location: str | Path, schema: str, *, what: str = "state file",
        pragmas: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        """``pragmas``: more settings for every connection of this file."""
        location = str(location)
        self.what = what
        self._pragmas = pragmas
        if location == ":memory:":
            shm = (
                "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
            )
            self._scratch = tempfile.TemporaryDirectory(prefix="sandbox-", dir=shm)
            path = Path(self._scratch.name) / "scratch.sqlite"
        else:
            path = Path(location)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the folder for {path}: {exc}") from None
        self.path = path.resolve()
        self.uri = self.path.as_uri() + "?mode=rwc"
        self._lock_path = self.path.with_name(self.path.name + ".write-lock")
        self.location = location
        self._versions: Versions | None = None
        self._local = threading.local()
        self._keepalive = self._connect()
        with self.guard():
            self._keepalive.executescript(schema)

    def _connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self.uri, uri=True, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000
            )
            connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            for pragma in self._pragmas:
                connection.execute(f"PRAGMA {pragma}")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the {self.what} {self.location}: {exc}") from None
        return connection

    def adopt(self, schema: str) -> None:
        """Add another component's tables to this file, to share its transactions."""
        with self.guard():
            self.db.executescript(schema)

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection in this process."""
        pid = os.getpid()
        if getattr(self._local, "pid", None) != pid:
            self._local.connection = self._connect()
            self._local.pid = pid
            self._local.depth = 0
            self._local.changed = set()
        return self._local.connection

    @property
    def writing(self) -> bool:
        """Whether this thread is inside a write transaction (its reads see its own writes,
        which no other thread may be shown before the commit)."""
        self.db  # noqa: B018 - this thread's state, made on first use
        return bool(self._local.depth)

    @property
    def versions(self) -> Versions:
        """The change counters beside this file (``versions``), mapped on first use."""
        if self._versions is None:
            self._versions = Versions(self.path.with_name(self.path.name + ".versions"))
        return self._versions

    def changed(self, *slots: int) -> None:
        """This write transaction changes what ``slots`` count: bumped now and again after
        the commit, with the writers' lock held throughout (``versions`` says why twice)."""
        if not self._local.depth:
            raise RuntimeError("changed() outside a write transaction")
        versions = self.versions
        for slot in slots:
            versions.bump(slot)
        self._local.changed.update(slots)

    def _failure(self, exc: sqlite3.Error) -> StorageError:
        return StorageError(f"the {self.what} {self.location} failed: {exc}")

    @contextmanager
    def guard(self) -> Iterator[None]:
        """SQLite failures (a full disk, a locked or unreadable file) become StorageError."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise self._failure(exc) from None

    def _queue_here(self) -> tuple[threading.Lock, int]:
        """This process's thread lock and its descriptor of the lock file (a forked worker
        opens its own)."""
        pid = os.getpid()
        if getattr(self, "_queue_pid", None) != pid:
            try:
                fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise StorageError(f"cannot open {self._lock_path}: {exc}") from None
            self._queue = (threading.Lock(), fd)
            self._queue_pid = pid
        return self._queue

    @contextmanager
    def _writers_queue(self) -> Iterator[None]:
        """Writers wait their turn in the kernel (a thread lock, then an flock across
        processes) and wake the moment it is theirs. SQLite's own busy handler polls with
        sleeps of 1, 2, 5, 10 ms and more: under steady writes that was most of a POST's p99."""
        lock, fd = self._queue_here()
        with lock:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    @contextmanager
    def alone(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection with the writers' queue held, outside any transaction:
        each statement run in it is its own transaction (SQLite's autocommit), and no other
        writer of the file, in this process or another, runs until the block ends. One
        statement that writes costs one transaction this way, without the BEGIN and COMMIT
        of ``write`` (two statements, ~5 µs, and SQLite's own per-statement work). Inside a
        write transaction it joins that one."""
        db = self.db
        if self._local.depth:
            yield db
            return
        with self._writers_queue(), self.guard():
            yield db

    def write(self, *, undo_alone: bool = True) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction. A nested use joins the outer one as a savepoint: if it fails,
        its own writes are undone and the outer transaction carries on (a batch insert that
        hits a conflict must not leave half a batch behind for the retry to trip over).
        ``undo_alone=False`` joins without one, for a use whose failure has written nothing
        (a savepoint is two more statements in every create). The outermost one is a plain
        object, not three generators stacked (writers' queue, guard, transaction): their
        entries and exits were ~4 µs of every create, all of it inside the writers' lock."""
        db = self.db
        if not self._local.depth:
            return _Transaction(self, db)
        if not undo_alone:
            return _Joined(db)
        return self._savepoint(db)

    @contextmanager
    def _savepoint(self, db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        savepoint = f"nested_{self._local.depth}"
        self._local.depth += 1
        with self.guard():
            db.execute(f"SAVEPOINT {savepoint}")
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    db.execute(f"ROLLBACK TO {savepoint}")
                    db.execute(f"RELEASE {savepoint}")
                raise
            else:
                db.execute(f"RELEASE {savepoint}")
            finally:
                self._local.depth -= 1

    def _bump_after(self) -> None:
        """The second bump of every counter the transaction changed, after its end."""
        changed = self._local.changed
        if changed:
            versions = self.versions
            for slot in changed:
                versions.bump(slot)
            changed.clear()


class _Joined:
    """A write inside this thread's transaction that needs no savepoint of its own."""

    __slots__ = ("db",)

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, *exc: object) -> None:
        return None


class _Transaction:
    """The outermost write: the writers' queue (``SQLiteFile._writers_queue``), then
    ``BEGIN IMMEDIATE``; on the way out ``COMMIT`` (``ROLLBACK`` after an exception, or a
    refused commit), the counters' second bump, the queue left. SQLite's failures become
    StorageError as ``SQLiteFile.guard`` makes them, the body's own included."""

    __slots__ = ("db", "fd", "file", "lock")

    def __init__(self, file: SQLiteFile, db: sqlite3.Connection) -> None:
        self.file, self.db = file, db

    def __enter__(self) -> sqlite3.Connection:
        file = self.file
        self.lock, self.fd = lock, fd = file._queue_here()
        lock.acquire()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except BaseException:
                fcntl.flock(fd, fcntl.LOCK_UN)
                raise
        except sqlite3.IntegrityError:
            lock.release()
            raise
        except sqlite3.Error as exc:
            lock.release()
            raise file._failure(exc) from None
        except BaseException:
            lock.release()
            raise
        file._local.depth = 1
        return self.db

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        file, db = self.file, self.db
        try:
            try:
                file._local.depth = 0
                if kind is not None:
                    if db.in_transaction:  # SQLite may have rolled back already (SQLITE_FULL)
                        db.execute("ROLLBACK")
                else:
                    try:
                        db.execute("COMMIT")
                    except sqlite3.Error:  # a full disk can refuse the commit
                        if db.in_transaction:
                            db.execute("ROLLBACK")
                        raise
            finally:
                file._bump_after()
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise file._failure(exc) from None
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.lock.release()
        if isinstance(error, sqlite3.Error) and not isinstance(error, sqlite3.IntegrityError):
            raise file._failure(error) from None
