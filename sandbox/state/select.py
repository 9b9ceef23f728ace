"""Where each piece of shared state lives, decided once per process from the settings.

By default everything is in the SQLite state file (``state``), which the worker processes of
one machine share. With ``redis`` set (``--redis redis://host:6379/0``) everything is in that
Redis instead, so several sandbox processes, on one machine or many behind a load balancer,
act as one sandbox: records, rate-limit counters, API keys, OAuth codes, refresh tokens and
the signing key, webhook subscriptions and deliveries, idempotency keys, scenarios and chaos,
and the request journal.

``Sandbox.__init__`` and the CLI open every component through ``open_backend``; both
backends return objects with the same public methods, so nothing else needs to know which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.access.keys import KeyRing
from sandbox.access.oauth.grants import GrantStore
from sandbox.access.oauth.tokens import SigningKeys, SQLiteSigningKeys
from sandbox.http.idempotency import IdempotencyKeys
from sandbox.observe.journal import Journal
from sandbox.scenarios.board import ScenarioBoard
from sandbox.scenarios.chaos import Chaos
from sandbox.state import SQLiteStore, StateStore, open_store
from sandbox.state.sqlite.counters import open_counters
from sandbox.webhooks.outbox import Outbox
from sandbox.webhooks.subscriptions import SubscriptionTable

if TYPE_CHECKING:
    from limits.storage import Storage

    from sandbox.config.settings import Settings
    from sandbox.state.redis.connection import RedisState
    from sandbox.state.redis.outbox import RedisOutbox
    from sandbox.state.redis.subscriptions import RedisSubscriptionTable


class SQLiteBackend:
    """Everything in the state file (``settings.state``); rate-limit counters as
    ``rate_limit_storage`` says."""

    def __init__(self, settings: Settings, title: str = "") -> None:
        self.settings = settings
        self.title = title

    def describe(self) -> str:
        return self.settings.state

    def store(self) -> StateStore:
        return open_store(self.settings.state)

    def counters(self) -> Storage:
        settings = self.settings
        return open_counters(
            settings.rate_limit_storage, settings.state, settings.workers,
            prefix=_prefix(settings, self.title),
        )  # fmt: skip

    def key_ring(self, fixed: dict[str, str]) -> KeyRing:
        return KeyRing(fixed, self.settings.state)

    def outbox(self, store: StateStore | None, *, ordered: bool) -> Outbox:
        """On the resource store's own file when there is one: a change and its webhook
        events are then written in one transaction."""
        location = store.file if isinstance(store, SQLiteStore) else self.settings.state
        return Outbox(location, ordered=ordered)

    def subscriptions(self) -> SubscriptionTable:
        return SubscriptionTable(self.settings.state)

    def journal(self, capacity: int) -> Journal:
        return Journal(self.settings.state, capacity)

    def idempotency(self) -> IdempotencyKeys:
        return IdempotencyKeys(self.settings.state)

    def scenario_board(self, default_chaos: Chaos) -> ScenarioBoard:
        return ScenarioBoard(self.settings.state, default_chaos)

    def grants(self) -> GrantStore:
        return GrantStore(self.settings.state)

    def signing_keys(self) -> SigningKeys:
        return SQLiteSigningKeys(self.settings.state)


class RedisBackend:
    """Everything in one Redis, under the spec's prefix. Opening it checks that Redis
    answers, so a wrong URL or a stopped server is a clear error at start-up."""

    def __init__(self, settings: Settings, title: str = "") -> None:
        from sandbox.state.redis.connection import RedisState

        self.settings = settings
        self.redis: RedisState = RedisState(settings.redis, _prefix(settings, title))
        self.redis.check()

    def describe(self) -> str:
        return f"Redis {self.redis.shown} (keys under {self.redis.prefix}:)"

    def store(self) -> StateStore:
        from sandbox.state.redis.records import RedisStore

        return RedisStore(self.redis)

    def counters(self) -> Storage:
        settings = self.settings
        return open_counters(
            settings.rate_limit_storage, settings.state, settings.workers,
            redis=self.redis, prefix=self.redis.prefix,
        )  # fmt: skip

    def key_ring(self, fixed: dict[str, str]) -> KeyRing:
        from sandbox.state.redis.keys import RedisKeyRing

        return RedisKeyRing(fixed, self.redis)

    def outbox(self, store: StateStore | None, *, ordered: bool) -> RedisOutbox:
        from sandbox.state.redis.outbox import RedisOutbox

        return RedisOutbox(self.redis, ordered=ordered)

    def subscriptions(self) -> RedisSubscriptionTable:
        from sandbox.state.redis.subscriptions import RedisSubscriptionTable

        return RedisSubscriptionTable(self.redis)

    def journal(self, capacity: int) -> Journal:
        from sandbox.state.redis.journal import RedisJournal

        return RedisJournal(self.redis, capacity)

    def idempotency(self) -> IdempotencyKeys:
        from sandbox.state.redis.idempotency import RedisIdempotencyKeys

        return RedisIdempotencyKeys(self.redis)

    def scenario_board(self, default_chaos: Chaos) -> ScenarioBoard:
        from sandbox.state.redis.scenarios import RedisScenarioBoard

        return RedisScenarioBoard(self.redis, default_chaos)

    def grants(self) -> GrantStore:
        from sandbox.state.redis.grants import RedisGrantStore

        return RedisGrantStore(self.redis)

    def signing_keys(self) -> SigningKeys:
        from sandbox.state.redis.grants import RedisSigningKeys

        return RedisSigningKeys(self.redis)


Backend = SQLiteBackend | RedisBackend


def open_backend(settings: Settings, title: str = "") -> Backend:
    """Redis when ``settings.redis`` is set, else SQLite. ``title`` is the spec's
    ``info.title``: with the spec's file name it names the Redis prefix, so two specs can
    share one Redis and every machine serving the same spec finds the same keys."""
    if settings.redis:
        return RedisBackend(settings, title)
    return SQLiteBackend(settings, title)


def _prefix(settings: Settings, title: str) -> str:
    from sandbox.state.redis.connection import spec_prefix

    return spec_prefix(settings.spec, title)
