"""Where sandbox state lives: a small interface, with SQLite as the embedded default.

The request pipeline talks only to `StateStore`; a Redis backend can implement the same
methods without the pipeline changing.
"""

from __future__ import annotations

from sandbox.store.base import Conflict, ListQuery, Record, StateStore, StorageError
from sandbox.store.sqlite import SQLiteStore


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
