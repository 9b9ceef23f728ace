"""Sandbox state in one SQLite file, shared by the threads and worker processes of a machine.

Every store opens on the same ``SQLiteFile`` (WAL mode, a connection per thread, writers
queued on a lock): so a change and the webhook deliveries it causes are one transaction,
and the file is opened once. Rate-limit counters, written on every request, keep a file of
their own beside it (``ratelimits.sqlite``) when they are not in process memory. A third
file, ``<state>.versions``, holds the change counters that let each process keep copies of
rarely changed state (``versions``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from limits.storage import Storage

from sandbox.state.sqlite.file import SQLiteFile
from sandbox.state.sqlite.grants import SQLiteGrants
from sandbox.state.sqlite.idempotency import SQLiteIdempotency
from sandbox.state.sqlite.journal import SQLiteJournal
from sandbox.state.sqlite.keys import SQLiteKeys
from sandbox.state.sqlite.outbox import SQLiteOutbox
from sandbox.state.sqlite.records import SQLiteRecords
from sandbox.state.sqlite.scenarios import SQLiteScenarios
from sandbox.state.sqlite.signing_keys import SQLiteSigningKeys
from sandbox.state.sqlite.subscriptions import SQLiteSubscriptions


class SQLiteBackend:
    """The ``Backend`` protocol on one state file (``settings.state``, or ``:memory:``)."""

    def __init__(self, location: str, counters: Callable[[], Storage]) -> None:
        self.file = SQLiteFile(location, "")
        self._counters = counters

    def describe(self) -> str:
        return self.file.location

    def records(self) -> SQLiteRecords:
        return SQLiteRecords(self.file)

    def counters(self) -> Storage:
        return self._counters()

    def keys(self) -> SQLiteKeys:
        return SQLiteKeys(self.file)

    def journal(self) -> SQLiteJournal:
        return SQLiteJournal(self.file)

    def idempotency(self) -> SQLiteIdempotency:
        return SQLiteIdempotency(self.file)

    def scenarios(self) -> SQLiteScenarios:
        return SQLiteScenarios(self.file)

    def grants(self) -> SQLiteGrants:
        return SQLiteGrants(self.file)

    def signing_keys(self) -> SQLiteSigningKeys:
        return SQLiteSigningKeys(self.file)

    def subscriptions(self) -> SQLiteSubscriptions:
        return SQLiteSubscriptions(self.file)

    def outbox(self, *, ordered: bool) -> SQLiteOutbox:
        return SQLiteOutbox(self.file, ordered=ordered)

    def transaction(self) -> AbstractContextManager[Any]:
        """One write transaction of the state file: a nested write joins it."""
        return self.file.write()
