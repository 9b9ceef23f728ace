"""Shared fixtures: the sandbox served for real on 127.0.0.1, or through Flask's test client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, make_server

from sandbox import Settings, create_app, load_settings

pytest_plugins = ["tests.browser"]
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT / "openapi.yaml"
CORPUS = ROOT.parent / "shared" / "corpus"


@dataclass
class LiveServer:
    """A sandbox listening on a real socket, for clients that speak HTTP."""

    app: Flask
    server: BaseWSGIServer
    settings: Settings

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def base_url(self) -> str:
        return self.origin + self.app.extensions["sandbox"].spec.base_path

    @property
    def api_key(self) -> str:
        return self.settings.default_api_key


def serve(spec: Path, **overrides: object) -> LiveServer:
    settings = load_settings(spec, environ={}, overrides={"state": ":memory:", **overrides})
    app = create_app(spec, settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return LiveServer(app, server, settings)


def signed_in_client(tmp_path: Path) -> FlaskClient:
    """The default spec's app on a state file of its own, every request with the banner key."""
    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"state": str(tmp_path / "s")})
    client = create_app(DEFAULT_SPEC, settings).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {settings.default_api_key}"
    return client


@pytest.fixture
def live_server_factory() -> Iterator:
    started: list[LiveServer] = []

    def start(spec: Path = DEFAULT_SPEC, **overrides: object) -> LiveServer:
        live = serve(spec, **overrides)
        started.append(live)
        return live

    yield start
    for live in started:
        live.server.shutdown()
        live.server.server_close()


@pytest.fixture(scope="session")
def default_app() -> Flask:
    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"seed": 7, "state": ":memory:"})
    return create_app(DEFAULT_SPEC, settings)


@pytest.fixture
def client(default_app: Flask):
    return default_app.test_client()


@pytest.fixture(scope="session")
def api_key(default_app: Flask) -> str:
    return default_app.extensions["sandbox"].settings.default_api_key


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}
