"""The webhook outbox in Redis: every delivery and attempt, claimed by the delivery workers of
every process on every machine, each due attempt sent by exactly one of them.

Keys under ``<prefix>:outbox``:

    dlv:<id>     hash   the delivery (the SQLite row's columns, plus its sequence number)
    att:<id>     hash   attempt number -> the attempt, as JSON
    due          zset   pending deliveries, scored by when they may be claimed next:
                        max(next attempt, end of the current lease)
    all          zset   every delivery by sequence number (the log, newest first)
    sub:<sub id> zset   a subscription's pending deliveries in order (``webhook_ordered``)
    counts       hash   deliveries by status; attempt-counts: attempts by outcome
    seq          string the sequence counter

Claiming is one Lua script: it picks the due deliveries and leases them in the same atomic
step, so two workers never both send one attempt. A lease that runs out (its worker died
mid-send) makes the delivery due again, as in the SQLite outbox. The claim and record scripts
name a delivery's keys from its id, so this needs one Redis (or a primary), not a Cluster.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

from sandbox.state.protocols import Attempt, Delivery, NewDelivery
from sandbox.state.redis.connection import RedisState, part

_LUA_PART = """
local function part(text)
  return (string.gsub(string.gsub(text, '%%', '%%25'), ':', '%%3A'))
end
"""

# KEYS: seq, due, all, counts, then per delivery: dlv, sub. ARGV: now, max attempts, then per
# delivery: id, event id, event type, tenant, subscription id, url, scheme, secrets, body.
_ENQUEUE = """
local n = (#KEYS - 4) / 2
local seq = redis.call('INCRBY', KEYS[1], n) - n
local a = 3
for i = 1, n do
  local dlv, sub, id = KEYS[3 + 2 * i], KEYS[4 + 2 * i], ARGV[a]
  redis.call('HSET', dlv, 'id', id, 'event_id', ARGV[a + 1], 'event_type', ARGV[a + 2],
    'tenant', ARGV[a + 3], 'subscription_id', ARGV[a + 4], 'url', ARGV[a + 5],
    'scheme', ARGV[a + 6], 'secrets', ARGV[a + 7], 'body', ARGV[a + 8], 'status', 'pending',
    'attempts', 0, 'max_attempts', ARGV[2], 'next_at', ARGV[1], 'lease_until', 0,
    'created_at', ARGV[1], 'updated_at', ARGV[1], 'seq', seq + i)
  redis.call('ZADD', KEYS[2], ARGV[1], id)
  redis.call('ZADD', KEYS[3], seq + i, id)
  redis.call('ZADD', sub, seq + i, id)
  a = a + 9
end
redis.call('HINCRBY', KEYS[4], 'pending', n)
return n
"""

# KEYS: due. ARGV: now, lease seconds, limit, '1' when ordered, outbox key prefix.
# -> the ids leased to the caller
_CLAIM = (
    _LUA_PART
    + """
local now, lease, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ordered, base = ARGV[4] == '1', ARGV[5]
local scan = limit
if ordered then scan = limit * 20 end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, scan)
local claimed = {}
for _, id in ipairs(due) do
  if #claimed >= limit then break end
  local free = true
  if ordered then  -- only a subscription's oldest pending delivery may go
    local sub = redis.call('HGET', base .. 'dlv:' .. id, 'subscription_id')
    local first = redis.call('ZRANGE', base .. 'sub:' .. part(sub), 0, 0)
    free = first[1] == id
  end
  if free then
    redis.call('HSET', base .. 'dlv:' .. id, 'lease_until', now + lease)
    redis.call('ZADD', KEYS[1], now + lease, id)
    claimed[#claimed + 1] = id
  end
end
return claimed
"""
)

# KEYS: dlv, att, due, sub, counts, attempt counts. ARGV: id, attempt number, attempt JSON,
# '1' when it succeeded, new status, next attempt at, now.
_RECORD = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0  -- reset meanwhile: nothing to record
end
local before = redis.call('HGET', KEYS[2], ARGV[2])
if before then  -- the same attempt again (a lease ran out): it replaces the first
  local status = cjson.decode(before).status
  local ok = type(status) == 'number' and status >= 200 and status < 300
  redis.call('HINCRBY', KEYS[6], ok and 'success' or 'failure', -1)
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('HINCRBY', KEYS[6], ARGV[4] == '1' and 'success' or 'failure', 1)
local old = redis.call('HGET', KEYS[1], 'status')
redis.call('HSET', KEYS[1], 'status', ARGV[5], 'attempts', ARGV[2], 'next_at', ARGV[6],
  'lease_until', 0, 'updated_at', ARGV[7])
if ARGV[5] == 'pending' then
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
else
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
end
if old ~= ARGV[5] then
  redis.call('HINCRBY', KEYS[5], old, -1)
  redis.call('HINCRBY', KEYS[5], ARGV[5], 1)
end
return 1
"""

# KEYS: dlv, due, sub, counts. ARGV: id, more attempts, now.
_REDELIVER = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local old = redis.call('HGET', KEYS[1], 'status')
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts'))
redis.call('HSET', KEYS[1], 'status', 'pending', 'next_at', ARGV[3], 'lease_until', 0,
  'max_attempts', attempts + tonumber(ARGV[2]), 'updated_at', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[3], redis.call('HGET', KEYS[1], 'seq'), ARGV[1])
if old ~= 'pending' then
  redis.call('HINCRBY', KEYS[4], old, -1)
  redis.call('HINCRBY', KEYS[4], 'pending', 1)
end
return 1
"""

_LIST_CHUNK = 200


class RedisOutbox:
    """The ``Outbox`` interface on Redis (see the module docstring for the layout)."""

    def __init__(self, redis: RedisState, *, ordered: bool = False) -> None:
        self.redis = redis
        self.ordered = ordered
        self._base = redis.key("outbox") + ":"
        self._enqueue = redis.script(_ENQUEUE)
        self._claim = redis.script(_CLAIM)
        self._record = redis.script(_RECORD)
        self._redeliver = redis.script(_REDELIVER)

    def _key(self, *parts: str) -> str:
        return self._base + ":".join(parts)

    def _sub(self, subscription_id: str) -> str:
        return self._key("sub", part(subscription_id))

    def enqueue(self, deliveries: Iterable[NewDelivery], max_attempts: int) -> list[str]:
        now = repr(time.time())
        keys = [self._key("seq"), self._key("due"), self._key("all"), self._key("counts")]
        args: list[Any] = [now, max_attempts]
        ids = []
        for new in deliveries:
            delivery_id = "dlv_" + secrets.token_hex(8)
            keys += [self._key("dlv", delivery_id), self._sub(new.subscription_id)]
            args += [delivery_id, new.event_id, new.event_type, new.tenant, new.subscription_id,
                     new.url, new.scheme, json.dumps(new.secrets), new.body]  # fmt: skip
            ids.append(delivery_id)
        if ids:
            with self.redis.guard():
                self._enqueue(keys=keys, args=args)
        return ids

    def claim(self, limit: int, lease_seconds: float) -> list[Delivery]:
        """Due deliveries, leased to the caller so no other worker sends them meanwhile."""
        args = [repr(time.time()), lease_seconds, limit, "1" if self.ordered else "0", self._base]
        with self.redis.guard():
            ids = [raw.decode() for raw in self._claim(keys=[self._key("due")], args=args)]
        return self._load(ids, with_log=False)

    def next_due(self) -> float | None:
        with self.redis.guard():
            first = self.redis.client.zrange(self._key("due"), 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def record(self, delivery: Delivery, attempt: Attempt, retry_at: float | None) -> None:
        """Log one attempt and move the delivery on: delivered, retried later, or failed."""
        number = delivery.attempts + 1
        if attempt.succeeded:
            status, next_at = "delivered", delivery.next_at
        elif retry_at is not None and number < delivery.max_attempts:
            status, next_at = "pending", retry_at
        else:
            status, next_at = "failed", delivery.next_at
        logged = json.dumps({
            "started_at": attempt.started_at, "request_headers": attempt.request_headers,
            "status": attempt.status, "response_excerpt": attempt.response_excerpt,
            "latency_ms": attempt.latency_ms, "error": attempt.error,
        })  # fmt: skip
        keys = [self._key("dlv", delivery.id), self._key("att", delivery.id), self._key("due"),
                self._sub(delivery.subscription_id), self._key("counts"),
                self._key("attempt-counts")]  # fmt: skip
        args = [delivery.id, number, logged, "1" if attempt.succeeded else "0", status,
                repr(next_at), repr(time.time())]  # fmt: skip
        with self.redis.guard():
            self._record(keys=keys, args=args)

    def redeliver(self, delivery_id: str, max_attempts: int) -> Delivery | None:
        """Send again now, with a fresh set of attempts; earlier attempts stay in the log."""
        with self.redis.guard():
            subscription = self.redis.client.hget(self._key("dlv", delivery_id), "subscription_id")
            if subscription is None:
                return None
            keys = [self._key("dlv", delivery_id), self._key("due"),
                    self._sub(subscription.decode()), self._key("counts")]  # fmt: skip
            changed = self._redeliver(
                keys=keys, args=[delivery_id, max_attempts, repr(time.time())]
            )
        return self.get(delivery_id) if changed else None

    def get(self, delivery_id: str) -> Delivery | None:
        found = self._load([delivery_id], with_log=True)
        return found[0] if found else None

    def find(
        self,
        *,
        delivery_id: str | None = None,
        status: str | None = None,
        event_type: str | None = None,
        subscription_id: str | None = None,
        event_id: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """Newest first, each with its attempt log; filtered in Python, a chunk at a time."""
        checks = {"status": status, "event_type": event_type,
                  "subscription_id": subscription_id, "event_id": event_id}  # fmt: skip

        def passes(delivery: Delivery) -> bool:
            return all(v is None or getattr(delivery, k) == v for k, v in checks.items())

        if delivery_id is not None:
            wanted = [d for d in self._load([delivery_id], with_log=False) if passes(d)]
        else:
            wanted, start = [], 0
            while len(wanted) < limit:
                with self.redis.guard():
                    chunk = self.redis.client.zrevrange(
                        self._key("all"), start, start + _LIST_CHUNK - 1
                    )
                ids = [raw.decode() for raw in chunk]
                wanted += [d for d in self._load(ids, with_log=False) if passes(d)]
                if len(chunk) < _LIST_CHUNK:
                    break
                start += _LIST_CHUNK
        wanted = wanted[:limit]
        self._attach_logs(wanted)
        return wanted

    def counts(self) -> dict[str, int]:
        with self.redis.guard():
            stored = self.redis.client.hgetall(self._key("counts"))
        return {"pending": 0, "delivered": 0, "failed": 0,
                **{k.decode(): int(v) for k, v in stored.items()}}  # fmt: skip

    def attempt_counts(self) -> dict[str, int]:
        """Attempts by outcome: success (2xx) or failure (anything else, errors included)."""
        with self.redis.guard():
            stored = self.redis.client.hgetall(self._key("attempt-counts"))
        return {"success": 0, "failure": 0, **{k.decode(): int(v) for k, v in stored.items()}}

    def clear(self) -> None:
        self.redis.clear("outbox")

    # -- reading deliveries -----------------------------------------------------------------
    def _load(self, ids: list[str], *, with_log: bool) -> list[Delivery]:
        if not ids:
            return []
        with self.redis.guard(), self.redis.client.pipeline(transaction=False) as pipe:
            for delivery_id in ids:
                pipe.hgetall(self._key("dlv", delivery_id))
            stored = pipe.execute()
        found = [_delivery(fields) for fields in stored if fields]
        if with_log:
            self._attach_logs(found)
        return found

    def _attach_logs(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        with self.redis.guard(), self.redis.client.pipeline(transaction=False) as pipe:
            for delivery in deliveries:
                pipe.hgetall(self._key("att", delivery.id))
            logs = pipe.execute()
        for delivery, attempts in zip(deliveries, logs, strict=True):
            delivery.log = [
                {"attempt": int(number), **json.loads(raw)}
                for number, raw in sorted(attempts.items(), key=lambda item: int(item[0]))
            ]


def _delivery(fields: dict[bytes, bytes]) -> Delivery:
    text = {k.decode(): v for k, v in fields.items()}

    def s(name: str) -> str:
        return text[name].decode()

    return Delivery(
        event_id=s("event_id"), event_type=s("event_type"), tenant=s("tenant"),
        subscription_id=s("subscription_id"), url=s("url"), scheme=s("scheme"),
        secrets=json.loads(text["secrets"]), body=bytes(text["body"]), id=s("id"),
        status=s("status"), attempts=int(text["attempts"]),
        max_attempts=int(text["max_attempts"]), next_at=float(text["next_at"]),
        created_at=float(text["created_at"]), updated_at=float(text["updated_at"]),
    )  # fmt: skip
