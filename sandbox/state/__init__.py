"""Where sandbox state lives: a small interface, with SQLite as the embedded default.

The request pipeline talks only to `StateStore`. ``SQLiteStore`` keeps records in the state
file; ``sandbox.state.redis.records.RedisStore`` keeps them in Redis (``--redis``), so
several sandbox processes or machines share them. ``sandbox.state.select`` picks one.
"""

from __future__ import annotations

from sandbox.errors import Conflict, StorageError
from sandbox.state.protocols import ListQuery, Record, StateStore
from sandbox.state.sqlite.records import SQLiteStore


def open_store(location: str) -> StateStore:
    """A store for ``location``: a file path, or ``:memory:`` for a throwaway run."""
    return SQLiteStore(location)


__all__ = [
    "Conflict",
    "ListQuery",
    "Record",
    "SQLiteStore",
    "StateStore",
    "StorageError",
    "open_store",
]
