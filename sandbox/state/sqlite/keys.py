"""API keys made at runtime, in the state file: every worker process and the CLI see them."""

from __future__ import annotations

from sandbox.state.protocols import ApiKey
from sandbox.state.sqlite.file import SQLiteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key TEXT PRIMARY KEY, plan TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
"""


class SQLiteKeys:
    def __init__(self, file: SQLiteFile) -> None:
        self.file = file
        file.adopt(SCHEMA)

    def plan_of(self, key: str) -> str | None:
        with self.file.guard():
            row = self.file.db.execute("SELECT plan FROM api_keys WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def add(self, key: ApiKey) -> None:
        with self.file.write() as db:
            db.execute(
                "INSERT INTO api_keys (key, plan, label, created_at) VALUES (?, ?, ?, ?)",
                (key.key, key.plan, key.label, key.created_at),
            )

    def remove(self, key: str) -> bool:
        with self.file.write() as db:
            return db.execute("DELETE FROM api_keys WHERE key = ?", (key,)).rowcount > 0

    def all(self) -> list[ApiKey]:
        with self.file.guard():
            rows = self.file.db.execute(
                "SELECT key, plan, label, created_at FROM api_keys ORDER BY created_at, key"
            ).fetchall()
        return [ApiKey(key, plan, label, int(created)) for key, plan, label, created in rows]
