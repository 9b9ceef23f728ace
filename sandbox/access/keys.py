"""Test API keys and their plans.

Keys come from two places: the settings (the banner's default key, ``api_keys``, ``keys``),
and keys created at runtime through ``POST /__sandbox/keys`` or ``sandbox keys create``.
Created keys are stored in the state file, so every worker process and the CLI see them.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sandbox.state.sqlite.file import SQLiteFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key TEXT PRIMARY KEY, plan TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class ApiKey:
    key: str
    plan: str
    label: str = ""
    created_at: int | None = None
    source: str = "created"  # or "settings"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class KeyRing:
    def __init__(self, fixed: dict[str, str], location: str | Path) -> None:
        self.fixed = dict(fixed)
        self.file = SQLiteFile(location, _SCHEMA)

    def plan_of(self, key: str) -> str | None:
        """The key's plan, or None when the sandbox does not know the key."""
        plan = self.fixed.get(key)
        if plan is not None:
            return plan
        if not key.startswith("sk_test_"):
            return None  # not one of ours: skip the lookup
        return self._created_plan(key)

    def _created_plan(self, key: str) -> str | None:
        with self.file.guard():
            row = self.file.db.execute("SELECT plan FROM api_keys WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def create(self, plan: str, label: str = "") -> ApiKey:
        key = ApiKey("sk_test_" + secrets.token_hex(12), plan, label, int(time.time()))
        with self.file.write() as db:
            db.execute(
                "INSERT INTO api_keys (key, plan, label, created_at) VALUES (?, ?, ?, ?)",
                (key.key, key.plan, key.label, key.created_at),
            )
        return key

    def revoke(self, key: str) -> bool:
        with self.file.write() as db:
            return db.execute("DELETE FROM api_keys WHERE key = ?", (key,)).rowcount > 0

    def all(self) -> list[ApiKey]:
        listed = [ApiKey(key, plan, source="settings") for key, plan in self.fixed.items()]
        return listed + self._created()

    def _created(self) -> list[ApiKey]:
        """Keys created at runtime, oldest first."""
        with self.file.guard():
            rows = self.file.db.execute(
                "SELECT key, plan, label, created_at FROM api_keys ORDER BY created_at, key"
            ).fetchall()
        return [ApiKey(key, plan, label, int(created)) for key, plan, label, created in rows]
