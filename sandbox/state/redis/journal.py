"""The request journal in Redis: every process pushes its entries to one list, so
``GET /__sandbox/requests`` on any machine shows requests that any of them served."""

from __future__ import annotations

from typing import Any

from sandbox.jsonio import dumps, loads
from sandbox.state.protocols import JournalFilter
from sandbox.state.redis.connection import RedisState

# KEYS: list, id counter. ARGV: capacity, then entries (JSON). Each element is "id\nentry".
_PUSH = """
local n = #ARGV - 1
local first = redis.call('INCRBY', KEYS[2], n) - n
for i = 1, n do
  redis.call('LPUSH', KEYS[1], (first + i) .. '\\n' .. ARGV[i + 1])
end
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1)
return first + n
"""


class RedisJournal:
    """``<prefix>:journal``, newest first, trimmed to the capacity; ``<prefix>:journal:seq``
    numbers the entries across processes (what ``since`` polls by). Filters run in Python
    over the entries kept."""

    def __init__(self, redis: RedisState) -> None:
        self.redis = redis
        self._list = redis.key("journal")
        self._seq = redis.key("journal", "seq")
        self._push = redis.script(_PUSH)

    def append(self, entries: list[dict[str, Any]], capacity: int) -> None:
        with self.redis.guard():
            self._push(keys=[self._list, self._seq], args=[capacity, *map(dumps, entries)])

    def read(self, query: JournalFilter, limit: int) -> list[dict[str, Any]]:
        status = query.status_range()
        found: list[dict[str, Any]] = []
        start = 0
        while len(found) < limit:
            with self.redis.guard():
                chunk = self.redis.client.lrange(self._list, start, start + 199)
            for raw in chunk:
                head, _, body = raw.partition(b"\n")
                entry_id = int(head)
                if query.since is not None and entry_id <= query.since:
                    return found  # newest first: everything further on is older
                entry = loads(body)
                if _wanted(entry, query, status):
                    found.append({"id": entry_id, **entry})
                    if len(found) >= limit:
                        return found
            if len(chunk) < 200:
                break
            start += 200
        return found

    def clear(self) -> None:
        self.redis.clear("journal")


def _wanted(entry: dict[str, Any], query: JournalFilter, status: tuple[int, int] | None) -> bool:
    """The SQLite journal's WHERE clause, in Python."""
    for name in ("operation", "key", "scenario"):
        wanted = getattr(query, name)
        if wanted and entry.get(name) != wanted:
            return False
    if query.method and entry.get("method") != query.method.upper():
        return False
    if status is not None and not status[0] <= int(entry.get("status", 0)) <= status[1]:
        return False
    if query.path and query.path not in str(entry.get("path", "")):
        return False
    return query.problems is None or bool(entry.get("problems")) == query.problems
