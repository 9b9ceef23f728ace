"""Access tokens: JWTs signed with a key pair the sandbox keeps in its state (file or Redis).

The key is made on first start and stored, so tokens survive a restart and every worker (and
machine, with Redis) signs and verifies with the same key; clients verify with the public half
from the JWKS. Verified tokens are cached per process, because an RSA check on every request
costs more than the rest of the auth stage together.

The key pair is read (or made) on the first token issued or checked, not at start-up, and
PyJWT and cryptography are imported then: making an RSA key takes 0.1-0.3 s and the two
imports about 0.05 s, which every start paid although most specs never see a token.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from sandbox.errors import ConfigError, TokenRejected
from sandbox.state.protocols import SigningKeyStore

ALGORITHMS = {"RS256": "RSA", "ES256": "EC"}

_CACHE_LIMIT = 10_000


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    client_id: str
    scopes: frozenset[str]
    expires_at: int


class AccessTokens:
    def __init__(
        self,
        keys: SigningKeyStore,
        *,
        algorithm: str,
        ttl: int,
        audience: str,
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise ConfigError(
                f"token_algorithm {algorithm!r} is not supported; use one of "
                + ", ".join(ALGORITHMS)
            )
        if ttl < 1:
            raise ConfigError(f"token_ttl must be at least 1 second, not {ttl}")
        self.algorithm, self.ttl, self.audience = algorithm, ttl, audience
        self._keys = keys
        self._pair: tuple[str, Any, Any] | None = None  # kid, private key, public key
        self._pair_lock = threading.Lock()
        self._verified: dict[str, TokenClaims] = {}

    def _key_pair(self) -> tuple[str, Any, Any]:
        """(kid, private, public): the stored pair, made by the first worker to ask."""
        pair = self._pair
        if pair is None:
            with self._pair_lock:
                if self._pair is None:
                    from cryptography.hazmat.primitives import serialization

                    algorithm = self.algorithm
                    kid, pem = self._keys.load_or_create(
                        algorithm, lambda: _new_private_pem(algorithm)
                    )
                    private: Any = serialization.load_pem_private_key(pem, password=None)
                    self._pair = (kid, private, private.public_key())  # RSA or EC
                pair = self._pair
        return pair

    def issue(self, *, subject: str, client_id: str, scopes: list[str], issuer: str) -> str:
        import jwt

        kid, private, _public = self._key_pair()
        now = int(time.time())
        claims = {
            "iss": issuer,
            "sub": subject,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            "jti": secrets.token_hex(8),
            "client_id": client_id,
            "scope": " ".join(scopes),
        }
        return jwt.encode(claims, private, algorithm=self.algorithm,
                          headers={"kid": kid})  # fmt: skip

    def verify(self, token: str) -> TokenClaims:
        """The token's claims, or TokenRejected: ``token_expired`` or ``invalid_token``."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self._verified) >= _CACHE_LIMIT:
                self._verified.clear()
            self._verified[token] = claims
        if claims.expires_at <= time.time():
            raise TokenRejected(
                "token_expired",
                "The access token expired; get a new one from the token endpoint "
                "(or use your refresh_token).",
            )
        return claims

    def _decode(self, token: str) -> TokenClaims:
        import jwt

        public = self._key_pair()[2]
        try:
            claims = jwt.decode(
                token,
                public,
                algorithms=[self.algorithm],
                audience=self.audience,
                options={"verify_exp": False, "require": ["exp", "sub", "aud"]},
            )
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(
                "invalid_token",
                f"The access token is not one this sandbox issued or it was altered ({exc}).",
            ) from None
        return TokenClaims(
            subject=str(claims["sub"]),
            client_id=str(claims.get("client_id", "")),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            expires_at=int(claims["exp"]),
        )

    def jwks(self) -> dict[str, Any]:
        import jwt.algorithms

        kid, _private, public = self._key_pair()
        jwk = jwt.algorithms.get_default_algorithms()[self.algorithm].to_jwk(public, as_dict=True)
        return {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": self.algorithm}]}


def looks_like_jwt(credential: str) -> bool:
    return credential.count(".") == 2 and credential.startswith("ey")


def _new_private_pem(algorithm: str) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if ALGORITHMS[algorithm] == "RSA":
        key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
