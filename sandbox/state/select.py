"""The one place that decides where state lives: ``open_state``.

By default everything is in the SQLite state file (``state``), which the worker processes of
one machine share. With ``redis`` set (``--redis redis://host:6379/0``) everything is in that
Redis instead, so several sandbox processes, on one machine or many behind a load balancer,
act as one sandbox. Rate-limit counters follow ``rate_limit_storage``: ``auto`` is the
backend's own (Redis), or process memory with one worker (the fastest), or a SQLite file
beside the state when several workers must share; any `limits` storage URI works too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from limits import storage
from limits.errors import ConfigurationError
from limits.storage import Storage

from sandbox.errors import ConfigError
from sandbox.state.protocols import Backend
from sandbox.state.redis.connection import RedisState, spec_prefix
from sandbox.state.sqlite import SQLiteBackend
from sandbox.state.sqlite.counters import SQLiteLimitsStorage

_REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://", "unix://")


class StateSettings(Protocol):
    """What choosing a backend reads of the settings (``sandbox.config.Settings`` has it)."""

    spec: Path
    state: str
    redis: str
    rate_limit_storage: str
    workers: int


def open_state(settings: StateSettings, title: str = "") -> Backend:
    """Redis when ``settings.redis`` is set, else the SQLite state file. ``title`` is the
    spec's ``info.title``: with the spec's file name it names the Redis prefix, so two specs
    can share one Redis and every machine serving the same spec finds the same keys."""
    prefix = spec_prefix(settings.spec, title)
    if settings.redis:
        from sandbox.state.redis import RedisBackend

        redis = RedisState(settings.redis, prefix)
        return RedisBackend(redis, _counters(settings, redis, redis.prefix))
    return SQLiteBackend(settings.state, _counters(settings, None, prefix))


def _counters(
    settings: StateSettings, redis: RedisState | None, prefix: str
) -> Callable[[], Storage]:
    """How the counters are opened, checked now (a bad URI is a start-up error) and opened
    when the rate limiter asks."""
    kind = settings.rate_limit_storage
    if kind == "auto":
        if redis is not None:
            return lambda: _redis_counters(redis)
        kind = "memory" if settings.workers <= 1 else "sqlite"
    if kind == "memory":
        return storage.MemoryStorage
    if kind == "sqlite":
        state = settings.state
        location = state if state == ":memory:" else str(Path(state).with_name("ratelimits.sqlite"))
        return lambda: SQLiteLimitsStorage(location)
    if kind.startswith(_REDIS_SCHEMES):  # the sandbox's own Redis counters, on that Redis
        own = RedisState(kind.replace("redis+unix://", "unix://", 1), prefix)
        own.check()
        return lambda: _redis_counters(own)
    try:
        chosen = storage.storage_from_string(kind)
    except (ConfigurationError, ValueError) as exc:
        raise ConfigError(
            f"rate_limit_storage {kind!r} is not usable ({exc}); use auto, memory, sqlite or "
            "a limits storage URI such as redis://localhost:6379"
        ) from None
    if not isinstance(chosen, Storage):  # an async storage: the limiter runs in threads
        raise ConfigError(
            f"rate_limit_storage {kind!r} is an asyncio storage; use its synchronous URI"
        )
    return lambda: chosen


def _redis_counters(redis: RedisState) -> Storage:
    from sandbox.state.redis.counters import RedisCounters

    return RedisCounters(redis)
