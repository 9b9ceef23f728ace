"""The sandbox's own random secret, from which its default credentials are derived.

The banner's API key, its OAuth client and the callback signing secret must survive a
restart (clients keep them in their config), and must not be computable by anyone else: a
hash of public facts such as the spec's file name lets anyone who reads this code into a
sandbox listening on ``0.0.0.0``. So they are HMACs, under 32 random bytes made once and
kept where the sandbox keeps its state:

- beside the state file (``.sandbox/secret``, mode 0600), created atomically so worker
  processes that start together agree;
- in Redis (``sandbox:secret``, or ``<prefix>:secret`` with ``?prefix=``), set once with
  ``SET NX``, so every machine behind a load balancer derives the same keys;
- nowhere for a throwaway ``:memory:`` state: a new secret each start, like its records.

Deleting it changes every derived credential at the next start.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from hashlib import sha256
from pathlib import Path

from sandbox.errors import ConfigError

FILE_NAME = "secret"
_BYTES = 32


def derive(secret: bytes, purpose: str, spec_name: str) -> str:
    """Hex digits that stand for ``purpose`` of this spec's sandbox, stable per secret."""
    return hmac.new(secret, f"{purpose}\n{spec_name}".encode(), sha256).hexdigest()


def load_or_create(state: str, redis_url: str) -> bytes:
    if redis_url:
        return _in_redis(redis_url)
    if state == ":memory:":
        return secrets.token_bytes(_BYTES)
    return _in_file(Path(state).expanduser().parent / FILE_NAME)


def _in_file(path: Path) -> bytes:
    try:
        if not path.exists():
            _create(path)
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError) as exc:
        raise ConfigError(
            f"cannot keep the sandbox's secret in {path} ({exc}); the default credentials "
            "are derived from it. Make the state directory writable, or choose another "
            "with --state."
        ) from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < 16:
        raise ConfigError(
            f"{path} is not a sandbox secret ({_BYTES * 2} hex digits); delete it to make a "
            "new one (the banner's key and OAuth client then change)."
        )
    return secret


def _create(path: Path) -> None:
    """Written whole under a temporary name, then linked into place: a process that loses
    the race reads the winner's secret, never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(_BYTES) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: theirs counts
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _in_redis(url: str) -> bytes:
    from sandbox.errors import StorageError
    from sandbox.state.redis.connection import RedisState

    redis = RedisState(url, "sandbox")
    key = redis.key(FILE_NAME)
    try:
        redis.check()
        with redis.guard():
            redis.client.set(key, secrets.token_hex(_BYTES), nx=True)
            stored = redis.client.get(key)
    except StorageError as exc:
        raise ConfigError(str(exc)) from None
    finally:
        redis.close()
    try:
        return bytes.fromhex(stored.decode() if isinstance(stored, bytes) else str(stored))
    except ValueError:
        raise ConfigError(f"Redis key {key} is not a sandbox secret; delete it") from None
