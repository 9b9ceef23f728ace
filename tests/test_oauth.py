"""The OAuth 2.0 server, driven over real HTTP the way client libraries drive it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

REDIRECT = "https://client.example/callback"
PUBLIC = "spa"  # a public client (no secret): PKCE is its proof


@pytest.fixture
def live(live_server_factory):
    return live_server_factory(oauth_clients=[{"client_id": PUBLIC, "redirect_uris": [REDIRECT]}])


def pkce_pair(method: str = "S256") -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    if method == "plain":
        return verifier, verifier
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(live, **params: str) -> requests.Response:
    client_id, _ = live.settings.default_oauth_client
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, **params}
    query = {name: value for name, value in query.items() if value is not None}
    return requests.get(live.base_url + "/oauth/authorize", params=query, allow_redirects=False)


def code_from(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def token_request(live, **params: str) -> requests.Response:
    return requests.post(live.base_url + "/oauth/token", data=params)


def test_code_flow_with_pkce_and_refresh_end_to_end(live) -> None:
    client_id = PUBLIC
    verifier, challenge = pkce_pair()
    redirected = code_from(
        authorize(live, client_id=client_id, scope="users:read orders:read", state="xyz",
                  code_challenge=challenge, code_challenge_method="S256")
    )  # fmt: skip
    assert redirected["state"] == "xyz"
    assert redirected["code"].startswith("ac_")

    # a public client: PKCE instead of the secret
    issued = token_request(
        live, grant_type="authorization_code", code=redirected["code"],
        redirect_uri=REDIRECT, client_id=client_id, code_verifier=verifier,
    )  # fmt: skip
    assert issued.status_code == 200, issued.text
    assert issued.headers["Cache-Control"] == "no-store"
    tokens = issued.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == "users:read orders:read"
    assert tokens["refresh_token"].startswith("rt_")

    # a client verifies the JWT against the published JWKS, as it would in production
    jwks = jwt.PyJWKClient(live.origin + "/.well-known/jwks.json")
    signing_key = jwks.get_signing_key_from_jwt(tokens["access_token"])
    claims = jwt.decode(
        tokens["access_token"], signing_key.key, algorithms=["RS256"],
        audience="http://localhost:8000/v1", issuer=live.origin,
    )  # fmt: skip
    assert claims["sub"] == "sandbox_user"
    assert claims["client_id"] == PUBLIC
    assert claims["scope"] == "users:read orders:read"
    assert claims["exp"] - claims["iat"] == 3600

    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    assert requests.get(live.base_url + "/users", headers=bearer).status_code == 200
    assert requests.get(live.base_url + "/orders", headers=bearer).status_code == 200
    assert requests.get(live.base_url + "/data", headers=bearer).status_code == 403

    # refresh: narrower scope allowed, and the refresh token rotates
    refreshed = token_request(
        live, grant_type="refresh_token", refresh_token=tokens["refresh_token"],
        client_id=client_id, scope="users:read",
    )  # fmt: skip
    assert refreshed.status_code == 200, refreshed.text
    renewed = refreshed.json()
    assert renewed["scope"] == "users:read"
    assert renewed["refresh_token"] != tokens["refresh_token"]
    new_bearer = {"Authorization": "Bearer " + renewed["access_token"]}
    assert requests.get(live.base_url + "/users", headers=new_bearer).status_code == 200
    assert requests.get(live.base_url + "/orders", headers=new_bearer).status_code == 403

    # replaying the old refresh token revokes the whole family, the new one included
    replay = token_request(
        live, grant_type="refresh_token", refresh_token=tokens["refresh_token"],
        client_id=client_id,
    )  # fmt: skip
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    after = token_request(
        live, grant_type="refresh_token", refresh_token=renewed["refresh_token"],
        client_id=client_id,
    )  # fmt: skip
    assert after.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_pkce_verifier_must_match(live, method) -> None:
    verifier, challenge = pkce_pair(method)
    exchange = {"grant_type": "authorization_code", "redirect_uri": REDIRECT,
                "client_id": PUBLIC}  # fmt: skip
    pkce = {"client_id": PUBLIC, "code_challenge": challenge, "code_challenge_method": method}
    code = code_from(authorize(live, **pkce))
    wrong = token_request(live, **exchange, code=code["code"], code_verifier=pkce_pair()[0])
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert "code_verifier" in wrong.json()["error_description"]

    code = code_from(authorize(live, **pkce))
    missing = token_request(live, **exchange, code=code["code"])
    assert missing.json()["error"] == "invalid_grant"

    code = code_from(authorize(live, **pkce))
    right = token_request(live, **exchange, code=code["code"], code_verifier=verifier)
    assert right.status_code == 200, right.text


def test_pkce_does_not_replace_a_confidential_clients_secret(live) -> None:
    """RFC 6749 §3.2.1 / OAuth 2.1: a client with a secret authenticates at the token
    endpoint whatever else it sends. /authorize approves at once, so without this anyone
    who can reach the sandbox gets the banner client's tokens with a PKCE pair of their own."""
    client_id, secret = live.settings.default_oauth_client
    verifier, challenge = pkce_pair()
    code = code_from(authorize(live, code_challenge=challenge, code_challenge_method="S256"))
    exchange = {
        "grant_type": "authorization_code",
        "code": code["code"],
        "redirect_uri": REDIRECT,
        "client_id": client_id,
        "code_verifier": verifier,
    }
    refused = token_request(live, **exchange)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "invalid_client"
    assert "client_secret" in refused.json()["error_description"]
    # refused before the code was spent: the same code works with the secret
    issued = token_request(live, **exchange, client_secret=secret)
    assert issued.status_code == 200, issued.text
    refresh = {"grant_type": "refresh_token", "client_id": client_id,
               "refresh_token": issued.json()["refresh_token"]}  # fmt: skip
    assert token_request(live, **refresh).json()["error"] == "invalid_client"
    assert token_request(live, **refresh, client_secret=secret).status_code == 200


@pytest.mark.parametrize(
    "redirect_uri",
    ["javascript:alert(1)", "JavaScript:alert(document.cookie)//", "data:text/html,<b>x</b>",
     "file:///etc/passwd", "vbscript:msgbox", "com.example.app:/callback", "//evil.example/cb",
     "/relative/cb", "https:///no-host", "https://client.example/cb#fragment"],
)  # fmt: skip
def test_authorize_redirects_only_to_http_urls_unless_registered(live, redirect_uri) -> None:
    """No code, token or error is sent to a URI a browser would run or read locally."""
    for response_type in ("code", "token"):
        refused = authorize(live, redirect_uri=redirect_uri, response_type=response_type)
        assert refused.status_code == 400, refused.headers.get("Location")
        assert "Location" not in refused.headers
        assert refused.json()["error"] == "invalid_request"


def test_a_native_apps_registered_scheme_is_accepted(live_server_factory) -> None:
    """RFC 8252 §7.1: a private-use scheme, once registered, is a redirect URI like any."""
    native = "com.example.app:/oauth2redirect"
    live = live_server_factory(oauth_clients=[{"client_id": "ios", "redirect_uris": [native]}])
    _, challenge = pkce_pair()
    answer = authorize(live, client_id="ios", redirect_uri=native, code_challenge=challenge)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(native + "?code=ac_")


@pytest.mark.parametrize("uri", ["javascript:alert(1)", "data:,x", "file:///tmp/x", "https://a/#f"])
def test_a_dangerous_registered_redirect_uri_is_a_configuration_error(tmp_path, uri) -> None:
    from sandbox import create_app, load_settings
    from sandbox.errors import ConfigError
    from tests.conftest import DEFAULT_SPEC

    clients = [{"client_id": "x", "redirect_uris": [uri]}]
    settings = load_settings(
        DEFAULT_SPEC, environ={}, overrides={"state": ":memory:", "oauth_clients": clients}
    )
    with pytest.raises(ConfigError, match="redirect URI"):
        create_app(DEFAULT_SPEC, settings)


def test_a_code_works_once(live) -> None:
    client_id, secret = live.settings.default_oauth_client
    code = code_from(authorize(live))["code"]  # a confidential client: no PKCE needed
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                "client_id": client_id, "client_secret": secret}  # fmt: skip
    first = token_request(live, **exchange)
    assert first.status_code == 200, first.text
    again = token_request(live, **exchange)
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": again.json()["error_description"],
    }
    assert "already used" in again.json()["error_description"]
    # the refresh token issued from the replayed code is revoked as well
    revoked = token_request(
        live, grant_type="refresh_token", refresh_token=first.json()["refresh_token"],
        client_id=client_id, client_secret=secret,
    )  # fmt: skip
    assert revoked.json()["error"] == "invalid_grant"


def test_the_seed_guides_json_client_credentials_snippet(live) -> None:
    """004's getAccessToken(): a JSON body, then the token as a Bearer on /users."""
    client_id, secret = live.settings.default_oauth_client
    response = requests.post(
        live.base_url + "/oauth/token",
        headers={"Content-Type": "application/json"},
        json={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
    )
    assert response.status_code == 200, response.text
    access_token = response.json()["access_token"]
    users = requests.get(
        live.base_url + "/users",
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
    )
    assert users.status_code == 200
    assert users.json()["status"] == "success"
    assert int(users.headers["X-RateLimit-Remaining"]) < int(users.headers["X-RateLimit-Limit"])


def test_basic_client_authentication(live) -> None:
    client_id, secret = live.settings.default_oauth_client
    url = live.base_url + "/oauth/token"
    good = requests.post(url, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert good.status_code == 200, good.text
    bad = requests.post(url, data={"grant_type": "client_credentials"}, auth=(client_id, "nope"))
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"
    assert bad.headers["WWW-Authenticate"] == 'Basic realm="oauth"'


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({}, 400, "invalid_request"),
        ({"grant_type": "password", "username": "a", "password": "b"}, 400,
         "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
         401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "{id}", "client_secret": "wrong"},
         401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "{id}"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "{id}", "client_secret": "{secret}",
          "scope": "admin:all"}, 400, "invalid_scope"),
        ({"grant_type": "authorization_code", "client_id": "{id}", "client_secret": "{secret}"},
         400, "invalid_request"),
        ({"grant_type": "authorization_code", "client_id": "{id}", "client_secret": "{secret}",
          "code": "ac_made_up", "redirect_uri": REDIRECT}, 400, "invalid_grant"),
        ({"grant_type": "refresh_token", "client_id": "{id}", "client_secret": "{secret}",
          "refresh_token": "rt_made_up"}, 400, "invalid_grant"),
        ({"grant_type": "client_credentials", "client_id": "{id}", "client_secret": "{secret}",
          "scope": "x" * 2000}, 400, "invalid_request"),  # the spec's maxLength: 1024
    ],
)  # fmt: skip
def test_token_errors_follow_rfc_6749(live, params, status, error) -> None:
    client_id, secret = live.settings.default_oauth_client
    sent = {k: v.replace("{id}", client_id).replace("{secret}", secret) for k, v in params.items()}
    response = token_request(live, **sent)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "X-RateLimit-Limit" not in response.headers  # as the spec says


def test_token_request_body_problems(live) -> None:
    url = live.base_url + "/oauth/token"
    repeated = requests.post(
        url, data="grant_type=client_credentials&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert repeated.json()["error"] == "invalid_request"
    assert "repeated" in repeated.json()["error_description"]
    not_json = requests.post(url, data="{", headers={"Content-Type": "application/json"})
    assert not_json.json()["error_description"] == "The request body is not valid JSON."
    xml = requests.post(url, data="<a/>", headers={"Content-Type": "application/xml"})
    assert xml.status_code == 400
    assert "x-www-form-urlencoded" in xml.json()["error_description"]
    wrong_method = requests.get(url)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"


def test_authorize_refuses_to_redirect_anywhere_it_cannot_trust(live) -> None:
    unknown = requests.get(
        live.base_url + "/oauth/authorize",
        params={"response_type": "code", "client_id": "nobody", "redirect_uri": REDIRECT},
        allow_redirects=False,
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "unauthorized_client"
    no_redirect = authorize(live, redirect_uri="")
    assert no_redirect.status_code == 400
    assert no_redirect.json()["error"] == "invalid_request"


def test_registered_redirect_uris_are_enforced(live_server_factory) -> None:
    live = live_server_factory(
        oauth_clients=[{"client_id": "app", "client_secret": "s",
                        "redirect_uris": ["https://app.example/cb"]}]
    )  # fmt: skip
    url = live.base_url + "/oauth/authorize"
    elsewhere = requests.get(
        url, params={"response_type": "code", "client_id": "app",
                     "redirect_uri": "https://evil.example/cb"},
        allow_redirects=False,
    )  # fmt: skip
    assert elsewhere.status_code == 400
    defaulted = requests.get(
        url, params={"response_type": "code", "client_id": "app"}, allow_redirects=False
    )
    assert defaulted.headers["Location"].startswith("https://app.example/cb?code=ac_")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "id_token"}, "unsupported_response_type"),
        ({"scope": "admin:all"}, "invalid_scope"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"code_challenge": "a" * 43, "code_challenge_method": "S512"}, "invalid_request"),
    ],
)
def test_authorize_errors_are_redirected_with_the_state(live, params, error) -> None:
    redirected = code_from(authorize(live, state="keep-me", **params))
    assert redirected["error"] == error
    assert redirected["state"] == "keep-me"
    assert redirected["error_description"]
    assert "code" not in redirected


def test_public_clients_must_use_pkce(live_server_factory) -> None:
    live = live_server_factory(oauth_clients=[{"client_id": "spa"}])
    redirected = code_from(
        requests.get(
            live.base_url + "/oauth/authorize",
            params={"response_type": "code", "client_id": "spa", "redirect_uri": REDIRECT},
            allow_redirects=False,
        )
    )
    assert redirected["error"] == "invalid_request"
    assert "PKCE" in redirected["error_description"]
    # and they cannot use client_credentials at all
    response = token_request(live, grant_type="client_credentials", client_id="spa")
    assert response.json()["error"] == "invalid_client"


def test_signing_key_survives_a_restart(live_server_factory, tmp_path) -> None:
    state = str(tmp_path / "state.sqlite")
    first = live_server_factory(state=state)
    client_id, secret = first.settings.default_oauth_client
    issued = token_request(first, grant_type="client_credentials", client_id=client_id,
                           client_secret=secret).json()  # fmt: skip
    second = live_server_factory(state=state)
    bearer = {"Authorization": "Bearer " + issued["access_token"]}
    assert requests.get(second.base_url + "/users", headers=bearer).status_code == 200


def test_es256_tokens_verify_against_the_jwks(live_server_factory) -> None:
    live = live_server_factory(token_algorithm="ES256", token_audience="my-api")
    client_id, secret = live.settings.default_oauth_client
    access = token_request(live, grant_type="client_credentials", client_id=client_id,
                           client_secret=secret).json()["access_token"]  # fmt: skip
    key = jwt.PyJWKClient(live.origin + "/.well-known/jwks.json").get_signing_key_from_jwt(access)
    claims = jwt.decode(access, key.key, algorithms=["ES256"], audience="my-api")
    assert claims["sub"] == client_id
