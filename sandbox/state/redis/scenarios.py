"""Scoped scenarios, chaos and flaky counters in Redis, shared by every machine: a scenario
activated for one request fires exactly once, whichever machine the request reaches."""

from __future__ import annotations

from sandbox.jsonio import dumps, loads
from sandbox.state.protocols import ScenarioSnapshot, StoredScenario
from sandbox.state.redis.connection import RedisState

# KEYS: active, remaining. ARGV: id. 1 when this request took one of the remaining uses.
_USE = """
local left = tonumber(redis.call('HGET', KEYS[2], ARGV[1]))
if not left or left <= 0 then
  return 0
end
if left <= 1 then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
end
return 1
"""

# KEYS: flaky. ARGV: identity, fails. 1 when this attempt fails.
_FLAKY = """
local failures = tonumber(redis.call('HGET', KEYS[1], ARGV[1])) or 0
if failures >= tonumber(ARGV[2]) then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], failures + 1)
return 1
"""


class RedisScenarios:
    """Under ``<prefix>:scenarios``: ``active`` (id -> scenario), ``remaining`` (id -> uses
    left, absent for until-cleared), ``chaos`` (the runtime setting), ``flaky`` (counts)."""

    def __init__(self, redis: RedisState) -> None:
        self.redis = redis
        self._active = redis.key("scenarios", "active")
        self._remaining = redis.key("scenarios", "remaining")
        self._chaos = redis.key("scenarios", "chaos")
        self._flaky = redis.key("scenarios", "flaky")
        self._use_script = redis.script(_USE)
        self._flaky_script = redis.script(_FLAKY)

    def add(self, scenario: StoredScenario) -> None:
        value = dumps({
            "scenario": scenario.name, "params": scenario.params, "key": scenario.key,
            "operation": scenario.operation, "created_at": scenario.created_at,
        })  # fmt: skip
        with self.redis.guard(), self.redis.client.pipeline(transaction=True) as pipe:
            pipe.hset(self._active, scenario.id, value)
            if scenario.remaining is not None:
                pipe.hset(self._remaining, scenario.id, scenario.remaining)
            pipe.execute()

    def snapshot(self) -> ScenarioSnapshot:
        """One round trip for the scenarios and chaos: every request asks for both."""
        with self.redis.guard(), self.redis.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._active).hgetall(self._remaining).get(self._chaos)
            stored, remaining, chaos = pipe.execute()
        found = []
        for raw_id, raw in stored.items():
            value = loads(raw)
            left = remaining.get(raw_id)
            uses = int(left) if left is not None else None
            if uses is not None and uses <= 0:
                continue
            found.append(StoredScenario(
                raw_id.decode(), value["scenario"], value["params"], value["key"],
                value["operation"], uses, value["created_at"],
            ))  # fmt: skip
        found.sort(key=lambda a: a.created_at)
        return ScenarioSnapshot(found, chaos.decode() if chaos is not None else None)

    def use(self, scenario_id: str) -> bool:
        with self.redis.guard():
            return bool(self._use_script(keys=[self._active, self._remaining], args=[scenario_id]))

    def remove(self, scenario_id: str | None) -> int:
        with self.redis.guard(), self.redis.client.pipeline(transaction=True) as pipe:
            if scenario_id is None:
                count, *_ = pipe.hlen(self._active).delete(self._active, self._remaining).execute()
                return int(count)
            pipe.hdel(self._active, scenario_id).hdel(self._remaining, scenario_id)
            return int(pipe.execute()[0])

    def set_chaos(self, value: str | None) -> None:
        with self.redis.guard():
            if value is None:
                self.redis.client.delete(self._chaos)
            else:
                self.redis.client.set(self._chaos, value)

    def flaky_attempt(self, identity: str, fails: int) -> bool:
        with self.redis.guard():
            return bool(self._flaky_script(keys=[self._flaky], args=[identity, fails]))

    def clear(self) -> None:
        self.redis.clear("scenarios")
