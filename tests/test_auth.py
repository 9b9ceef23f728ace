"""Every security scheme type, per operation: what passes, and the exact error for what fails."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
import yaml

from sandbox import create_app, load_settings

_TEXT = {"type": "string"}
SCHEMES_SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Schemes", "version": "1"},
    "components": {
        "securitySchemes": {
            "headerKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "queryKey": {"type": "apiKey", "in": "query", "name": "api_key"},
            "cookieKey": {"type": "apiKey", "in": "cookie", "name": "session"},
            "basic": {"type": "http", "scheme": "basic"},
            "bearer": {"type": "http", "scheme": "bearer"},
            "oauth": {
                "type": "oauth2",
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": "https://auth.example.com/oauth/token",
                        "scopes": {"pets:read": "read", "pets:write": "write"},
                    },
                    "implicit": {
                        "authorizationUrl": "https://auth.example.com/oauth/authorize",
                        "scopes": {"pets:read": "read", "pets:write": "write"},
                    },
                },
            },
            "oidc": {
                "type": "openIdConnect",
                "openIdConnectUrl": "/.well-known/openid-configuration",
            },
        },
        "responses": {
            "Error": {
                "description": "error",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {"code": _TEXT, "message": _TEXT},
                        }
                    }
                },
            }
        },
    },
    "paths": {},
}
_OK = {"200": {"description": "ok", "content": {"application/json": {"schema": {}}}}}
_ERRORS = {"401": {"$ref": "#/components/responses/Error"},
           "403": {"$ref": "#/components/responses/Error"}}  # fmt: skip
for name, security in {
    "header": [{"headerKey": []}],
    "query": [{"queryKey": []}],
    "cookie": [{"cookieKey": []}],
    "basic": [{"basic": []}],
    "bearer": [{"bearer": []}],
    "oauth-read": [{"oauth": ["pets:read"]}],
    "oauth-write": [{"oauth": ["pets:write"]}],
    "oidc": [{"oidc": ["pets:read"]}],
    "both": [{"headerKey": [], "queryKey": []}],  # AND: one alternative, two schemes
    "open": [],
    "optional": [{}, {"bearer": []}],
}.items():
    SCHEMES_SPEC["paths"][f"/{name}"] = {
        "get": {"operationId": name, "security": security, "responses": {**_OK, **_ERRORS}}
    }


@pytest.fixture
def sandbox(tmp_path: Path):
    def make(**overrides):
        spec = tmp_path / "schemes.yaml"
        spec.write_text(yaml.safe_dump(SCHEMES_SPEC))
        settings = load_settings(
            spec, environ={}, overrides={"state": str(tmp_path / "s.sqlite"), **overrides}
        )
        return create_app(spec, settings).test_client(), settings

    return make


def token(client, settings, scope: str | None = None) -> str:
    client_id, secret = settings.default_oauth_client
    body = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if scope:
        body["scope"] = scope
    response = client.post("/oauth/token", data=body)
    assert response.status_code == 200, response.data
    return response.json["access_token"]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_the_banner_key_passes_every_scheme_type_where_it_is_sent(sandbox) -> None:
    client, settings = sandbox()
    key = settings.default_api_key
    client.set_cookie("session", key)
    assert client.get("/cookie").status_code == 200
    client.delete_cookie("session")
    passes = {
        "/header": {"headers": {"X-API-Key": key}},
        "/query": {"query_string": {"api_key": key}},
        "/basic": {"headers": {"Authorization": basic(key, "")}},
        "/bearer": {"headers": {"Authorization": f"Bearer {key}"}},
        "/oauth-write": {"headers": {"Authorization": f"Bearer {key}"}},  # keys hold all scopes
        "/oidc": {"headers": {"Authorization": f"Bearer {key}"}},
        "/both": {"headers": {"X-API-Key": key}, "query_string": {"api_key": key}},
    }
    for path, sent in passes.items():
        assert client.get(path, **sent).status_code == 200, path
    # the key as the password half of Basic works too (Stripe style: key as username)
    assert client.get("/basic", headers={"Authorization": basic("me", key)}).status_code == 200


@pytest.mark.parametrize(
    ("path", "challenge"),
    [
        ("/header", 'ApiKey realm="sandbox", header="X-API-Key"'),
        ("/query", 'ApiKey realm="sandbox", query="api_key"'),
        ("/cookie", 'ApiKey realm="sandbox", cookie="session"'),
        ("/basic", 'Basic realm="sandbox"'),
        ("/bearer", 'Bearer realm="sandbox"'),
        ("/oauth-read", 'Bearer realm="sandbox"'),
        ("/oidc", 'Bearer realm="sandbox"'),
    ],
)
def test_missing_credentials_are_401_with_a_challenge(sandbox, path, challenge) -> None:
    client, _ = sandbox()
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == challenge
    assert response.json["code"] == "authentication_required"
    assert "send" in response.json["message"]


def test_unknown_credentials_are_401_invalid_api_key(sandbox) -> None:
    client, settings = sandbox()
    wrong = "sk_test_" + "0" * 24
    for path, sent in {
        "/header": {"headers": {"X-API-Key": wrong}},
        "/query": {"query_string": {"api_key": wrong}},
        "/basic": {"headers": {"Authorization": basic("who", "what")}},
        "/bearer": {"headers": {"Authorization": f"Bearer {wrong}"}},
    }.items():
        response = client.get(path, **sent)
        assert response.status_code == 401, path
        assert response.json["code"] == "invalid_api_key", path
    # half of an AND requirement is not enough
    half = client.get("/both", headers={"X-API-Key": settings.default_api_key})
    assert half.status_code == 401


def test_open_and_optional_security(sandbox) -> None:
    client, settings = sandbox()
    assert client.get("/open").status_code == 200
    assert client.get("/optional").status_code == 200
    # optional means optional: a wrong credential is not held against the caller...
    assert client.get("/optional", headers={"Authorization": "Bearer nonsense"}).status_code == 200
    # ...but a right one identifies it (its own rate-limit bucket, its own records)
    keyed = client.get("/optional", headers={"Authorization": f"Bearer {settings.default_api_key}"})
    assert keyed.headers["X-RateLimit-Limit"] == "1000"


def test_tokens_carry_scopes_and_are_held_to_them(sandbox) -> None:
    client, settings = sandbox()
    reader = {"Authorization": "Bearer " + token(client, settings, "pets:read")}
    assert client.get("/oauth-read", headers=reader).status_code == 200
    assert client.get("/oidc", headers=reader).status_code == 200
    assert client.get("/bearer", headers=reader).status_code == 200  # no scopes asked there
    denied = client.get("/oauth-write", headers=reader)
    assert denied.status_code == 403
    assert denied.json["code"] == "insufficient_scope"
    assert "pets:write" in denied.json["message"]
    assert denied.headers["WWW-Authenticate"] == (
        'Bearer realm="sandbox", error="insufficient_scope", scope="pets:write"'
    )
    everything = {"Authorization": "Bearer " + token(client, settings)}
    assert client.get("/oauth-write", headers=everything).status_code == 200


def test_a_tampered_token_is_invalid_and_an_old_one_expired(sandbox) -> None:
    client, settings = sandbox(token_ttl=1)
    good = token(client, settings, "pets:read")
    head, payload, signature = good.split(".")
    forged_payload = payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")
    forged = client.get(
        "/oauth-read", headers={"Authorization": f"Bearer {head}.{forged_payload}.{signature}"}
    )
    assert forged.status_code == 401
    assert forged.json["code"] == "invalid_token"
    assert 'error="invalid_token"' in forged.headers["WWW-Authenticate"]
    assert client.get("/oauth-read", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    time.sleep(1.1)
    expired = client.get("/oauth-read", headers={"Authorization": f"Bearer {good}"})
    assert expired.status_code == 401
    assert expired.json["code"] == "token_expired"
    assert "expired" in expired.headers["WWW-Authenticate"]


def test_tokens_from_another_sandbox_are_refused(sandbox, tmp_path) -> None:
    client, _ = sandbox()
    other_spec = tmp_path / "other" / "schemes.yaml"
    other_spec.parent.mkdir()
    other_spec.write_text(yaml.safe_dump(SCHEMES_SPEC))
    other_settings = load_settings(
        other_spec, environ={}, overrides={"state": str(tmp_path / "other" / "s.sqlite")}
    )
    other = create_app(other_spec, other_settings).test_client()
    foreign = token(other, other_settings, "pets:read")  # same client id, different key
    response = client.get("/oauth-read", headers={"Authorization": f"Bearer {foreign}"})
    assert response.status_code == 401
    assert response.json["code"] == "invalid_token"


def test_the_flow_urls_of_another_host_are_served_by_the_sandbox(sandbox) -> None:
    client, _ = sandbox()
    metadata = client.get("/.well-known/openid-configuration").json
    assert metadata["token_endpoint"].endswith("/oauth/token")
    assert metadata["authorization_endpoint"].endswith("/oauth/authorize")
    assert set(metadata["scopes_supported"]) == {"pets:read", "pets:write"}
    # the implicit flow gives "token"; OpenID Connect brings the code flow
    assert metadata["response_types_supported"] == ["code", "token"]
    assert "password" not in metadata["grant_types_supported"]  # no password flow declared


def test_the_implicit_flow_returns_the_token_in_the_fragment(sandbox) -> None:
    client, settings = sandbox()
    client_id, _ = settings.default_oauth_client
    response = client.get(
        "/oauth/authorize",
        query_string={
            "response_type": "token", "client_id": client_id, "scope": "pets:read",
            "redirect_uri": "https://app.example/cb", "state": "s1",
        },
    )  # fmt: skip
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("https://app.example/cb#access_token=")
    assert "state=s1" in location and "token_type=Bearer" in location


def test_a_client_can_act_as_an_api_key(sandbox) -> None:
    client, _ = sandbox(
        plans={"tiny": "3/hour"},
        keys=[{"key": "sk_test_partner", "plan": "tiny"}],
        oauth_clients=[{"client_id": "partner", "client_secret": "s3cret",
                        "api_key": "sk_test_partner", "scopes": ["pets:read"]}],
    )  # fmt: skip
    issued = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic("partner", "s3cret")},
    )
    assert issued.status_code == 200, issued.data
    assert issued.json["scope"] == "pets:read"
    bearer = {"Authorization": "Bearer " + issued.json["access_token"]}
    first = client.get("/oauth-read", headers=bearer)
    assert first.headers["X-RateLimit-Limit"] == "3"
    # the key and the token spend one bucket
    keyed = client.get("/header", headers={"X-API-Key": "sk_test_partner"})
    assert keyed.headers["X-RateLimit-Remaining"] == "1"
