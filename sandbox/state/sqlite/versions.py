"""Change counters every process of the machine reads without a query: what lets a worker
keep a copy of rarely changed state (subscriptions, scenarios, which tenants are seeded) and
know, per request, whether it is still current.

The counters are 8-byte slots of a small file beside the state file, mapped into memory
(``MAP_SHARED``: a write in one process is seen by every other at once). Reading one costs
about 0.1 µs; the queries it saves cost 3 µs and more each, several per request.

A writer bumps a slot inside its write transaction, holding the writers' lock, twice: before
``COMMIT`` and after it. A reader takes the counter first and reads the tables after, so a
copy is always tagged with a counter no newer than what it read:

* a reader that sees the bump after the commit reads the committed rows;
* a reader that read the tables between the first bump and the commit tags the old rows
  with the first bump's value, which the second bump makes stale.

A worker killed between the commit and the second bump (microseconds) can leave another
worker's copy stale until the next change of that kind; nothing else can.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from sandbox.errors import StorageError

SLOTS = 512
_SIZE = SLOTS * 8
_SLOT = struct.Struct("<Q")
T = TypeVar("T")


class Versions:
    """Named change counters in ``path`` (created when missing), shared by processes."""

    def __init__(self, path: Path) -> None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                # zeros, every process agrees on the size, and the blocks are really there:
                # a write into a sparse mapped page on a full disk would be a SIGBUS, not an
                # error (posix_fallocate says ENOSPC here, at start-up, instead)
                os.posix_fallocate(fd, 0, _SIZE)
                self._map = mmap.mmap(fd, _SIZE, mmap.MAP_SHARED)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StorageError(f"cannot map the change counters {path}: {exc}") from None

    @staticmethod
    def slot(name: str) -> int:
        """A name's slot: stable across processes (CRC-32, not ``hash``, which each process
        salts). Two names sharing a slot only make each other's copies reload more often."""
        return zlib.crc32(name.encode()) % SLOTS

    def read(self, slot: int) -> int:
        return int(_SLOT.unpack_from(self._map, slot * 8)[0])

    def bump(self, slot: int) -> None:
        """Count one change; the caller holds the writers' lock (no two bumps race)."""
        _SLOT.pack_into(self._map, slot * 8, (self.read(slot) + 1) % 2**64)


class Copy(Generic[T]):
    """This process's copy of some state, loaded again only when its counter has moved.
    Threads may load at the same time; each keeps a whole (counter, value) pair."""

    def __init__(self, counter: Callable[[], int], load: Callable[[], T]) -> None:
        self._counter = counter
        self._load = load
        self._held: tuple[int, T] | None = None

    def get(self) -> T:
        version = self._counter()  # first: see the module docstring
        held = self._held
        if held is not None and held[0] == version:
            return held[1]
        value = self._load()
        self._held = (version, value)
        return value
