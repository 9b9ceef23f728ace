"""The sandbox's OAuth 2.0 authorization server (RFC 6749, RFC 7636 PKCE).

It serves at the spec's own ``tokenUrl`` and ``authorizationUrl`` and approves every
authorization request at once: a sandbox has no users to ask. Everything else behaves as a
strict server would, so clients meet real errors here rather than in production.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from werkzeug.wrappers import Request, Response

from sandbox.access.oauth.clients import OAuthClient
from sandbox.access.oauth.discovery import OAuthSurface
from sandbox.access.oauth.grants import Grant, Grants, pkce_matches
from sandbox.access.oauth.params import (
    body_params,
    client_credentials,
    query_params,
)
from sandbox.access.oauth.tokens import AccessTokens
from sandbox.errors import GrantRejected, OAuthError
from sandbox.jsonio import dumps

_PKCE_VALUE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_SUBJECT_OF_APPROVALS = "sandbox_user"

# the first way a request breaks its operation's declared shape, or None
SpecCheck = Callable[[Request], str | None]


class OAuthServer:
    def __init__(
        self,
        surface: OAuthSurface,
        clients: dict[str, OAuthClient],
        tokens: AccessTokens,
        grants: Grants,
        *,
        issuer: str = "",
        spec_check: SpecCheck | None = None,
    ) -> None:
        self.surface = surface
        self.clients = clients
        self.tokens = tokens
        self.grants = grants
        self.issuer = issuer
        self.spec_check = spec_check or (lambda _request: None)

    # -- the token endpoint (RFC 6749 §3.2) ----------------------------------------------
    def token(self, request: Request) -> Response:
        try:
            params = body_params(request)
            grant_type = params.get("grant_type")
            if not grant_type:
                raise OAuthError("invalid_request", "Missing required parameter: grant_type.")
            if grant_type not in self.surface.grants:
                offered = ", ".join(sorted(self.surface.grants))
                raise OAuthError("unsupported_grant_type", f"grant_type must be one of: {offered}.")
            problem = self.spec_check(request)
            if problem:
                raise OAuthError("invalid_request", problem)
            issued = getattr(self, "_grant_" + grant_type)(request, params)
        except OAuthError as error:
            return _error_response(error)
        return _json(issued, 200, _NO_STORE)

    def _grant_client_credentials(self, request: Request, params: dict[str, str]) -> dict:
        client = self._authenticated_client(request, params, allow_public=False)
        scopes = self._granted_scopes(client, params.get("scope"))
        return self._issue(request, client, client.client_id, scopes, refresh_from=None)

    def _grant_authorization_code(self, request: Request, params: dict[str, str]) -> dict:
        code = _required(params, "code")
        client = self._authenticated_client(request, params, allow_public=True)
        grant = self._redeem(code, "code", client)
        if grant.redirect_uri is not None and params.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError(
                "invalid_grant", "redirect_uri must be the one sent to the authorize endpoint."
            )
        self._check_pkce(grant, params.get("code_verifier"))
        return self._issue(request, client, grant.subject, grant.scope.split(), grant)

    def _grant_refresh_token(self, request: Request, params: dict[str, str]) -> dict:
        token = _required(params, "refresh_token")
        client = self._authenticated_client(request, params, allow_public=True)
        grant = self._redeem(token, "refresh", client)
        original = grant.scope.split()
        scopes = original
        if params.get("scope"):
            scopes = params["scope"].split()
            extra = [scope for scope in scopes if scope not in original]
            if extra:
                raise OAuthError(
                    "invalid_scope",
                    "A refresh may narrow the scope, not widen it: " + " ".join(extra),
                )
        return self._issue(request, client, grant.subject, scopes, grant)

    def _grant_password(self, request: Request, params: dict[str, str]) -> dict:
        username = _required(params, "username")
        _required(params, "password")  # the sandbox has no passwords to check
        client = self._authenticated_client(request, params, allow_public=True)
        scopes = self._granted_scopes(client, params.get("scope"))
        return self._issue(request, client, username, scopes, refresh_from=None, refresh=True)

    def _issue(
        self,
        request: Request,
        client: OAuthClient,
        subject: str,
        scopes: list[str],
        refresh_from: Grant | None,
        refresh: bool = False,
    ) -> dict[str, Any]:
        issued: dict[str, Any] = {
            "access_token": self.tokens.issue(
                subject=subject, client_id=client.client_id, scopes=scopes,
                issuer=self.issuer_for(request),
            ),
            "token_type": "Bearer",
            "expires_in": self.tokens.ttl,
            "scope": " ".join(scopes),
        }  # fmt: skip
        if refresh_from is not None or refresh:
            issued["refresh_token"] = self.grants.new_refresh_token(
                refresh_from, client_id=client.client_id, subject=subject, scope=" ".join(scopes)
            )
        return issued

    def _authenticated_client(
        self, request: Request, params: dict[str, str], *, allow_public: bool
    ) -> OAuthClient:
        """The client, authenticated before any code or token is spent. A confidential
        client (one with a secret) sends it with every grant, PKCE or not (RFC 6749 §3.2.1,
        OAuth 2.1): PKCE binds a code to the app that asked for it but proves nothing about
        who that is, and /authorize approves at once, so the secret is all that keeps anyone
        who can reach the sandbox from this client's tokens. Public clients (no secret: a
        browser app, a phone) prove themselves with PKCE alone, where the grant allows it."""
        given = client_credentials(request, params)
        challenge = {"WWW-Authenticate": 'Basic realm="oauth"'} if given.via_basic else {}
        if not given.client_id:
            raise OAuthError(
                "invalid_client",
                "Identify the client: client_id and client_secret in the body, or HTTP Basic.",
                401, challenge,
            )  # fmt: skip
        client = self.clients.get(given.client_id)
        if client is None:
            raise OAuthError(
                "invalid_client",
                f"Unknown client {given.client_id!r}. The sandbox banner prints the default "
                "client; more can be declared in oauth_clients.",
                401, challenge,
            )  # fmt: skip
        if given.client_secret is not None:
            if not client.secret_matches(given.client_secret):
                raise OAuthError("invalid_client", "Wrong client_secret.", 401, challenge)
        elif client.client_secret is not None:
            raise OAuthError(
                "invalid_client",
                "This client is confidential: send its client_secret (in the body or with HTTP "
                "Basic) with every token request, PKCE or not. A public app (no secret) is "
                "declared in oauth_clients without a client_secret.",
                401, {"WWW-Authenticate": 'Basic realm="oauth"'},
            )  # fmt: skip
        elif not allow_public:
            raise OAuthError(
                "invalid_client", "This grant needs a confidential client and its client_secret.",
                401, challenge,
            )  # fmt: skip
        return client

    def _redeem(self, token: str, kind: str, client: OAuthClient) -> Grant:
        try:
            return self.grants.redeem(token, kind, client.client_id)
        except GrantRejected as exc:
            raise OAuthError("invalid_grant", str(exc)) from None

    def _check_pkce(self, grant: Grant, verifier: str | None) -> None:
        if grant.challenge is None:
            if verifier is not None:
                raise OAuthError(
                    "invalid_grant", "code_verifier sent, but the authorization had no challenge."
                )
            return
        if verifier is None:
            raise OAuthError("invalid_grant", "This code needs its PKCE code_verifier.")
        if not _PKCE_VALUE.match(verifier):
            raise OAuthError(
                "invalid_request",
                "code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636).",
            )
        if not pkce_matches(verifier, grant.challenge, grant.challenge_method):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge.")

    def _granted_scopes(self, client: OAuthClient, requested: str | None) -> list[str]:
        allowed = client.scopes if client.scopes is not None else self.surface.scopes
        if not requested:
            return sorted(allowed)
        scopes = list(dict.fromkeys(requested.split()))
        unknown = [s for s in scopes if self.surface.scopes and s not in self.surface.scopes]
        if unknown:
            raise OAuthError("invalid_scope", "Unknown scope: " + " ".join(unknown))
        barred = [s for s in scopes if client.scopes is not None and s not in client.scopes]
        if barred:
            raise OAuthError("invalid_scope", "This client may not request: " + " ".join(barred))
        return scopes

    # -- the authorization endpoint (RFC 6749 §4.1.1, auto-approved) ---------------------
    def authorize(self, request: Request) -> Response:
        try:
            params = query_params(request)
            client, redirect_uri = self._authorize_target(params)
        except OAuthError as error:  # no trustworthy redirect: tell the user agent
            return _error_response(error)
        state = {"state": params["state"]} if "state" in params else {}
        try:
            response_type = params.get("response_type")
            if not response_type:
                raise OAuthError("invalid_request", "Missing required parameter: response_type.")
            if response_type not in self.surface.response_types:
                offered = " or ".join(sorted(self.surface.response_types))
                raise OAuthError("unsupported_response_type", f"response_type must be {offered}.")
            problem = self.spec_check(request)
            if problem:
                raise OAuthError("invalid_request", problem)
            scopes = self._granted_scopes(client, params.get("scope"))
            if response_type == "token":
                issued = self._issue(
                    request, client, params.get("login_hint") or _SUBJECT_OF_APPROVALS,
                    scopes, refresh_from=None,
                )  # fmt: skip
                return _redirect(redirect_uri, {**issued, **state}, fragment=True)
            code = self._new_code(client, params, scopes, redirect_uri)
        except OAuthError as error:
            failure = {"error": error.error, "error_description": error.description, **state}
            return _redirect(redirect_uri, failure, fragment=params.get("response_type") == "token")
        return _redirect(redirect_uri, {"code": code, **state})

    def _authorize_target(self, params: dict[str, str]) -> tuple[OAuthClient, str]:
        client_id = params.get("client_id")
        if not client_id:
            raise OAuthError("invalid_request", "Missing required parameter: client_id.")
        client = self.clients.get(client_id)
        if client is None:
            raise OAuthError("unauthorized_client", f"Unknown client_id {client_id!r}.")
        redirect_uri = params.get("redirect_uri")
        if redirect_uri is None:
            if len(client.redirect_uris) != 1:
                raise OAuthError(
                    "invalid_request",
                    "Missing redirect_uri (the client has no single registered one to default to).",
                )
            return client, client.redirect_uris[0]
        if not client.allows_redirect(redirect_uri):
            raise OAuthError(
                "invalid_request", "redirect_uri does not match a registered redirect URI."
            )
        return client, redirect_uri

    def _new_code(
        self, client: OAuthClient, params: dict[str, str], scopes: list[str], redirect_uri: str
    ) -> str:
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method", "plain" if challenge else None)
        if challenge is None and method is not None:
            raise OAuthError("invalid_request", "code_challenge_method without code_challenge.")
        if method not in (None, "S256", "plain"):
            raise OAuthError(
                "invalid_request", "code_challenge_method must be S256 or plain (RFC 7636)."
            )
        if challenge is not None and not _PKCE_VALUE.match(challenge):
            raise OAuthError(
                "invalid_request", "code_challenge must be 43-128 characters of A-Z a-z 0-9 -._~."
            )
        if challenge is None and client.client_secret is None:
            raise OAuthError("invalid_request", "Public clients must use PKCE (code_challenge).")
        return self.grants.new_code(
            client_id=client.client_id,
            subject=params.get("login_hint") or _SUBJECT_OF_APPROVALS,
            scope=" ".join(scopes),
            redirect_uri=params.get("redirect_uri") and redirect_uri,
            challenge=challenge,
            challenge_method=method,
        )

    # -- metadata (RFC 8414, OpenID Connect discovery) and keys -------------------------------
    def issuer_for(self, request: Request) -> str:
        return self.issuer or request.host_url.rstrip("/")

    def metadata(self, request: Request) -> Response:
        origin = request.host_url.rstrip("/")
        grants = sorted(self.surface.grants)
        return _json({
            "issuer": self.issuer_for(request),
            "token_endpoint": origin + self.surface.token_path,
            "authorization_endpoint": origin + self.surface.authorize_path,
            "jwks_uri": origin + "/.well-known/jwks.json",
            "grant_types_supported": grants,
            "response_types_supported": sorted(self.surface.response_types),
            "scopes_supported": sorted(self.surface.scopes),
            "code_challenge_methods_supported": ["S256", "plain"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic", "client_secret_post", "none",
            ],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self.tokens.algorithm],
        })  # fmt: skip

    def jwks(self) -> Response:
        return _json(self.tokens.jwks())

    def register(self, app: Flask) -> None:
        """Routes at the spec's own paths; they win over the catch-all for these methods only,
        so any other method still gets the spec's 405."""
        from flask import request

        for path in self.surface.token_paths:
            app.add_url_rule(path, f"oauth_token:{path}", lambda: self.token(request),
                             methods=["POST"], provide_automatic_options=False)  # fmt: skip
        for path in self.surface.authorize_paths:
            app.add_url_rule(path, f"oauth_authorize:{path}", lambda: self.authorize(request),
                             methods=["GET"], provide_automatic_options=False)  # fmt: skip
        for path in ("/.well-known/oauth-authorization-server",
                     "/.well-known/openid-configuration"):  # fmt: skip
            app.add_url_rule(path, f"oauth_metadata:{path}", lambda: self.metadata(request))
        app.add_url_rule("/.well-known/jwks.json", "oauth_jwks", self.jwks)


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise OAuthError("invalid_request", f"Missing required parameter: {name}.")
    return value


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(value), status=status, headers=headers,
                    content_type="application/json")  # fmt: skip


def _error_response(error: OAuthError) -> Response:
    body = {"error": error.error, "error_description": error.description}
    return _json(body, error.status, {**_NO_STORE, **error.headers})


def _redirect(uri: str, values: dict[str, Any], *, fragment: bool = False) -> Response:
    encoded = urlencode({name: str(value) for name, value in values.items()})
    if fragment:
        target = f"{uri.split('#')[0]}#{encoded}"
    else:
        target = f"{uri}{'&' if '?' in uri else '?'}{encoded}"
    return Response(status=302, headers={"Location": target, **_NO_STORE})
