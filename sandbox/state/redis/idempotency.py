"""``Idempotency-Key`` records in Redis: a retry that reaches another machine replays the
first answer, and two racing requests with one key cannot both run (the claim is one script).
"""

from __future__ import annotations

import time

from sandbox.jsonio import dumps, loads
from sandbox.state.protocols import Claim, Kept
from sandbox.state.redis.connection import RedisState, part

# KEYS: the record. ARGV: fingerprint, now, abandoned after, keep seconds.
# -> {'run'} | {'reused'} | {'in_progress'} | {'kept', status, headers, body}
_CLAIM = """
local f = redis.call('HMGET', KEYS[1], 'fingerprint', 'status', 'headers', 'body', 'created_at')
if f[1] then
  if f[1] ~= ARGV[1] then
    return {'reused'}
  end
  if f[2] then
    return {'kept', f[2], f[3], f[4]}
  end
  if tonumber(ARGV[2]) - tonumber(f[5]) < tonumber(ARGV[3]) then
    return {'in_progress'}
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'created_at', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return {'run'}
"""

# KEYS: the record. ARGV: status, headers, body. Kept only while the claim still stands.
_KEEP = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'status', ARGV[1], 'headers', ARGV[2], 'body', ARGV[3])
end
return 0
"""


class RedisIdempotency:
    """One hash per tenant and key, ``<prefix>:idempotency:<tenant>:<key>``, expiring a day
    after the claim (Redis forgets it; nothing sweeps)."""

    def __init__(self, redis: RedisState) -> None:
        self.redis = redis
        self._claim = redis.script(_CLAIM)
        self._keep = redis.script(_KEEP)

    def _record(self, tenant: str, key: str) -> str:
        return self.redis.key("idempotency", part(tenant), part(key))

    def claim(
        self, tenant: str, key: str, fingerprint: str, *, keep_for: float, abandoned_after: float
    ) -> Claim:
        args = [fingerprint, repr(time.time()), abandoned_after, int(keep_for)]
        with self.redis.guard():
            answer = self._claim(keys=[self._record(tenant, key)], args=args)
        verdict = answer[0].decode()
        if verdict == "kept":
            status, headers, body = answer[1:4]
            return Claim(kept=Kept(int(status), [tuple(h) for h in loads(headers)], body))
        if verdict == "run":
            return Claim()
        return Claim(conflict=verdict)

    def keep(self, tenant: str, key: str, kept: Kept) -> None:
        with self.redis.guard():
            self._keep(
                keys=[self._record(tenant, key)],
                args=[kept.status, dumps(kept.headers), kept.body],
            )

    def forget(self, tenant: str, key: str) -> None:
        with self.redis.guard():
            self.redis.client.delete(self._record(tenant, key))

    def clear(self) -> None:
        self.redis.clear("idempotency")
