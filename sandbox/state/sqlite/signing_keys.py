"""The JWT signing key in the state file: made by the first worker to ask, under the write
lock, so every worker signs and verifies with the same key."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from sandbox.state.sqlite.file import SQLiteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY, algorithm TEXT NOT NULL, private_pem BLOB NOT NULL,
    created_at REAL NOT NULL
);
"""


class SQLiteSigningKeys:
    def __init__(self, file: SQLiteFile) -> None:
        self.file = file
        file.adopt(SCHEMA)

    def load_or_create(self, algorithm: str, make: Callable[[], bytes]) -> tuple[str, bytes]:
        query = "SELECT kid, private_pem FROM signing_keys WHERE algorithm = ? "
        query += "ORDER BY created_at DESC LIMIT 1"
        with self.file.write() as db:
            row = db.execute(query, (algorithm,)).fetchone()
            if row is None:
                kid = "sandbox-" + secrets.token_hex(4)
                pem = make()
                db.execute(
                    "INSERT INTO signing_keys VALUES (?, ?, ?, ?)",
                    (kid, algorithm, pem, time.time()),
                )
                row = (kid, pem)
        return str(row[0]), bytes(row[1])
