"""Sandbox state in one Redis, so several processes and machines act as one sandbox.

Each module is the twin of the SQLite module of the same name, implementing the same
protocol (``sandbox.state.protocols``). Keys live under a prefix per spec
(``connection.spec_prefix``), so sandboxes of different specs can share one Redis. Steps that
must be atomic are Lua scripts, so a single Redis or a primary is needed, not a Cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from limits.storage import Storage

from sandbox.state.redis.connection import RedisState
from sandbox.state.redis.grants import RedisGrants
from sandbox.state.redis.idempotency import RedisIdempotency
from sandbox.state.redis.journal import RedisJournal
from sandbox.state.redis.keys import RedisKeys
from sandbox.state.redis.outbox import RedisOutbox
from sandbox.state.redis.records import RedisRecords
from sandbox.state.redis.scenarios import RedisScenarios
from sandbox.state.redis.signing_keys import RedisSigningKeys
from sandbox.state.redis.subscriptions import RedisSubscriptions


class RedisBackend:
    """The ``Backend`` protocol on one Redis. Opening it checks that Redis answers, so a
    wrong URL or a stopped server is a clear error at start-up."""

    def __init__(self, redis: RedisState, counters: Callable[[], Storage]) -> None:
        self.redis = redis
        self.redis.check()
        self._counters = counters

    def describe(self) -> str:
        return f"Redis {self.redis.shown} (keys under {self.redis.prefix}:)"

    def records(self) -> RedisRecords:
        return RedisRecords(self.redis)

    def counters(self) -> Storage:
        return self._counters()

    def keys(self) -> RedisKeys:
        return RedisKeys(self.redis)

    def journal(self) -> RedisJournal:
        return RedisJournal(self.redis)

    def idempotency(self) -> RedisIdempotency:
        return RedisIdempotency(self.redis)

    def scenarios(self) -> RedisScenarios:
        return RedisScenarios(self.redis)

    def grants(self) -> RedisGrants:
        return RedisGrants(self.redis)

    def signing_keys(self) -> RedisSigningKeys:
        return RedisSigningKeys(self.redis)

    def subscriptions(self) -> RedisSubscriptions:
        return RedisSubscriptions(self.redis)

    def outbox(self, *, ordered: bool) -> RedisOutbox:
        return RedisOutbox(self.redis, ordered=ordered)

    def transaction(self) -> AbstractContextManager[Any]:
        """Each step is atomic (a Lua script); a change and its events are two such steps,
        so if Redis fails between them the change is kept and its event is not. Inside it,
        who listens is told by the counters the change's own script returned
        (``versions``): no round trip of its own."""
        return self.redis.versions.transaction()
