"""``Idempotency-Key`` on POST, as payment APIs keep it.

The first request with a key runs and, when it succeeds, its response is kept for a day: a
retry with the same key and the same body gets that response again (``Idempotent-Replayed:
true``) and nothing runs twice. The same key with another body is a 409, and so is a retry
while the first is still running. Failures (4xx, 5xx) are not kept, so a retry after a 503
runs for real: that is what makes retrying safe.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox.jsonio import dumps, loads
from sandbox.state.sqlite.file import SQLiteFile

HEADER = "Idempotency-Key"
KEEP_SECONDS = 24 * 3600
ABANDONED_AFTER = 60.0  # a request still "running" this long ago died with its worker

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    tenant TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    status INTEGER, headers TEXT, body BLOB, created_at REAL NOT NULL,
    PRIMARY KEY (tenant, key)
);
"""


@dataclass(frozen=True)
class Kept:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Claim:
    """What a request with a key may do: run (``kept is None and conflict is None``), replay
    ``kept``, or answer 409 with ``conflict``."""

    kept: Kept | None = None
    conflict: str | None = None


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The same JSON in another key order is the same request."""
    try:
        canonical = json.dumps(loads(body), sort_keys=True).encode() if body.strip() else b""
    except ValueError:
        canonical = body
    return hashlib.sha256(b"%s %s\n%s" % (method.encode(), path.encode(), canonical)).hexdigest()


class IdempotencyKeys:
    def __init__(self, location: str | Path) -> None:
        self.file = SQLiteFile(location, _SCHEMA)

    def claim(self, tenant: str, key: str, print_: str) -> Claim:
        now = time.time()
        with self.file.write() as db:
            db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (now - KEEP_SECONDS,))
            row = db.execute(
                "SELECT fingerprint, status, headers, body, created_at FROM idempotency_keys "
                "WHERE tenant = ? AND key = ?",
                (tenant, key),
            ).fetchone()
            if row is not None:
                stored_print, status, headers, body, created_at = row
                if stored_print != print_:
                    return Claim(conflict="reused")
                if status is not None:
                    return Claim(kept=Kept(status, [tuple(h) for h in loads(headers)], body))
                if now - created_at < ABANDONED_AFTER:
                    return Claim(conflict="in_progress")
            db.execute(
                "INSERT OR REPLACE INTO idempotency_keys (tenant, key, fingerprint, created_at) "
                "VALUES (?, ?, ?, ?)",
                (tenant, key, print_, now),
            )
        return Claim()

    def finish(self, tenant: str, key: str, kept: Kept) -> None:
        """Keep a success for replays; forget anything else so a retry runs again."""
        with self.file.write() as db:
            if 200 <= kept.status < 300:
                db.execute(
                    "UPDATE idempotency_keys SET status = ?, headers = ?, body = ? "
                    "WHERE tenant = ? AND key = ?",
                    (kept.status, dumps(kept.headers), kept.body, tenant, key),
                )
            else:
                db.execute(
                    "DELETE FROM idempotency_keys WHERE tenant = ? AND key = ?", (tenant, key)
                )

    def reset(self) -> None:
        with self.file.write() as db:
            db.execute("DELETE FROM idempotency_keys")
