"""Authorization codes and refresh tokens in the state file, so any worker redeems what
another issued and a restart logs nobody out."""

from __future__ import annotations

import time

from sandbox.errors import GrantRejected
from sandbox.state.protocols import Grant
from sandbox.state.sqlite.file import SQLiteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS oauth_grants (
    token TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL,
    subject TEXT NOT NULL, scope TEXT NOT NULL, redirect_uri TEXT,
    challenge TEXT, challenge_method TEXT, family TEXT NOT NULL,
    expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS oauth_grants_family ON oauth_grants (family);
"""
_COLUMNS = (
    "token, kind, client_id, subject, scope, redirect_uri, challenge, challenge_method, family"
)
_LINGER = 600.0  # seconds an expired grant is kept, so a late replay is still recognised


class SQLiteGrants:
    def __init__(self, file: SQLiteFile) -> None:
        self.file = file
        file.adopt(SCHEMA)

    def add(self, grant: Grant, ttl: float) -> None:
        with self.file.write() as db:
            db.execute("DELETE FROM oauth_grants WHERE expires_at < ?", (time.time() - _LINGER,))
            db.execute(
                f"INSERT INTO oauth_grants ({_COLUMNS}, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    grant.token, grant.kind, grant.client_id, grant.subject, grant.scope,
                    grant.redirect_uri, grant.challenge, grant.challenge_method, grant.family,
                    time.time() + ttl,
                ),
            )  # fmt: skip

    def redeem(self, token: str, kind: str, client_id: str) -> Grant:
        noun = "authorization code" if kind == "code" else "refresh token"
        problem = None
        with self.file.write() as db:  # a rejection must not roll back the revocation
            row = db.execute(
                f"SELECT {_COLUMNS}, expires_at, used FROM oauth_grants "
                "WHERE token = ? AND kind = ?",
                (token, kind),
            ).fetchone()
            grant = Grant(*row[:9]) if row else None
            if row is None or grant is None:
                problem = f"The {noun} is unknown, revoked or expired."
            elif grant.client_id != client_id:
                problem = f"The {noun} was issued to another client."
            elif row[10]:
                db.execute("DELETE FROM oauth_grants WHERE family = ?", (grant.family,))
                problem = (
                    f"The {noun} was already used; every token issued from it is now "
                    "revoked. Start the flow again."
                )
            elif row[9] <= time.time():
                problem = f"The {noun} expired. Start the flow again."
            else:
                db.execute("UPDATE oauth_grants SET used = 1 WHERE token = ?", (token,))
        if problem or grant is None:
            raise GrantRejected(problem)
        return grant
