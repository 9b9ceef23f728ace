"""Authorization codes and refresh tokens, kept in the state file so any worker can redeem
what another issued, and a restart does not log users out.

Codes are single-use and short-lived; refresh tokens rotate on every use. Presenting a used
code or refresh token again revokes everything issued from the same grant (RFC 6749 §10.5,
OAuth 2.0 Security BCP §4.14): a replay means one of the copies was stolen.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox.errors import GrantRejected
from sandbox.state.sqlite.file import SQLiteFile

CODE_TTL = 600
REFRESH_TTL = 30 * 24 * 3600

_SCHEMA = """
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


@dataclass(frozen=True)
class Grant:
    token: str
    kind: str  # "code" or "refresh"
    client_id: str
    subject: str
    scope: str
    redirect_uri: str | None
    challenge: str | None
    challenge_method: str | None
    family: str


class GrantStore:
    def __init__(self, location: str | Path) -> None:
        self.file = SQLiteFile(location, _SCHEMA)

    def new_code(
        self,
        *,
        client_id: str,
        subject: str,
        scope: str,
        redirect_uri: str | None,
        challenge: str | None,
        challenge_method: str | None,
    ) -> str:
        grant = Grant(
            "ac_" + secrets.token_urlsafe(24), "code", client_id, subject, scope,
            redirect_uri, challenge, challenge_method, family=secrets.token_hex(8),
        )  # fmt: skip
        self._insert(grant, CODE_TTL)
        return grant.token

    def new_refresh_token(self, issued_from: Grant | None, **fields: str) -> str:
        """A refresh token in the family of ``issued_from`` (a code or an older refresh token),
        or in a new family (the password grant)."""
        family = issued_from.family if issued_from else secrets.token_hex(8)
        challenge = issued_from.challenge if issued_from else None
        grant = Grant(
            "rt_" + secrets.token_urlsafe(32), "refresh", fields["client_id"],
            fields["subject"], fields["scope"], None, challenge, None, family,
        )  # fmt: skip
        self._insert(grant, REFRESH_TTL)
        return grant.token

    def _insert(self, grant: Grant, ttl: int) -> None:
        with self.file.write() as db:
            db.execute("DELETE FROM oauth_grants WHERE expires_at < ?", (time.time() - CODE_TTL,))
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
        """Use a code or refresh token once; a second use revokes its whole family."""
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


def pkce_matches(verifier: str, challenge: str, method: str | None) -> bool:
    if (method or "plain") == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        expected = verifier
    return hmac.compare_digest(expected.encode(), challenge.encode())
