"""What the spec says about OAuth: where the endpoints live, which grants and scopes exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sandbox.spec.model import Spec

DEFAULT_TOKEN_PATH = "/oauth/token"
DEFAULT_AUTHORIZE_PATH = "/oauth/authorize"

_FLOW_GRANTS = {
    "clientCredentials": {"client_credentials"},
    "authorizationCode": {"authorization_code", "refresh_token"},
    "password": {"password", "refresh_token"},
    "implicit": set(),
}
_FLOW_RESPONSE_TYPES = {"authorizationCode": {"code"}, "implicit": {"token"}}


@dataclass(frozen=True)
class OAuthSurface:
    token_paths: tuple[str, ...]
    authorize_paths: tuple[str, ...]
    grants: frozenset[str]
    response_types: frozenset[str]
    scopes: frozenset[str]  # empty: the spec names none, so any scope is accepted

    @property
    def token_path(self) -> str:
        return self.token_paths[0]

    @property
    def authorize_path(self) -> str:
        return self.authorize_paths[0]


def discover(spec: Spec) -> OAuthSurface:
    """The spec's OAuth flows; a spec without any gets every grant at the default paths, so
    its bearer-protected operations can still be called with a sandbox-issued JWT."""
    token_paths: list[str] = []
    authorize_paths: list[str] = []
    grants: set[str] = set()
    response_types: set[str] = set()
    scopes: set[str] = set()
    for scheme in spec.security_schemes.values():
        if scheme.get("type") == "openIdConnect":
            grants |= {"client_credentials", "authorization_code", "refresh_token"}
            response_types.add("code")
        if scheme.get("type") != "oauth2":
            continue
        for flow_name, flow in (scheme.get("flows") or {}).items():
            if not isinstance(flow, dict):
                continue
            grants |= _FLOW_GRANTS.get(flow_name, set())
            response_types |= _FLOW_RESPONSE_TYPES.get(flow_name, set())
            scopes |= set(flow.get("scopes") or {})
            for key, found in (("tokenUrl", token_paths), ("refreshUrl", token_paths),
                               ("authorizationUrl", authorize_paths)):  # fmt: skip
                if flow.get(key):
                    found.append(_local_path(str(flow[key]), spec.base_path))
    for operation in spec.operations:
        for alternative in operation.security:
            for name, needed in alternative.items():
                if (spec.security_schemes.get(name) or {}).get("type") == "openIdConnect":
                    scopes |= set(needed or [])
    if not grants:
        grants = {"client_credentials", "authorization_code", "refresh_token", "password"}
        response_types = {"code", "token"}
    return OAuthSurface(
        token_paths=tuple(dict.fromkeys(token_paths)) or (DEFAULT_TOKEN_PATH,),
        authorize_paths=tuple(dict.fromkeys(authorize_paths)) or (DEFAULT_AUTHORIZE_PATH,),
        grants=frozenset(grants),
        response_types=frozenset(response_types or {"code"}),
        scopes=frozenset(scopes),
    )


def _local_path(url: str, base_path: str) -> str:
    """Where the sandbox serves a flow URL: its path, whatever host the spec names (so a
    client points its token URL at the sandbox and nothing else changes)."""
    parts = urlsplit(url)
    if parts.scheme or url.startswith("/"):
        return "/" + parts.path.lstrip("/") if parts.path else "/"
    return f"{base_path}/{parts.path}"


def scheme_is_oauth(scheme: dict[str, Any] | None) -> bool:
    return (scheme or {}).get("type") in ("oauth2", "openIdConnect")
