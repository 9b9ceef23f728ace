"""Where the run's bearer token comes from, beyond a fixed ``--bearer``.

- An OAuth 2.0 token endpoint: the client-credentials grant, or the password grant (a
  FastAPI app's ``OAuth2PasswordBearer``); its URL given, or the spec's own ``tokenUrl``
  (the login operation of the spec itself).
- A command (``--auth-command 'my-login-script'``) that prints a token, or the JSON a token
  endpoint answers.

Each token is fetched on first use and fetched again shortly before it expires: when the
answer says (``expires_in``), when the token says (a JWT's ``exp``), else after
``refresh_after`` seconds if given. Every token is registered with the run's secrets, so a
reproduction shows ``$SANDBOX_TOKEN``, never the token.
"""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin

import requests

from contracts.reproduce import Secrets
from contracts.target import polite
from sandbox.spec.model import Spec

EARLY = 30.0  # seconds: fetch a new token this long before the old one expires
TOKEN_VARIABLE = "SANDBOX_TOKEN"


class TokenError(RuntimeError):
    """No token could be had: a usage error (exit 2), not a contract failure."""


class TokenSource(Protocol):
    def token(self) -> str: ...

    def describe(self) -> str: ...


@dataclass
class _Cached:
    """A token and when to fetch the next one."""

    secrets: Secrets = field(default_factory=Secrets)
    refresh_after: float | None = None
    _token: str | None = field(default=None, init=False, repr=False)
    _expires_at: float = field(default=0.0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.time() > self._expires_at - EARLY:
                token, lifetime = self._fetch()
                self._token = token
                self._expires_at = time.time() + (lifetime or self.refresh_after or 10**9)
                self.secrets.add(token, TOKEN_VARIABLE, self.describe())
            return self._token

    def _fetch(self) -> tuple[str, float | None]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass
class OAuthGrant(_Cached):
    """A token endpoint: client credentials, or a user's password (RFC 6749 4.3/4.4)."""

    token_url: str = ""
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = None
    username: str | None = None
    password: str | None = None

    @property
    def grant(self) -> str:
        return "password" if self.username is not None else "client_credentials"

    def describe(self) -> str:
        return f"an access token from POST {self.token_url} (grant_type={self.grant})"

    def _fetch(self) -> tuple[str, float | None]:
        form = {"grant_type": self.grant}
        if self.username is not None:
            form.update(username=self.username, password=self.password or "")
        if self.scope:
            form["scope"] = self.scope
        headers = {"Accept": "application/json"}
        if self.client_id is not None:
            pair = f"{self.client_id}:{self.client_secret or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        try:
            answer = polite(requests.Session()).post(
                self.token_url, data=form, headers=headers, timeout=30
            )
        except requests.RequestException as exc:
            raise TokenError(f"cannot reach the token URL {self.token_url}: {exc}") from None
        payload = _json(answer.content)
        if answer.status_code != 200 or "access_token" not in payload:
            detail = payload.get("error_description") or payload.get("detail") or payload.get(
                "error") or answer.content[:200]  # fmt: skip
            raise TokenError(
                f"the token URL {self.token_url} answered {answer.status_code} to the "
                f"{self.grant} grant: {detail}"
            )
        return str(payload["access_token"]), _lifetime(payload)


@dataclass
class CommandToken(_Cached):
    """A token printed by a command: the token alone, or a token endpoint's JSON."""

    command: str = ""

    def describe(self) -> str:
        return f"the token printed by: {self.command}"

    def _fetch(self) -> tuple[str, float | None]:
        try:
            done = subprocess.run(
                self.command, shell=True, capture_output=True, text=True, timeout=120
            )
        except subprocess.TimeoutExpired:
            raise TokenError(f"--auth-command {shlex.quote(self.command)} ran over 120 s") from None
        output = done.stdout.strip()
        if done.returncode != 0 or not output:
            raise TokenError(
                f"--auth-command {shlex.quote(self.command)} exited {done.returncode} "
                f"printing {'nothing' if not output else 'a token'}: {done.stderr.strip()[:300]}"
            )
        payload = _json(output.encode())
        if "access_token" in payload:
            return str(payload["access_token"]), _lifetime(payload)
        token = output.splitlines()[-1].strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        return token, _jwt_lifetime(token)


def spec_token_url(spec: Spec, base_url: str, grant: str) -> str | None:
    """The ``tokenUrl`` of the spec's own OAuth flow for ``grant``, made absolute against
    the base URL the way a relative server URL is (FastAPI writes ``login/access-token``)."""
    flow_name = {"password": "password", "client_credentials": "clientCredentials"}[grant]
    for scheme in spec.security_schemes.values():
        if scheme.get("type") != "oauth2":
            continue
        flow = (scheme.get("flows") or {}).get(flow_name)
        if isinstance(flow, dict) and flow.get("tokenUrl"):
            url = str(flow["tokenUrl"])
            if url.startswith(("http://", "https://")):
                return url
            return urljoin(base_url.rstrip("/") + "/", url)
    return None


def _json(content: bytes) -> dict[str, object]:
    try:
        found = json.loads(content)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _lifetime(payload: dict[str, object]) -> float | None:
    value = payload.get("expires_in")
    if isinstance(value, int | float | str):
        try:
            return float(value)
        except ValueError:
            return None
    token = payload.get("access_token")
    return _jwt_lifetime(token) if isinstance(token, str) else None


def _jwt_lifetime(token: str) -> float | None:
    """Seconds until a JWT's ``exp``; None for a token that is not a JWT or says nothing."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError):
        return None
    expires = claims.get("exp") if isinstance(claims, dict) else None
    return float(expires) - time.time() if isinstance(expires, int | float) else None
