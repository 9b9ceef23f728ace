"""Authorization codes and refresh tokens, kept in the state (the state file, or Redis) so
any worker can redeem what another issued, and a restart does not log users out.

Codes are single-use and short-lived; refresh tokens rotate on every use. Presenting a used
code or refresh token again revokes everything issued from the same grant (RFC 6749 §10.5,
OAuth 2.0 Security BCP §4.14): a replay means one of the copies was stolen. The store does
that in one atomic step (``GrantStore.redeem``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sandbox.state.protocols import Grant, GrantStore

__all__ = ["CODE_TTL", "REFRESH_TTL", "Grant", "Grants", "pkce_matches"]

CODE_TTL = 600
REFRESH_TTL = 30 * 24 * 3600


class Grants:
    def __init__(self, store: GrantStore) -> None:
        self.store = store

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
        self.store.add(grant, CODE_TTL)
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
        self.store.add(grant, REFRESH_TTL)
        return grant.token

    def redeem(self, token: str, kind: str, client_id: str) -> Grant:
        """Use a code or refresh token once; a second use revokes its whole family."""
        return self.store.redeem(token, kind, client_id)


def pkce_matches(verifier: str, challenge: str, method: str | None) -> bool:
    if (method or "plain") == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        expected = verifier
    return hmac.compare_digest(expected.encode(), challenge.encode())
