"""Webhook subscriptions made through ``/__sandbox/webhooks``, in Redis: made on one machine,
they hear events caused on any machine.

Every stored change asks who listens, and subscriptions change rarely: each process keeps a
copy and reads the hash again only after its change counter (``versions``) has moved."""

from __future__ import annotations

from typing import Any

from sandbox.jsonio import dumps, loads
from sandbox.state.protocols import Subscription
from sandbox.state.redis.connection import RedisState
from sandbox.state.redis.versions import Copy

_COUNTER = "subscriptions"


class RedisSubscriptions:
    """``<prefix>:subscriptions``: a hash of id -> the subscription as JSON."""

    def __init__(self, redis: RedisState) -> None:
        self.redis = redis
        self._hash = redis.key("subscriptions")
        self._versions = redis.versions
        self._all = Copy(redis.versions, _COUNTER, self._read_all)

    def add(self, subscription: Subscription) -> None:
        with self.redis.guard(), self.redis.client.pipeline(transaction=True) as pipe:
            pipe.hset(self._hash, subscription.id, _encode(subscription))
            self._versions.bump_in(pipe, _COUNTER)
            pipe.execute()

    def all(self) -> list[Subscription]:
        return list(self._all.get())

    def _read_all(self) -> list[Subscription]:
        with self.redis.guard():
            stored = self.redis.client.hgetall(self._hash)
        found = [_decode(raw) for raw in stored.values()]
        return sorted(found, key=lambda s: (s.created_at, s.id))

    def get(self, subscription_id: str) -> Subscription | None:
        with self.redis.guard():
            raw = self.redis.client.hget(self._hash, subscription_id)
        return _decode(raw) if raw is not None else None

    def remove(self, subscription_id: str) -> bool:
        with self.redis.guard(), self.redis.client.pipeline(transaction=True) as pipe:
            pipe.hdel(self._hash, subscription_id)
            self._versions.bump_in(pipe, _COUNTER)
            return bool(pipe.execute()[0])

    def rotate(self, subscription_id: str, new_secret: str, until: float) -> Subscription | None:
        """WATCH makes the read and the write one step: two rotations at once cannot lose a
        secret."""
        rotated: list[Subscription] = []

        def swap(pipe: Any) -> None:
            raw = pipe.hget(self._hash, subscription_id)
            if raw is None:
                return
            old = _decode(raw)
            new = Subscription(
                old.id, old.url, old.events, new_secret, old.scheme, old.active,
                previous_secret=old.secret, previous_until=until,
                created_at=old.created_at,
            )  # fmt: skip
            pipe.multi()
            pipe.hset(self._hash, subscription_id, _encode(new))
            self._versions.bump_in(pipe, _COUNTER)
            rotated.append(new)

        with self.redis.guard():
            self.redis.client.transaction(swap, self._hash)
        return rotated[-1] if rotated else None


def _encode(subscription: Subscription) -> bytes:
    return dumps({
        "id": subscription.id, "url": subscription.url, "events": list(subscription.events),
        "secret": subscription.secret, "scheme": subscription.scheme,
        "active": subscription.active, "previous_secret": subscription.previous_secret,
        "previous_until": subscription.previous_until, "created_at": subscription.created_at,
    })  # fmt: skip


def _decode(raw: bytes) -> Subscription:
    value = loads(raw)
    return Subscription(
        value["id"], value["url"], tuple(value["events"]), value["secret"], value["scheme"],
        value["active"], value["previous_secret"], value["previous_until"], value["created_at"],
    )  # fmt: skip
