"""OAuth clients: the banner's default one and those the settings declare.

A client's tokens act as one API key's identity: same records (tenant), same rate-limit
bucket. The default client acts as the default API key, so a demo can switch between the
key and a token and still see the same users.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sandbox.errors import ConfigError


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str | None  # None: a public client (PKCE only)
    identity: str  # the tenant and rate-limit identity its tokens act as
    plan: str
    scopes: frozenset[str] | None = None  # None: every scope the spec declares
    redirect_uris: tuple[str, ...] = field(default=())  # empty: any http(s) URI

    def secret_matches(self, secret: str) -> bool:
        if self.client_secret is None:
            return False
        return hmac.compare_digest(secret.encode(), self.client_secret.encode())

    def allows_redirect(self, uri: str) -> bool:
        """A registered URI exactly; without registrations, any http(s) URI with a host.
        Other schemes only when registered: a native app's own (RFC 8252 §7.1), never one a
        browser would run or read locally (``javascript:``, ``data:``, ``file:``)."""
        if self.redirect_uris:
            return uri in self.redirect_uris
        return redirect_problem(uri, registered=False) is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scopes": sorted(self.scopes) if self.scopes is not None else "all",
            "redirect_uris": list(self.redirect_uris) or "any",
            "plan": self.plan,
        }


# schemes a browser runs or reads locally: a code or token sent there is the attacker's
_NEVER = frozenset({"javascript", "data", "file", "vbscript", "blob", "about", "filesystem"})


def redirect_problem(uri: str, *, registered: bool) -> str | None:
    """Why ``uri`` cannot be a redirect URI, or None. Unregistered ones must be http(s)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "it is not a URI"
    scheme = parts.scheme.lower()
    if not scheme:
        return "it is not absolute"
    if parts.fragment or "#" in uri:
        return "it has a fragment (RFC 6749 §3.1.2)"
    if scheme in ("http", "https"):
        return None if parts.netloc else "it has no host"
    if scheme in _NEVER or not registered:
        return f"{scheme}: is not an http(s) scheme" + (
            "" if registered else "; register a native app's own scheme in oauth_clients"
        )
    return None


def build_clients(
    declared: list[dict[str, Any]],
    *,
    default: tuple[str, str],
    default_identity: str,
    default_plan: str,
    key_plan: Any,
) -> dict[str, OAuthClient]:
    """``key_plan(key)`` gives an API key's plan, for clients declared to act as a key."""
    client_id, secret = default
    clients = {client_id: OAuthClient(client_id, secret, default_identity, default_plan)}
    for entry in declared:
        client = _declared_client(entry, default_plan, key_plan)
        clients[client.client_id] = client
    return clients


def _declared_client(entry: Any, default_plan: str, key_plan: Any) -> OAuthClient:
    if not isinstance(entry, dict) or not entry.get("client_id"):
        raise ConfigError(
            "each of 'oauth_clients' needs a 'client_id' (and usually a 'client_secret'): "
            f"got {entry!r}"
        )
    client_id = str(entry["client_id"])
    scopes = entry.get("scopes")
    if isinstance(scopes, str):
        scopes = scopes.split()
    if scopes is not None and not isinstance(scopes, list):
        raise ConfigError(f"oauth client {client_id!r}: 'scopes' must be a list or a string")
    uris = entry.get("redirect_uris") or []
    if isinstance(uris, str):
        uris = [uris]
    for uri in uris:
        problem = redirect_problem(str(uri), registered=True)
        if problem:
            raise ConfigError(f"oauth client {client_id!r}: redirect URI {uri!r}: {problem}")
    api_key = entry.get("api_key")
    plan = entry.get("plan") or (key_plan(str(api_key)) if api_key else None) or default_plan
    secret = entry.get("client_secret")
    return OAuthClient(
        client_id=client_id,
        client_secret=str(secret) if secret else None,
        identity=str(api_key) if api_key else f"oauth:{client_id}",
        plan=str(plan),
        scopes=frozenset(map(str, scopes)) if scopes is not None else None,
        redirect_uris=tuple(map(str, uris)),
    )
