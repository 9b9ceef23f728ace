"""The JWT signing key in Redis: made by whichever process starts first (SET NX), read by
every other, so a token signed by one machine verifies at every other."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from sandbox.jsonio import dumps, loads
from sandbox.state.redis.connection import RedisState


class RedisSigningKeys:
    """``<prefix>:oauth:signing-key:<algorithm>``."""

    def __init__(self, redis: RedisState) -> None:
        self.redis = redis

    def load_or_create(self, algorithm: str, make: Callable[[], bytes]) -> tuple[str, bytes]:
        key = self.redis.key("oauth", "signing-key", algorithm)
        with self.redis.guard():
            raw = self.redis.client.get(key)
            if raw is None:
                made = {"kid": "sandbox-" + secrets.token_hex(4), "pem": make().decode()}
                self.redis.client.set(key, dumps(made), nx=True)
                raw = self.redis.client.get(key)  # ours, or the one another process won with
        stored = loads(raw)
        return str(stored["kid"]), str(stored["pem"]).encode()
