"""API keys made at runtime, in Redis: a key made on one machine works on every other."""

from __future__ import annotations

from sandbox.jsonio import dumps, loads
from sandbox.state.protocols import ApiKey
from sandbox.state.redis.connection import RedisState


class RedisKeys:
    """``<prefix>:keys``: a hash of key -> {plan, label, created_at}."""

    def __init__(self, redis: RedisState) -> None:
        self.redis = redis
        self._hash = redis.key("keys")

    def plan_of(self, key: str) -> str | None:
        with self.redis.guard():
            raw = self.redis.client.hget(self._hash, key)
        return str(loads(raw)["plan"]) if raw is not None else None

    def add(self, key: ApiKey) -> None:
        value = dumps({"plan": key.plan, "label": key.label, "created_at": key.created_at})
        with self.redis.guard():
            self.redis.client.hset(self._hash, key.key, value)

    def remove(self, key: str) -> bool:
        with self.redis.guard():
            return bool(self.redis.client.hdel(self._hash, key))

    def all(self) -> list[ApiKey]:
        with self.redis.guard():
            stored = self.redis.client.hgetall(self._hash)
        keys = []
        for key, raw in stored.items():
            value = loads(raw)
            keys.append(
                ApiKey(key.decode(), value["plan"], value["label"], int(value["created_at"]))
            )
        return sorted(keys, key=lambda k: (k.created_at or 0, k.key))
