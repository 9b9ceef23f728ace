"""One Redis client per sandbox process, and the rules every Redis key follows.

Every key lives under one prefix derived from the spec (its file name and title), so
sandboxes of different specs can share one Redis and a reset clears only its own keys. Every
Redis failure leaves here as a ``StorageError``, which the app answers with a 503 and a
``Retry-After``, never a 500.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sandbox.errors import ConfigError, StorageError
from sandbox.state.redis.versions import RedisVersions

INSTALL_HINT = "pip install 'openapi-sandbox[redis]'"
_PREFIX = re.compile(r"[A-Za-z0-9_.:-]+")  # no glob characters: prefixes go into SCAN patterns
_SOCKET_TIMEOUT = 5.0  # a Redis that hangs answers 503 after this, not never
_CONNECT_TIMEOUT = 2.0


def load_redis() -> Any:
    """The redis package, or a ConfigError telling the user how to install it."""
    try:
        import redis
    except ImportError:
        raise ConfigError(
            f"the redis setting (--redis) needs the redis package: {INSTALL_HINT}"
        ) from None
    return redis


def spec_prefix(spec: Path, title: str) -> str:
    """``sandbox:<file stem>-<8 hex digits of file name and title>``: the same on every
    machine serving the same spec, different for another spec even if both are openapi.yaml."""
    stem = re.sub(r"[^a-z0-9]+", "-", spec.stem.lower()).strip("-") or "spec"
    digest = hashlib.sha256(f"{spec.name}\n{title}".encode()).hexdigest()[:8]
    return f"sandbox:{stem}-{digest}"


def split_url(url: str) -> tuple[str, str | None]:
    """The URL for redis-py, and the ``prefix`` query parameter if the user gave one
    (``redis://host:6379/0?prefix=team-a`` overrides the prefix derived from the spec)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = [value for name, value in query if name == "prefix"]
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    prefix = given[-1] if given else None
    if prefix is not None and not _PREFIX.fullmatch(prefix):
        raise ConfigError(f"redis: prefix {prefix!r} may use letters, digits and _ . : - only")
    return urlunsplit(parts._replace(query=rest)), prefix


def shown_url(url: str) -> str:
    """The URL with any password replaced, for messages and the banner."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def part(text: str) -> str:
    """One key component that cannot run into the next: ``%`` and ``:`` escaped."""
    return text.replace("%", "%25").replace(":", "%3A")


class RedisState:
    """The client (a thread-safe pool that reconnects by itself, also after a fork), the
    prefix, and ``guard()``, which every Redis call of every component runs inside."""

    def __init__(self, url: str, prefix: str) -> None:
        redis = load_redis()
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        plain_url, given = split_url(url)
        self.url = plain_url
        self.shown = shown_url(plain_url)
        self.prefix = given or prefix
        self.versions = RedisVersions(self)  # the change counters of every component
        self._errors: type[Exception] = redis.RedisError
        self._unreachable: tuple[type[Exception], ...] = (
            redis.ConnectionError,
            redis.TimeoutError,
        )
        try:
            self.client = redis.Redis.from_url(
                plain_url,
                socket_timeout=_SOCKET_TIMEOUT,
                socket_connect_timeout=_CONNECT_TIMEOUT,
                # one quick reconnect covers a pooled connection a Redis restart closed; a
                # Redis that is down must answer 503 at once, not after seconds of backoff
                retry=Retry(
                    ExponentialBackoff(cap=0.2, base=0.02), 1,
                    supported_errors=(redis.ConnectionError,),
                ),
            )  # fmt: skip
        except ValueError as exc:
            raise ConfigError(
                f"redis: {self.shown!r} is not a Redis URL ({exc}); write it like "
                "redis://localhost:6379/0"
            ) from None

    def key(self, *parts: str) -> str:
        """``<prefix>:a:b``; callers escape components that come from users with ``part``."""
        return ":".join((self.prefix, *parts))

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Redis failures become StorageError (a 503 with Retry-After for the client)."""
        try:
            yield
        except self._unreachable as exc:
            raise StorageError(f"cannot reach Redis at {self.shown} ({exc})") from None
        except self._errors as exc:
            raise StorageError(f"Redis at {self.shown} failed: {exc}") from None

    def check(self) -> None:
        """At start-up: a clear message when Redis is not there."""
        try:
            self.client.ping()
        except self._errors as exc:
            raise StorageError(
                f"cannot reach Redis at {self.shown}: is redis-server running? ({exc})"
            ) from None

    def script(self, source: str) -> Any:
        """A Lua script, sent once and then called by its digest (reloaded after a restart)."""
        return self.client.register_script(source)

    def clear(self, *areas: str) -> int:
        """Delete ``<prefix>:<area>`` and every key under it, for each area; nothing else.
        SCAN, not KEYS, so a big shared Redis is not blocked."""
        deleted = 0
        with self.guard():
            for area in areas:
                base = self.key(area)
                batch: list[bytes | str] = [base]
                for found in self.client.scan_iter(match=base + ":*", count=1000):
                    batch.append(found)
                    if len(batch) >= 1000:
                        deleted += self.client.unlink(*batch)
                        batch = []
                if batch:
                    deleted += self.client.unlink(*batch)
        return deleted

    def close(self) -> None:
        self.client.close()
