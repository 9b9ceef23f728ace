"""Shared fixtures: the sandbox served for real on 127.0.0.1, or through Flask's test client."""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, make_server

from sandbox import Settings, create_app, load_settings
from tests.corpus import CorpusMissing, corpus_dir

pytest_plugins = ["tests.browser"]
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT / "openapi.yaml"


def corpus_path() -> Path:
    """The real-world corpus, unpacked from the repo's archive once per process (tests/corpus.py).

    For modules that parametrise over it at collection time; tests use the ``corpus`` fixture.
    Without the archive this fails, with what to do, rather than collecting fewer tests.
    """
    try:
        return corpus_dir()
    except CorpusMissing as missing:
        problem = str(missing)
    pytest.fail(problem, pytrace=False)  # outside the except: no chained traceback to read


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The unpacked corpus; the same folder corpus_path() gives, so it is unpacked only once."""
    return corpus_path()


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


# -- a real redis-server, for the Redis backend's tests (tests/test_redis*.py) ---------------
REDIS_SERVER = Path(os.environ.get("SANDBOX_REDIS_SERVER", "/usr/bin/redis-server"))


@dataclass
class RedisServer:
    """A redis-server of the test's own on 127.0.0.1: no persistence, its own directory."""

    port: int
    process: subprocess.Popen

    def url(self, prefix: str | None = None, db: int = 0) -> str:
        """A URL whose keys live under ``prefix`` (each test passes its own)."""
        query = f"?prefix={prefix}" if prefix else ""
        return f"redis://127.0.0.1:{self.port}/{db}{query}"

    def client(self):  # -> redis.Redis
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_redis_server(directory: Path) -> RedisServer:
    """Start redis-server on a free port and wait until it answers PING. Without the binary
    the test fails (it does not skip): `make test` installs Debian's redis-server."""
    import socket
    import time

    if not REDIS_SERVER.is_file():
        pytest.fail(
            f"redis-server ({REDIS_SERVER}) is missing, so the Redis tests cannot run. Run "
            "`make test`, which installs Debian's redis-server package (as root), or set "
            "SANDBOX_REDIS_SERVER.",
            pytrace=False,
        )
    directory.mkdir(parents=True, exist_ok=True)
    for _ in range(5):  # a free port may be taken again before redis-server binds it
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        log = (directory / f"redis-{port}.log").open("wb")
        process = subprocess.Popen(
            [str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(directory), "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        server = RedisServer(port, process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return server
            except OSError:
                time.sleep(0.05)
        server.stop()
    pytest.fail(f"redis-server did not start; see the logs in {directory}", pytrace=False)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server per test process (each xdist worker starts its own)."""
    server = start_redis_server(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The shared server, with a key prefix no other test uses."""
    return redis_server.url(prefix=f"test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def dedicated_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server for this test alone, which it may stop (to see Redis fail)."""
    server = start_redis_server(tmp_path / "redis")
    yield server
    server.stop()
