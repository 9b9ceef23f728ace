"""Reading OAuth requests: parameters from a form or JSON body, client credentials from the
body or HTTP Basic. Every failure is an OAuthError the client can act on."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from werkzeug.wrappers import Request

from sandbox.errors import OAuthError
from sandbox.jsonio import loads


def body_params(request: Request) -> dict[str, str]:
    """The token request's parameters, form-encoded (RFC 6749) or JSON (as some guides post)."""
    raw = request.get_data(cache=True)
    mimetype = request.mimetype
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "The request body is not valid UTF-8.") from None
    if mimetype == "application/json" or mimetype.endswith("+json"):
        return _json_params(text)
    if mimetype in ("application/x-www-form-urlencoded", "") and "\x00" not in text:
        return _unique(parse_qsl(text, keep_blank_values=True))
    raise OAuthError(
        "invalid_request",
        f"A {mimetype} body is not accepted here: send the parameters as "
        "application/x-www-form-urlencoded (RFC 6749) or as a JSON object.",
    )


def query_params(request: Request) -> dict[str, str]:
    return _unique(request.args.items(multi=True))


def _json_params(text: str) -> dict[str, str]:
    try:
        value = loads(text) if text.strip() else {}
    except ValueError:
        raise OAuthError("invalid_request", "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise OAuthError("invalid_request", "The JSON body must be an object of parameters.")
    params = {}
    for name, item in value.items():
        if item is None:
            continue
        if not isinstance(item, str):
            raise OAuthError("invalid_request", f"Parameter {name!r} must be a string.")
        params[name] = item
    return params


def _unique(pairs: object) -> dict[str, str]:
    """RFC 6749 §3.1: parameters must not be repeated; empty ones count as absent."""
    params: dict[str, str] = {}
    for name, value in pairs:  # type: ignore[attr-defined]
        if name in params:
            raise OAuthError("invalid_request", f"Parameter {name!r} is repeated.")
        if value != "":
            params[name] = value
    return params


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str | None
    client_secret: str | None
    via_basic: bool


def client_credentials(request: Request, params: dict[str, str]) -> ClientCredentials:
    """RFC 6749 §2.3.1: HTTP Basic (form-encoded halves) or body parameters, not both."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return ClientCredentials(params.get("client_id"), params.get("client_secret"), False)
    if "client_secret" in params:
        raise OAuthError(
            "invalid_request",
            "Send the client credentials either with HTTP Basic or in the body, not both.",
        )
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError(
            "invalid_client", "The Basic credentials are not valid base64 of id:secret.",
            401, {"WWW-Authenticate": 'Basic realm="oauth"'},
        ) from None  # fmt: skip
    client_id, _, secret = decoded.partition(":")
    body_id = params.get("client_id")
    if body_id is not None and body_id != unquote_plus(client_id):
        raise OAuthError("invalid_request", "client_id in the body differs from HTTP Basic.")
    return ClientCredentials(unquote_plus(client_id), unquote_plus(secret), True)
