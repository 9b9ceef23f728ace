"""Rate-limit counters in Redis, exact across every process and machine that shares it.

This is `limits`' own ``RedisStorage`` (its sliding-window counter keys, scripts and reset),
with one addition: ``hit_sliding_windows`` tests every window of a plan and, only if all
have room, counts the request in each, in one Lua script. `limits` offers that for one window
at a time only; taking window by window would let a request count in the hourly window and
then be refused by the per-second one, and lets racing processes overshoot.
"""

from __future__ import annotations

from typing import Any

from limits.storage import RedisStorage

from sandbox.state.redis.connection import RedisState

# Per window i: KEYS[2i-1] previous, KEYS[2i] current (limits' key names), ARGV[2i-1] expiry in
# seconds, ARGV[2i] the limit. The window arithmetic is limits' acquire_sliding_window.lua:
# a current counter older than one window becomes the previous one. Returns the windows as
# read before this request, in ms: {n blocked, blocked indexes (0-based)..., then per window
# previous count, previous ttl, current count, current ttl}.
_HIT = """
local n = #ARGV / 2
local blocked, windows = {}, {}
for i = 1, n do
  local previous_key, current_key = KEYS[2 * i - 1], KEYS[2 * i]
  local expiry = tonumber(ARGV[2 * i - 1]) * 1000
  local limit = tonumber(ARGV[2 * i])
  local current_ttl = tonumber(redis.call('PTTL', current_key))
  if current_ttl > 0 and current_ttl < expiry then
    redis.call('RENAME', current_key, previous_key)
    redis.call('SET', current_key, 0, 'PX', current_ttl + expiry)
  end
  local previous = tonumber(redis.call('GET', previous_key)) or 0
  local previous_ttl = math.max(0, tonumber(redis.call('PTTL', previous_key)))
  local current = tonumber(redis.call('GET', current_key)) or 0
  current_ttl = math.max(0, tonumber(redis.call('PTTL', current_key)))
  if previous * previous_ttl / expiry + current >= limit then
    blocked[#blocked + 1] = i - 1
  end
  for _, value in ipairs({previous, previous_ttl, current, current_ttl}) do
    windows[#windows + 1] = value
  end
end
if #blocked == 0 then
  for i = 1, n do
    local current_key = KEYS[2 * i]
    if redis.call('EXISTS', current_key) == 1 then
      redis.call('INCRBY', current_key, 1)
    else
      redis.call('SET', current_key, 1, 'PX', tonumber(ARGV[2 * i - 1]) * 2000)
    end
  end
end
local out = {#blocked}
for _, index in ipairs(blocked) do out[#out + 1] = index end
for _, value in ipairs(windows) do out[#out + 1] = value end
return out
"""

Window = tuple[int, float, int, float]


class RedisCounters(RedisStorage):
    """`limits`' Redis storage on the sandbox's connection, its keys under
    ``<prefix>:ratelimit``, every Redis failure a StorageError."""

    def __init__(self, redis: RedisState) -> None:
        self.redis = redis
        super().__init__(
            redis.url,
            connection_pool=redis.client.connection_pool,
            key_prefix=redis.key("ratelimit"),
        )
        self._hit = redis.script(_HIT)

    def get_connection(self, readonly: bool = False) -> Any:
        return self.redis.client  # the sandbox's client: its timeouts and retry policy

    def hit_sliding_windows(
        self, keys: list[str], expiries: list[int], limits: list[int]
    ) -> tuple[list[int], list[Window]]:
        """Test every window and take one slot in each only if all have room, atomically.
        The indexes of the windows that refused, and every window as read before the take
        (counts, and ttls in seconds, as ``get_sliding_window`` gives them)."""
        names: list[str] = []
        for key in keys:
            names += [
                self.prefixed_key(self._previous_window_key(key)),
                self.prefixed_key(self._current_window_key(key)),
            ]
        args: list[int] = []
        for expiry, limit in zip(expiries, limits, strict=True):
            args += [expiry, limit]
        with self.redis.guard():
            answer = [int(value) for value in self._hit(keys=names, args=args)]
        count = answer[0]
        blocked, flat = answer[1 : 1 + count], answer[1 + count :]
        windows = [
            (flat[i], flat[i + 1] / 1000, flat[i + 2], flat[i + 3] / 1000)
            for i in range(0, len(flat), 4)
        ]
        return blocked, windows

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        with self.redis.guard():
            return super().get_sliding_window(key, expiry)

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        with self.redis.guard():
            return super().acquire_sliding_window_entry(key, limit, expiry, amount)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with self.redis.guard():
            return super().incr(key, expiry, amount)

    def get(self, key: str) -> int:
        with self.redis.guard():
            return super().get(key)

    def clear(self, key: str) -> None:
        with self.redis.guard():
            super().clear(key)

    def reset(self) -> int | None:
        """Every counter of this sandbox (``<prefix>:ratelimit:*``), no other key."""
        return self.redis.clear("ratelimit")
