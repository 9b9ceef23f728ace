"""Idempotency keys in the state file: the claim is one write transaction, so two requests
with one key cannot both run, whichever workers they reach."""

from __future__ import annotations

import time

from sandbox.jsonio import dumps, loads
from sandbox.state.protocols import Claim, Kept
from sandbox.state.sqlite.file import SQLiteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    tenant TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    status INTEGER, headers TEXT, body BLOB, created_at REAL NOT NULL,
    PRIMARY KEY (tenant, key)
);
"""


class SQLiteIdempotency:
    def __init__(self, file: SQLiteFile) -> None:
        self.file = file
        file.adopt(SCHEMA)

    def claim(
        self, tenant: str, key: str, fingerprint: str, *, keep_for: float, abandoned_after: float
    ) -> Claim:
        now = time.time()
        with self.file.write() as db:
            db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (now - keep_for,))
            row = db.execute(
                "SELECT fingerprint, status, headers, body, created_at FROM idempotency_keys "
                "WHERE tenant = ? AND key = ?",
                (tenant, key),
            ).fetchone()
            if row is not None:
                stored_print, status, headers, body, created_at = row
                if stored_print != fingerprint:
                    return Claim(conflict="reused")
                if status is not None:
                    return Claim(kept=Kept(status, [tuple(h) for h in loads(headers)], body))
                if now - created_at < abandoned_after:
                    return Claim(conflict="in_progress")
            db.execute(
                "INSERT OR REPLACE INTO idempotency_keys (tenant, key, fingerprint, created_at) "
                "VALUES (?, ?, ?, ?)",
                (tenant, key, fingerprint, now),
            )
        return Claim()

    def keep(self, tenant: str, key: str, kept: Kept) -> None:
        with self.file.write() as db:
            db.execute(
                "UPDATE idempotency_keys SET status = ?, headers = ?, body = ? "
                "WHERE tenant = ? AND key = ?",
                (kept.status, dumps(kept.headers), kept.body, tenant, key),
            )

    def forget(self, tenant: str, key: str) -> None:
        with self.file.write() as db:
            db.execute("DELETE FROM idempotency_keys WHERE tenant = ? AND key = ?", (tenant, key))

    def clear(self) -> None:
        with self.file.write() as db:
            db.execute("DELETE FROM idempotency_keys")
