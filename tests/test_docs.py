"""The API docs at ``/docs``: served from this process only, and pointed at the sandbox."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sandbox import create_app, load_settings
from sandbox.jsonio import dumps, loads
from tests.conftest import DEFAULT_SPEC

CONTENT_TYPES = {
    ".css": ("text/css",),
    ".js": ("text/javascript", "application/javascript"),
    ".png": ("image/png",),
}


class _Page(HTMLParser):
    """The asset URLs a page makes the browser load, and its JSON config block."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.config: dict | None = None
        self._in_config = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name):
                self.assets.append(str(found[name]))
        self._in_config = tag == "script" and found.get("id") == "sandbox-docs-config"

    def handle_data(self, data: str) -> None:
        if self._in_config:
            self.config = json.loads(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_config = False


def read_page(client: FlaskClient, url: str = "/docs") -> _Page:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = _Page()
    page.feed(response.get_data(as_text=True))
    return page


def write_spec(tmp_path: Path, text: str) -> Flask:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    settings = load_settings(path, environ={}, overrides={"state": ":memory:"})
    return create_app(path, settings)


@pytest.mark.parametrize("url", ["/docs", "/docs/"])
def test_docs_page_loads_only_local_assets(client: FlaskClient, url: str) -> None:
    page = read_page(client, url)
    assert page.assets, "the page references no assets"
    for asset in page.assets:
        parts = urlsplit(asset)
        assert not parts.scheme and not parts.netloc, f"{asset} is not served by the sandbox"
        assert asset.startswith("/docs/")


def test_every_asset_is_served_with_its_content_type(client: FlaskClient) -> None:
    page = read_page(client)
    scripts = [asset for asset in page.assets if asset.endswith(".js")]
    assert len(scripts) >= 2, "Swagger UI and the script that starts it"
    for asset in page.assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.mimetype in CONTENT_TYPES[Path(asset).suffix], asset
        assert response.content_length


def test_page_preauthorizes_the_banner_key(client: FlaskClient, api_key: str) -> None:
    config = read_page(client).config
    assert config is not None
    assert config["apiKey"] == api_key
    assert config["apiKeySchemes"] == ["bearerAuth"]  # openapi.yaml's bearer scheme
    assert config["basicSchemes"] == []
    redirect = urlsplit(config["oauth2RedirectUrl"])
    assert redirect.netloc == "localhost"  # the test client's host
    assert client.get(redirect.path).status_code == 200


def test_spec_json_points_at_the_sandbox(client: FlaskClient, default_app: Flask) -> None:
    config = read_page(client).config
    assert config is not None
    response = client.get(config["specUrl"], base_url="http://127.0.0.1:8123")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    served = loads(response.data)
    assert served["servers"] == [{"url": "http://127.0.0.1:8123/v1", "description": "This sandbox"}]
    document = default_app.extensions["sandbox"].spec.document
    original = loads(dumps({key: value for key, value in document.items() if key != "servers"}))
    assert {key: value for key, value in served.items() if key != "servers"} == original
    assert document["servers"] == [
        {"url": "http://localhost:8000/v1", "description": "Local sandbox"}
    ], "serving the docs must not modify the spec"


SCHEMES_SPEC = """\
openapi: 3.0.3
info: {title: Schemes, version: "1"}
servers: [{url: "https://api.example.com/{version}", variables: {version: {default: v2}}}]
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Api-Key}
    basic: {type: http, scheme: basic}
    bearer: {type: http, scheme: bearer}
    oauth: {type: oauth2, flows: {clientCredentials: {tokenUrl: /oauth/token, scopes: {}}}}
security: [{key: []}, {basic: []}]
paths:
  /things:
    servers: [{url: "https://elsewhere.example.com"}]
    get:
      servers: [{url: "https://further.example.com"}]
      responses:
        "200": {description: OK}
"""


def test_every_key_scheme_is_preauthorized_and_servers_are_the_sandbox(tmp_path: Path) -> None:
    client = write_spec(tmp_path, SCHEMES_SPEC).test_client()
    config = read_page(client).config
    assert config is not None
    assert config["apiKeySchemes"] == ["key", "bearer"]
    assert config["basicSchemes"] == ["basic"]
    served = client.get("/docs/openapi.json").get_json()
    assert served["servers"] == [{"url": "http://localhost/v2", "description": "This sandbox"}]
    assert served["paths"]["/things"] == {"get": {"responses": {"200": {"description": "OK"}}}}
    key = {"X-Api-Key": config["apiKey"]}
    assert client.get("/v2/things", headers=key).status_code == 200


DOCS_SPEC = """\
openapi: 3.1.0
info: {title: Docs API, version: "1"}
paths:
  /docs:
    get:
      responses:
        "200":
          description: The API's own docs
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Owner"}
  /docs/{name}:
    get:
      parameters: [{name: name, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: One page of them
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Owner"}
    post:
      parameters: [{name: name, in: path, required: true, schema: {type: string}}]
      responses:
        "201": {description: Made}
components:
  schemas:
    Owner:
      type: object
      required: [owner]
      properties: {owner: {type: string, enum: [spec]}}
      additionalProperties: false
"""


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/docs", 200),
        ("GET", "/docs/openapi.json", 200),
        ("GET", "/docs/sandbox-docs.js", 200),
        ("POST", "/docs/openapi.json", 201),
    ],
)
def test_a_spec_that_declares_docs_is_not_shadowed(
    tmp_path: Path, method: str, url: str, status: int
) -> None:
    client = write_spec(tmp_path, DOCS_SPEC).test_client()
    response = client.open(url, method=method)
    assert response.status_code == status
    if status == 200:
        assert loads(response.data) == {"owner": "spec"}


def test_docs_still_serve_what_the_spec_does_not_declare(tmp_path: Path) -> None:
    client = write_spec(tmp_path, DOCS_SPEC).test_client()
    response = client.get("/docs/swagger-ui/swagger-ui.css")  # /docs/{name} is one segment
    assert response.status_code == 200
    assert response.mimetype == "text/css"


def test_other_methods_on_docs_reach_the_sandbox(client: FlaskClient) -> None:
    for method in ("POST", "OPTIONS", "DELETE"):
        response = client.open("/docs", method=method)
        assert response.status_code == 404, method
        assert response.mimetype == "application/json"


def test_beyond_loopback_only_the_admin_gets_the_key_pre_authorized(tmp_path) -> None:
    settings = load_settings(
        DEFAULT_SPEC, environ={},
        overrides={"state": str(tmp_path / "s"), "host": "0.0.0.0", "admin_token": "adm_t"},
    )  # fmt: skip
    client = create_app(DEFAULT_SPEC, settings).test_client()
    public = client.get("/docs")
    assert public.status_code == 200
    assert settings.default_api_key not in public.get_data(as_text=True)
    admin = client.get("/docs", headers={"X-Sandbox-Admin-Token": "adm_t"}).get_data(as_text=True)
    assert settings.default_api_key in admin
