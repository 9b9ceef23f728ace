"""Two real ``sandbox serve --redis`` processes on two ports, as two machines behind a load
balancer would run them: whatever a client does through one, the other knows."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox.webhooks.signing import verify
from tests.conftest import DEFAULT_SPEC, RedisServer
from tests.e2e.server import free_port, start
from tests.webhook_receiver import start_receiver

pytestmark = pytest.mark.slow


@dataclass
class Pair:
    url: str  # the Redis both serve from
    bases: list[str]  # http://127.0.0.1:port of each process
    logs: list[Path]
    key: str  # the banner's key

    def api(self, index: int) -> str:
        return self.bases[index] + "/v1"


@pytest.fixture(scope="module")
def pair(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    url = redis_server.url(prefix=f"serve-{uuid.uuid4().hex[:10]}")
    processes, bases, logs = [], [], []
    try:
        for name in ("a", "b"):
            folder = tmp_path_factory.mktemp(f"serve-{name}")
            process, base, log = start(
                folder, "--redis", url, "--workers", "1", "--threads", "4",
                "--rate-limits", "40/hour", "--log-format", "off",
            )  # fmt: skip
            processes.append(process)
            bases.append(base)
            logs.append(log)
        key = re.search(r"sk_test_[0-9a-f]+", logs[0].read_text()).group(0)
        yield Pair(url, bases, logs, key)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)
    for log in logs:
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_records_cross_from_one_process_to_the_other(pair: Pair) -> None:
    auth = bearer(pair.key)
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    made = requests.post(pair.api(0) + "/users", json={"name": "Ada", "email": email},
                         headers=auth)  # fmt: skip
    assert made.status_code == 201, made.text
    user_id = made.json()["data"]["id"]
    assert requests.get(f"{pair.api(1)}/users/{user_id}", headers=auth).json()["data"]["email"]
    listed = requests.get(f"{pair.api(1)}/users", params={"email": email}, headers=auth).json()
    assert [u["id"] for u in listed["data"]] == [user_id]
    patched = requests.patch(f"{pair.api(1)}/users/{user_id}", json={"name": "Ada King"},
                             headers=auth)  # fmt: skip
    assert patched.status_code == 200
    assert (
        requests.get(f"{pair.api(0)}/users/{user_id}", headers=auth).json()["data"]["name"]
        == "Ada King"
    )
    assert requests.delete(f"{pair.api(0)}/users/{user_id}", headers=auth).status_code == 204
    assert requests.get(f"{pair.api(1)}/users/{user_id}", headers=auth).status_code == 404


def create_key(pair: Pair, plan: str) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "sandbox", "keys", "create", str(DEFAULT_SPEC), "--plan", plan,
         "--redis", pair.url],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    key = created.stdout.strip()
    assert re.fullmatch(r"sk_test_[0-9a-f]{24}", key), created.stdout + created.stderr
    return key


def test_a_key_made_with_the_cli_works_on_both(pair: Pair) -> None:
    key = create_key(pair, "free")
    for index in (0, 1):
        response = requests.get(pair.api(index) + "/users", headers=bearer(key))
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "10"


def test_a_plan_of_40_lets_exactly_40_through_both_processes(pair: Pair) -> None:
    """A fresh key on the 40/hour plan; 16 threads, 8 per process, 10 requests each."""
    key = create_key(pair, "default")
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def hammer(api: str) -> None:
        with requests.Session() as session:
            barrier.wait()
            for _ in range(10):
                status = session.get(api + "/items", headers=bearer(key)).status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=hammer, args=(pair.api(i % 2),)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(200) == 40 and statuses.count(429) == 120, statuses


def test_an_oauth_code_crosses_and_the_jwt_verifies_on_both(pair: Pair) -> None:
    banner = pair.logs[0].read_text()
    client_id = re.search(r"client_test_[0-9a-f]+", banner).group(0)
    secret = re.search(r"cs_test_[0-9a-f]+", banner).group(0)
    redirect = "https://client.example/callback"
    authorized = requests.get(pair.api(0) + "/oauth/authorize", params={
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect,
    }, allow_redirects=False)  # fmt: skip
    code = parse_qs(urlsplit(authorized.headers["Location"]).query)["code"][0]
    issued = requests.post(pair.api(1) + "/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
        "client_id": client_id, "client_secret": secret,
    })  # fmt: skip
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    for index in (0, 1):
        assert requests.get(pair.api(index) + "/users", headers=bearer(token)).status_code == 200


def test_idempotency_and_a_scoped_scenario_span_both(pair: Pair) -> None:
    auth = bearer(pair.key)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"name": "Once", "email": f"{uuid.uuid4().hex[:8]}@example.com"}
    first = requests.post(pair.api(0) + "/users", json=body, headers={**auth, **key})
    again = requests.post(pair.api(1) + "/users", json=body, headers={**auth, **key})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["id"] == first.json()["data"]["id"]

    made = requests.post(pair.bases[1] + "/__sandbox/scenarios/active", json={
        "scenario": "conflict", "key": pair.key, "operation": "GET /orders", "count": 1,
    })  # fmt: skip
    assert made.status_code == 201
    statuses = [
        requests.get(pair.api(i % 2) + "/orders", headers=auth).status_code for i in range(6)
    ]
    assert statuses.count(409) == 1 and statuses.count(200) == 5, statuses


def test_a_webhook_subscribed_on_one_hears_a_create_on_the_other_once(pair: Pair) -> None:
    receiver = start_receiver()
    try:
        made = requests.post(pair.bases[0] + "/__sandbox/webhooks",
                             json={"url": receiver.url, "events": ["user.created"]})  # fmt: skip
        assert made.status_code == 201
        secret = made.json()["secret"]
        email = f"{uuid.uuid4().hex[:8]}@example.com"
        created = requests.post(pair.api(1) + "/users", json={"name": "Hook", "email": email},
                                headers=bearer(pair.key))  # fmt: skip
        assert created.status_code == 201, created.text
        (delivery,) = receiver.wait_for(1, timeout=15)
        event = verify(delivery.body, delivery.headers, [secret])
        assert event["type"] == "user.created" and event["data"]["email"] == email
        time.sleep(1.5)  # both processes poll the outbox; a second send would show by now
        assert len(receiver.received) == 1
    finally:
        requests.delete(pair.bases[0] + f"/__sandbox/webhooks/{made.json()['id']}")
        receiver.close()


def test_the_journal_of_one_shows_the_other(pair: Pair) -> None:
    request_id = "serve-" + uuid.uuid4().hex
    requests.get(pair.api(1) + "/items", headers={**bearer(pair.key), "X-Request-Id": request_id})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        entries = requests.get(pair.bases[0] + "/__sandbox/requests",
                               params={"limit": 100}).json()["requests"]  # fmt: skip
        if any(e["request_id"] == request_id for e in entries):
            return
        time.sleep(0.1)
    pytest.fail("the request served by the second process never showed in the first's journal")


def test_serve_refuses_to_start_without_its_redis(tmp_path: Path) -> None:
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "serve", str(DEFAULT_SPEC), "--port", str(free_port()),
         "--redis", f"redis://127.0.0.1:{port}/0"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    text = " ".join((done.stdout + done.stderr).split())
    assert f"cannot reach Redis at redis://127.0.0.1:{port}/0: is redis-server running?" in text
    assert "Traceback" not in text


def test_serve_answers_503_while_redis_is_gone(dedicated_redis: RedisServer, tmp_path) -> None:
    process, base, log = start(tmp_path, "--redis", dedicated_redis.url(), "--log-format", "off")
    try:
        key = re.search(r"sk_test_[0-9a-f]+", log.read_text()).group(0)
        assert requests.get(base + "/v1/users", headers=bearer(key)).status_code == 200
        dedicated_redis.stop()
        for method, path in [("GET", "/v1/users"), ("POST", "/v1/users"),
                             ("GET", "/__sandbox/keys")]:  # fmt: skip
            response = requests.request(method, base + path, headers=bearer(key),
                                        json={"name": "X", "email": "x@example.com"})  # fmt: skip
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "STORAGE_UNAVAILABLE"
            assert response.headers["Retry-After"] == "5"
        assert requests.get(base + "/health").status_code == 200  # the process itself is fine
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
