"""Real API servers nobody here wrote, installed from PyPI as test dependencies, started on
127.0.0.1 for the contract runner to be tried on as a new user would.

Kinto (Mozilla's JSON storage service): 44 operations in the Swagger 2.0 document it
serves itself at ``/v1/__api__``, accounts with HTTP Basic auth, in-memory storage. Each
start is a fresh server (the tools change its state), with one account, ``admin``, that the
runs act as and that may create buckets.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

KINTO_USER = "admin"

KINTO_INI = """\
[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}
threads = 4

[app:main]
use = egg:kinto
kinto.includes = kinto.plugins.default_bucket
                 kinto.plugins.accounts
kinto.storage_backend = kinto.core.storage.memory
kinto.storage_url =
kinto.cache_backend = kinto.core.cache.memory
kinto.cache_url =
kinto.permission_backend = kinto.core.permission.memory
kinto.permission_url =
kinto.userid_hmac_secret = {secret}
kinto.default_bucket_hmac_secret = {secret}
multiauth.policies = account
multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy
kinto.account_create_principals = system.Everyone
kinto.account_write_principals = account:{user}
kinto.bucket_create_principals = account:{user}

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = plain

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = plain

[formatter_plain]
format = %(message)s
"""


@dataclass
class RealServer:
    """A started server: where it answers, its own spec, and the credentials to use."""

    base_url: str
    spec: Path
    user: str
    password: str
    process: subprocess.Popen[bytes]

    @property
    def authorization(self) -> str:
        pair = f"{self.user}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def principal_alive(self) -> bool:
        """The account the runs act as still signs in (the tools may not remove it)."""
        request = urllib.request.Request(
            self.base_url + "/", headers={"Authorization": self.authorization}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return bool(json.load(answer).get("user"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _kinto_command() -> list[str]:
    found = shutil.which("kinto", path=str(Path(sys.executable).parent))
    if found is None:  # the test extra installs it; say so rather than skip
        raise RuntimeError("kinto is not installed: `pip install -e '.[test]'` (make test)")
    return [found]


@contextmanager
def kinto(directory: Path) -> Iterator[RealServer]:
    """A fresh Kinto on a free port, with the ``admin`` account made; stopped afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    ini = directory / "kinto.ini"
    ini.write_text(KINTO_INI.format(port=port, secret=secrets.token_hex(16), user=KINTO_USER))
    log = (directory / "kinto.log").open("wb")
    process = subprocess.Popen(
        [*_kinto_command(), "start", "--ini", str(ini)], stdout=log, stderr=subprocess.STDOUT,
        cwd=directory, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/v1"
    try:
        _wait(base + "/", process, directory / "kinto.log")
        password = secrets.token_urlsafe(12)
        body = json.dumps({"data": {"password": password}}).encode()
        request = urllib.request.Request(
            f"{base}/accounts/{KINTO_USER}", data=body, method="PUT",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        urllib.request.urlopen(request, timeout=30).close()
        spec = directory / "kinto-openapi.json"
        with urllib.request.urlopen(base + "/__api__", timeout=30) as answer:
            spec.write_bytes(answer.read())
        yield RealServer(base, spec, KINTO_USER, password, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url}:\n{log.read_text()[-3000:]}")
