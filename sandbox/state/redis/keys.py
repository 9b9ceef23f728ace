"""API keys created at runtime, in Redis: a key made on one machine works on every other."""

from __future__ import annotations

import secrets
import time

from sandbox.access.keys import ApiKey, KeyRing
from sandbox.jsonio import dumps, loads
from sandbox.state.redis.connection import RedisState


class RedisKeyRing(KeyRing):
    """``<prefix>:keys``: a hash of key -> {plan, label, created_at}."""

    def __init__(self, fixed: dict[str, str], redis: RedisState) -> None:
        self.fixed = dict(fixed)
        self.redis = redis
        self._hash = redis.key("keys")

    def _created_plan(self, key: str) -> str | None:
        with self.redis.guard():
            raw = self.redis.client.hget(self._hash, key)
        return loads(raw)["plan"] if raw is not None else None

    def create(self, plan: str, label: str = "") -> ApiKey:
        key = ApiKey("sk_test_" + secrets.token_hex(12), plan, label, int(time.time()))
        value = dumps({"plan": plan, "label": label, "created_at": key.created_at})
        with self.redis.guard():
            self.redis.client.hset(self._hash, key.key, value)
        return key

    def revoke(self, key: str) -> bool:
        with self.redis.guard():
            return bool(self.redis.client.hdel(self._hash, key))

    def _created(self) -> list[ApiKey]:
        with self.redis.guard():
            stored = self.redis.client.hgetall(self._hash)
        keys = []
        for key, raw in stored.items():
            value = loads(raw)
            keys.append(
                ApiKey(key.decode(), value["plan"], value["label"], int(value["created_at"]))
            )
        return sorted(keys, key=lambda k: (k.created_at or 0, k.key))
