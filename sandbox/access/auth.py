"""Enforcing the security requirements an operation declares.

A requirement list is a choice of alternatives; each alternative needs all of its schemes.
The sandbox's test API keys satisfy every scheme type (as an API key, a bearer token, or as
either half of HTTP Basic) with every scope, so one key from the banner works against any
spec. Access tokens from the sandbox's OAuth server carry scopes: where an operation offers
an OAuth alternative, a token must pass it, scopes and all, rather than slip through a
plain bearer alternative.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass, replace
from typing import Any

from sandbox.access.keys import KeyRing
from sandbox.access.oauth import (
    AccessTokens,
    OAuthClient,
    TokenRejected,
    looks_like_jwt,
    scheme_is_oauth,
)
from sandbox.config.settings import DEFAULT_PLAN
from sandbox.errors import ApiError
from sandbox.http.validation import RequestData
from sandbox.spec.model import Operation, Spec


@dataclass(frozen=True)
class Principal:
    """Who is calling: the identity rate limits and tenants are keyed by."""

    key: str
    scheme: str | None
    plan: str = DEFAULT_PLAN
    scopes: frozenset[str] | None = None  # None: an API key, which holds every scope
    client_id: str | None = None
    # who the credential names besides the key: HTTP Basic's user name where the password
    # is the key (Twilio's account SID), whose own record the API has (see ResourceEngine)
    name: str | None = None


ANONYMOUS = Principal(key="", scheme=None)


class _Missing(Exception):
    pass


class _Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message


class Authenticator:
    def __init__(
        self,
        spec: Spec,
        keys: KeyRing,
        tokens: AccessTokens | None = None,
        clients: dict[str, OAuthClient] | None = None,
    ) -> None:
        self.spec = spec
        self.keys = keys
        self.tokens = tokens
        self.clients = clients or {}
        self._oauth_offered: dict[str, bool] = {}

    def authenticate(self, operation: Operation, data: RequestData) -> Principal:
        """The principal, or an ApiError: 401 for missing or bad credentials, 403 for a
        token without the scopes the operation needs."""
        requirements = operation.security
        if not requirements:
            return ANONYMOUS
        invalid: _Invalid | None = None
        short_of: list[str] | None = None
        oauth_offered = self._oauth_offered.get(operation.operation_id)
        if oauth_offered is None:
            oauth_offered = self._oauth_offered[operation.operation_id] = self._offers_oauth(
                requirements
            )
        for alternative in requirements:
            if not alternative:
                continue  # optional security: the caller is still identified if it can be
            try:
                principal = self._satisfy(alternative, data)
            except _Invalid as exc:
                invalid = invalid or exc
                continue
            except _Missing:
                continue
            if principal.scopes is None or not oauth_offered:
                return principal
            needed = self._scopes_needed(alternative)
            if needed is None:
                continue  # a token must pass one of the OAuth alternatives
            lacking = [scope for scope in needed if scope not in principal.scopes]
            if not lacking:
                return principal
            short_of = short_of or lacking
        if not all(requirements):
            return ANONYMOUS
        challenge = self._challenge(requirements)
        if short_of is not None:
            scopes = " ".join(short_of)
            raise ApiError(
                403,
                "insufficient_scope",
                f"The access token lacks the scope this operation needs: {scopes}. "
                "Request it from the token endpoint (scope parameter).",
                headers={"WWW-Authenticate": f'Bearer realm="sandbox", '
                         f'error="insufficient_scope", scope="{scopes}"'},
            )  # fmt: skip
        if invalid is not None:
            if invalid.code in ("token_expired", "invalid_token"):
                description = invalid.message.replace('"', "'")
                challenge = {"WWW-Authenticate": 'Bearer realm="sandbox", error="invalid_token", '
                             f'error_description="{description}"'}  # fmt: skip
            raise ApiError(401, invalid.code, invalid.message, headers=challenge)
        raise ApiError(
            401,
            "authentication_required",
            "Missing credentials: " + self._how_to(requirements),
            headers=challenge,
        )

    def _offers_oauth(self, requirements: list[dict[str, Any]]) -> bool:
        return any(
            scheme_is_oauth(self.spec.security_schemes.get(name))
            for alternative in requirements
            for name in alternative
        )

    def _scopes_needed(self, alternative: dict[str, Any]) -> list[str] | None:
        """The scopes an alternative's OAuth schemes ask for; None if it has no OAuth scheme."""
        oauth = [
            scopes or []
            for name, scopes in alternative.items()
            if scheme_is_oauth(self.spec.security_schemes.get(name))
        ]
        return [scope for scopes in oauth for scope in scopes] if oauth else None

    def _satisfy(self, alternative: dict[str, Any], data: RequestData) -> Principal:
        principal = ANONYMOUS
        for name in alternative:
            scheme = self.spec.security_schemes.get(name)
            if scheme is None or scheme.get("type") == "mutualTLS":
                continue  # client certificates are the TLS terminator's business
            credential = _credential(scheme, data)
            if credential is None:
                raise _Missing
            principal = self._known(credential, name)
            if _is_basic(scheme) and principal.key == credential[-1] and credential[0]:
                principal = replace(principal, name=credential[0])  # the key as password
        return principal

    def _known(self, credential: tuple[str, ...], scheme: str) -> Principal:
        for part in credential:
            plan = self.keys.plan_of(part) if part else None
            if plan is not None:
                return Principal(part, scheme, plan)
        if self.tokens is not None and len(credential) == 1 and looks_like_jwt(credential[0]):
            return self._token_principal(credential[0], scheme)
        raise _Invalid(
            "invalid_api_key",
            "The credential is not a known sandbox key or token. Use the key printed "
            "in the sandbox banner (or create one with `sandbox keys create`), or an "
            "access token from the sandbox's token endpoint.",
        )

    def _token_principal(self, token: str, scheme: str) -> Principal:
        assert self.tokens is not None
        try:
            claims = self.tokens.verify(token)
        except TokenRejected as exc:
            raise _Invalid(exc.code, exc.message) from None
        client = self.clients.get(claims.client_id)
        if client is None:
            raise _Invalid(
                "invalid_token", "The token's client is no longer configured in this sandbox."
            )
        return Principal(client.identity, scheme, client.plan, claims.scopes, client.client_id)

    def _challenge(self, requirements: list[dict[str, Any]]) -> dict[str, str]:
        for alternative in requirements:
            for name in alternative:
                scheme = self.spec.security_schemes.get(name) or {}
                kind, http_scheme = scheme.get("type"), str(scheme.get("scheme", "")).lower()
                if kind == "http" and http_scheme == "basic":
                    return {"WWW-Authenticate": 'Basic realm="sandbox"'}
                if kind == "http" and http_scheme not in ("", "bearer"):
                    return {"WWW-Authenticate": _other_challenge(http_scheme)}
                if kind == "apiKey":
                    where = f'{scheme.get("in")}="{scheme.get("name")}"'
                    return {"WWW-Authenticate": f'ApiKey realm="sandbox", {where}'}
        return {"WWW-Authenticate": 'Bearer realm="sandbox"'}

    def _how_to(self, requirements: list[dict[str, Any]]) -> str:
        ways = []
        for alternative in requirements:
            for name in alternative:
                scheme = self.spec.security_schemes.get(name) or {}
                if scheme.get("type") == "apiKey":
                    ways.append(f"the {scheme.get('in')} {scheme.get('name')!r}")
                elif str(scheme.get("scheme", "")).lower() == "basic":
                    ways.append("HTTP Basic credentials")
                elif _other_http(scheme):
                    name = _scheme_title(str(scheme["scheme"]))
                    ways.append(f"an 'Authorization: {name} <key>' header")
                else:
                    ways.append("an 'Authorization: Bearer <key>' header")
        return "send " + " or ".join(dict.fromkeys(ways)) + "."


def _credential(scheme: dict[str, Any], data: RequestData) -> tuple[str, ...] | None:
    """The candidate secrets a request carries for one scheme, or None if it carries none."""
    kind = scheme.get("type")
    if kind == "apiKey":
        name, where = str(scheme.get("name", "")), scheme.get("in")
        if where == "header":
            value = data.headers.get(name)
        elif where == "query":
            value = data.query.get(name)
        else:
            value = data.cookies.get(name)
        return (value,) if value else None
    authorization = data.headers.get("Authorization", "")
    prefix, _, value = authorization.partition(" ")
    if _is_basic(scheme):
        if prefix.lower() != "basic" or not value:
            return None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return ("",)
        return (user, password)
    if _other_http(scheme):  # Digest, HOBA, Negotiate, ...: the key through that scheme
        if prefix.lower() != str(scheme["scheme"]).lower() or not value.strip():
            return None
        return (value.strip(), *_auth_param_values(value))
    if prefix.lower() != "bearer" or not value.strip():
        return None
    return (value.strip(),)


def _is_basic(scheme: dict[str, Any]) -> bool:
    return scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "basic"


def _other_http(scheme: dict[str, Any]) -> bool:
    """An ``http`` scheme other than Basic and Bearer (IANA's registry: Digest, HOBA, ...)."""
    name = str(scheme.get("scheme", "")).strip().lower()
    return scheme.get("type") == "http" and name not in ("", "basic", "bearer")


def _auth_param_values(credentials: str) -> tuple[str, ...]:
    """The values of an auth-param list (``username="sk_test_…", realm="sandbox", …``), so a
    Digest client can carry the key as its username."""
    from werkzeug.http import parse_dict_header

    if "=" not in credentials:
        return ()
    return tuple(v for v in parse_dict_header(credentials).values() if isinstance(v, str) and v)


def _scheme_title(name: str) -> str:
    return name[:1].upper() + name[1:].lower() if name.isalpha() else name


def _other_challenge(name: str) -> str:
    """A challenge in the declared scheme; Digest's with what RFC 7616 requires."""
    if name == "digest":
        nonce = secrets.token_hex(16)
        return f'Digest realm="sandbox", qop="auth", algorithm=SHA-256, nonce="{nonce}"'
    return f'{_scheme_title(name)} realm="sandbox"'
