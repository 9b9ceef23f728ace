"""Enforcing the security requirements an operation declares.

A requirement list is a choice of alternatives; each alternative needs all of its schemes.
The sandbox's test API keys satisfy every scheme type (as an API key, a bearer token, or as
either half of HTTP Basic), so one key from the banner works against any spec.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sandbox.error_bodies import ApiError
from sandbox.keys import KeyRing
from sandbox.ratelimit import DEFAULT_PLAN
from sandbox.spec import Operation, Spec
from sandbox.validation import RequestData


@dataclass(frozen=True)
class Principal:
    """Who is calling: the identity rate limits and tenants are keyed by."""

    key: str
    scheme: str | None
    plan: str = DEFAULT_PLAN


ANONYMOUS = Principal(key="", scheme=None)


class _Missing(Exception):
    pass


class _Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message


class Authenticator:
    def __init__(self, spec: Spec, keys: KeyRing) -> None:
        self.spec = spec
        self.keys = keys

    def authenticate(self, operation: Operation, data: RequestData) -> Principal:
        """The principal, or an ApiError (401) explaining what is missing or wrong."""
        requirements = operation.security
        if not requirements:
            return ANONYMOUS
        invalid: _Invalid | None = None
        for alternative in requirements:
            if not alternative:
                return ANONYMOUS
            try:
                return self._satisfy(alternative, data)
            except _Invalid as exc:
                invalid = invalid or exc
            except _Missing:
                continue
        challenge = self._challenge(requirements)
        if invalid is not None:
            raise ApiError(401, invalid.code, invalid.message, headers=challenge)
        raise ApiError(
            401,
            "authentication_required",
            "Missing credentials: " + self._how_to(requirements),
            headers=challenge,
        )

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
        return principal

    def _known(self, credential: tuple[str, ...], scheme: str) -> Principal:
        for part in credential:
            plan = self.keys.plan_of(part) if part else None
            if plan is not None:
                return Principal(part, scheme, plan)
        raise _Invalid(
            "invalid_api_key",
            "The credential is not a known sandbox key or token. Use the key printed "
            "in the sandbox banner (or create one with `sandbox keys create`).",
        )

    def _challenge(self, requirements: list[dict[str, Any]]) -> dict[str, str]:
        for alternative in requirements:
            for name in alternative:
                scheme = self.spec.security_schemes.get(name) or {}
                kind, http_scheme = scheme.get("type"), str(scheme.get("scheme", "")).lower()
                if kind == "http" and http_scheme == "basic":
                    return {"WWW-Authenticate": 'Basic realm="sandbox"'}
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
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
        if prefix.lower() != "basic" or not value:
            return None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return ("",)
        return (user, password)
    if prefix.lower() != "bearer" or not value.strip():
        return None
    return (value.strip(),)
