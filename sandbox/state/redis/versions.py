"""Change counters in Redis: what lets a process keep a copy of rarely changed state (the
admin API's subscriptions, the spec's own webhook records) and know whether it is current
without reading the state itself. The twin of ``state.sqlite.versions``.

The counters are fields of one hash, ``<prefix>:store:versions``, each bumped (``HINCRBY``)
in the same atomic step as the change it counts: the Lua script or MULTI/EXEC that writes. A
reader takes the counter first and reads the state after, so a copy is tagged with a
counter no newer than what it holds.

The hash lives with the records, so a reset of the store (or a Redis that lost its data)
deletes it, and counting would start again from zero: a copy tagged 3 before could match a
different state counted 3 after. So the write that creates the hash also gives it a random
incarnation (``born``), which is part of every counter read; and while there is no hash, a
reader keeps no copy (the counters read as None) until the next write makes one.

A stored change and the webhook events it causes run in one ``Backend.transaction()``, and
the events need who listens. Reading the counters then would be one more round trip per
change (reading the subscriptions themselves was two: ``HGETALL`` and a list script). So each
write script also returns the counters readers have asked for, read in its own atomic step;
inside the transaction a reader takes them from there: they are exactly as fresh as the
write, which is what "who listens to this change" means. Outside a transaction, or before
its first write, a read asks Redis (``HMGET``). A create went from four round trips to two
(``tests/test_redis_store.py`` counts them).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from sandbox.state.redis.connection import RedisState

T = TypeVar("T")
BORN = "born"


def records_field(resource: str) -> str:
    return "rec:" + resource


class RedisVersions:
    """The counters of one sandbox's keys, shared by every component of this process."""

    def __init__(self, redis: RedisState) -> None:
        self.redis = redis
        self.key = redis.key("store", "versions")
        self._watched: set[str] = set()  # counters some reader has asked for
        self._local = threading.local()  # depth of transactions; counters a write returned

    # -- readers ---------------------------------------------------------------------------
    def read(self, field: str) -> int | None:
        """The counter (None: no counters, keep no copy), as of this transaction's latest
        write when there was one."""
        self._watched.add(field)
        noted: dict[str, Any] | None = getattr(self._local, "noted", None)
        if noted is not None and field in noted:
            born, count = noted[BORN], noted[field]
        else:
            with self.redis.guard():
                born, count = self.redis.client.hmget(self.key, [BORN, field])
        return None if born is None else int(born) << 64 | int(count or 0)

    # -- writers ---------------------------------------------------------------------------
    def watched(self) -> list[str]:
        """The counters a write script is to return besides its own answer."""
        return [BORN, *sorted(self._watched)]

    @staticmethod
    def arguments(watched: list[str]) -> list[Any]:
        """A write script's ARGV for the counters: how many it returns, the incarnation of
        the hash should the write create it, their names."""
        return [len(watched), secrets.randbits(62), *watched]

    def note(self, fields: Sequence[str], values: Sequence[Any]) -> None:
        """Counters a write script returned; kept until this thread's transaction ends."""
        if getattr(self._local, "depth", 0):
            self._local.noted = dict(zip(fields, values, strict=True))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``Backend.transaction()``: each step is still atomic on its own (a Lua script);
        what the scope adds is that readers inside it use the counters its writes returned."""
        local = self._local
        local.depth = getattr(local, "depth", 0) + 1
        try:
            yield
        finally:
            local.depth -= 1
            if not local.depth:
                local.noted = None

    def bump_in(self, pipe: Any, field: str) -> None:
        """Count a change made in a MULTI/EXEC ``pipe`` (queued, not yet executed)."""
        pipe.hsetnx(self.key, BORN, secrets.randbits(62))
        pipe.hincrby(self.key, field, 1)


class Copy(Generic[T]):
    """This process's copy of some state, loaded again only when its counter has moved.
    Threads may load at the same time; each keeps a whole (counter, value) pair."""

    def __init__(self, versions: RedisVersions, field: str, load: Callable[[], T]) -> None:
        self._versions = versions
        self._field = field
        self._load = load
        self._held: tuple[int, T] | None = None

    def get(self) -> T:
        version = self._versions.read(self._field)  # first: see the module docstring
        held = self._held
        if version is not None and held is not None and held[0] == version:
            return held[1]
        value = self._load()
        self._held = None if version is None else (version, value)
        return value
