"""Scoped scenarios, chaos and flaky counters in Redis, shared by every machine: a scenario
activated for one request fires exactly once, whichever machine the request reaches."""

from __future__ import annotations

import json

from flask import g, has_request_context

from sandbox.jsonio import dumps, loads
from sandbox.scenarios.board import ActiveScenario, ScenarioBoard
from sandbox.scenarios.chaos import Chaos, chaos_from
from sandbox.scenarios.presets import Scenario, scenario
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


class RedisScenarioBoard(ScenarioBoard):
    """Under ``<prefix>:scenarios``: ``active`` (id -> scenario), ``remaining`` (id -> uses
    left, absent for until-cleared), ``chaos`` (the runtime setting), ``flaky`` (counts)."""

    def __init__(self, redis: RedisState, default_chaos: Chaos) -> None:
        self.redis = redis
        self.default_chaos = default_chaos
        self._active = redis.key("scenarios", "active")
        self._remaining = redis.key("scenarios", "remaining")
        self._chaos = redis.key("scenarios", "chaos")
        self._flaky = redis.key("scenarios", "flaky")
        self._use_script = redis.script(_USE)
        self._flaky_script = redis.script(_FLAKY)

    def activate(
        self,
        chosen: Scenario,
        *,
        key: str | None = None,
        operation: str | None = None,
        count: int | None = None,
    ) -> ActiveScenario:
        active = ActiveScenario.new(chosen, key, operation, count)
        value = dumps({"scenario": chosen.name, "params": chosen.params, "key": active.key,
                       "operation": active.operation, "created_at": active.created_at})  # fmt: skip
        with self.redis.guard(), self.redis.client.pipeline(transaction=True) as pipe:
            pipe.hset(self._active, active.id, value)
            if count is not None:
                pipe.hset(self._remaining, active.id, count)
            pipe.execute()
        return active

    def active(self) -> list[ActiveScenario]:
        """Also reads chaos in the same round trip: every request asks for both, one after
        the other, so within a request ``chaos()`` answers from this read (see ``chaos``)."""
        with self.redis.guard(), self.redis.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._active).hgetall(self._remaining).get(self._chaos)
            stored, remaining, chaos = pipe.execute()
        if has_request_context():
            g.sandbox_chaos = chaos
        found = []
        for raw_id, raw in stored.items():
            value = loads(raw)
            left = remaining.get(raw_id)
            uses = int(left) if left is not None else None
            if uses is not None and uses <= 0:
                continue
            chosen = scenario(value["scenario"], value["params"])
            found.append(
                ActiveScenario(
                    raw_id.decode(),
                    chosen,
                    value["key"],
                    value["operation"],
                    uses,
                    value["created_at"],
                )
            )
        return sorted(found, key=lambda a: a.created_at)

    def clear(self, scenario_id: str | None = None) -> int:
        with self.redis.guard(), self.redis.client.pipeline(transaction=True) as pipe:
            if scenario_id is None:
                count, *_ = pipe.hlen(self._active).delete(self._active, self._remaining).execute()
                return int(count)
            pipe.hdel(self._active, scenario_id).hdel(self._remaining, scenario_id)
            return int(pipe.execute()[0])

    def _use(self, scenario_id: str) -> bool:
        with self.redis.guard():
            return bool(self._use_script(keys=[self._active, self._remaining], args=[scenario_id]))

    def chaos(self) -> Chaos:
        """Read with the scenarios when this request read those (one round trip for both),
        else now."""
        if has_request_context() and "sandbox_chaos" in g:
            raw = g.pop("sandbox_chaos")
        else:
            with self.redis.guard():
                raw = self.redis.client.get(self._chaos)
        return self.default_chaos if raw is None else chaos_from(json.loads(raw))

    def set_chaos(self, chaos: Chaos) -> None:
        if has_request_context():
            g.pop("sandbox_chaos", None)  # this request's read is stale now
        value = json.dumps({"error_rate": chaos.error_rate,
                            "latency_ms": [round(v * 1000, 3) for v in chaos.latency],
                            "statuses": list(chaos.statuses)})  # fmt: skip
        with self.redis.guard():
            self.redis.client.set(self._chaos, value)

    def flaky_fails(self, identity: str, fails: int) -> bool:
        with self.redis.guard():
            return bool(self._flaky_script(keys=[self._flaky], args=[identity, fails]))

    def reset(self) -> None:
        """Scoped scenarios, flaky counts and chaos back to the settings."""
        if has_request_context():
            g.pop("sandbox_chaos", None)
        self.redis.clear("scenarios")
