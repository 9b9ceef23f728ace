"""OAuth 2.0 for the sandbox: an authorization server at the spec's own URLs, and the JWT
access tokens it issues (verified by the auth stage like any other credential)."""

from sandbox.access.oauth.clients import OAuthClient, build_clients
from sandbox.access.oauth.discovery import OAuthSurface, discover, scheme_is_oauth
from sandbox.access.oauth.grants import Grants
from sandbox.access.oauth.server import OAuthServer
from sandbox.access.oauth.tokens import AccessTokens, TokenClaims, looks_like_jwt
from sandbox.errors import TokenRejected

__all__ = [
    "AccessTokens",
    "Grants",
    "OAuthClient",
    "OAuthServer",
    "OAuthSurface",
    "TokenClaims",
    "TokenRejected",
    "build_clients",
    "discover",
    "looks_like_jwt",
    "scheme_is_oauth",
]
