"""`sandbox serve` as a user runs it: gunicorn on a real port, the banner's key, clean stops."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
import requests

from tests.conftest import DEFAULT_SPEC
from tests.e2e.server import start


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_a_working_key_and_stops_cleanly(tmp_path: Path, stop_signal) -> None:
    process, base, log = start(tmp_path, "--workers", "2", "--threads", "2", "--seed", "5")
    try:
        banner = log.read_text()
        assert f"{base}/v1" in banner and "Operations" in banner
        key = re.search(r"sk_test_[0-9a-f]+", banner).group(0)
        response = requests.get(f"{base}/v1/users", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200
        assert response.json()["status"] == "success"
        assert int(response.headers["X-RateLimit-Remaining"]) < int(
            response.headers["X-RateLimit-Limit"]
        )
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in log.read_text()


def test_seed_client_snippets_work_unchanged(tmp_path: Path) -> None:
    """The integration guides' own Python snippets, pointed at the sandbox."""
    process, base, log = start(tmp_path)
    try:
        key = re.search(r"sk_test_[0-9a-f]+", log.read_text()).group(0)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        # guide 001: create a dataset
        data = {"name": "Sample Dataset", "values": [1, 2, 3, 4, 5]}
        response = requests.post(f"{base}/v1/data", json=data, headers=headers)
        assert response.status_code == 201, response.text
        # guide 003: an order in camelCase, and bulk users
        order = {"userId": "123", "orderItems": [{"productId": "456", "quantity": 2}]}
        response = requests.post(f"{base}/v1/orders", headers=headers, json=order)
        response.raise_for_status()
        chunk = [{"name": "John Doe", "email": "john.doe@example.com"}]
        requests.post(
            f"{base}/v1/users/bulk", headers=headers, json={"users": chunk}
        ).raise_for_status()
        # guide 002: webhook registration
        webhook = {"url": "https://your-app.com/webhooks",
                   "events": ["user.created", "user.updated", "user.deleted"],
                   "secret": "your-webhook-secret"}  # fmt: skip
        requests.post(f"{base}/v1/webhooks", headers=headers, json=webhook).raise_for_status()
        # guide 003's error handling reads error.message
        bad = requests.post(f"{base}/v1/orders", headers=headers, json={"userId": ""})
        assert bad.status_code == 400
        assert bad.json()["error"]["message"]
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_two_worker_processes_share_one_state(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    process, base, log = start(tmp_path, "--workers", "2", "--threads", "2", "--state", str(state))
    try:
        key = re.search(r"sk_test_[0-9a-f]+", log.read_text()).group(0)
        auth = {"Authorization": f"Bearer {key}"}
        created = []
        for i in range(20):  # no session: each request is a new connection, either worker
            response = requests.post(f"{base}/v1/data", json={"name": f"d{i}", "values": [i]},
                                     headers=auth)  # fmt: skip
            assert response.status_code == 201, response.text
            created.append(response.json()["data"]["id"])
        for record_id in created:
            assert requests.get(f"{base}/v1/data/{record_id}", headers=auth).status_code == 200
        totals = {
            requests.get(f"{base}/v1/data?limit=1", headers=auth).json()["meta"]["total"]
            for _ in range(10)
        }
        assert totals == {25 + 20}
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_key_created_with_the_cli_works_on_the_running_server(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    process, base, _ = start(tmp_path, "--workers", "2", "--state", state)
    try:
        created = subprocess.run(
            [sys.executable, "-m", "sandbox", "keys", "create", str(DEFAULT_SPEC),
             "--plan", "free", "--state", state],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        key = created.stdout.strip()
        assert re.fullmatch(r"sk_test_[0-9a-f]{24}", key), created.stdout + created.stderr
        response = requests.get(f"{base}/v1/users", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "10"  # free: 10/second burst
        listed = subprocess.run(
            [sys.executable, "-m", "sandbox", "keys", "list", str(DEFAULT_SPEC), "--state", state],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        assert key in listed and "free" in listed
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_oauth_grants_and_keys_are_shared_by_worker_processes(tmp_path: Path) -> None:
    """A code issued by one worker is redeemed by another, and every worker signs and
    verifies with the one key in the state file. Each step uses a new connection, and the
    worker behind it says its pid, until a code has crossed from one worker to the other."""
    process, base, log = start(tmp_path, "--workers", "2", "--threads", "2")
    redirect_uri = "http://127.0.0.1:1/cb"
    try:
        banner = log.read_text()
        client_id = re.search(r"client_test_[0-9a-f]+", banner).group(0)
        secret = re.search(r"cs_test_[0-9a-f]+", banner).group(0)
        kids, crossed = set(), 0
        for round_ in range(40):
            with requests.Session() as first:
                issuer_pid = first.get(base + "/__sandbox/health").json()["worker_pid"]
                redirect = first.get(
                    base + "/v1/oauth/authorize",
                    params={"response_type": "code", "client_id": client_id,
                            "redirect_uri": redirect_uri, "state": str(round_)},
                    allow_redirects=False,
                )  # fmt: skip
            code = re.search(r"code=([^&]+)", redirect.headers["Location"]).group(1)
            with requests.Session() as second:
                redeemer_pid = second.get(base + "/__sandbox/health").json()["worker_pid"]
                issued = second.post(
                    base + "/v1/oauth/token",
                    data={"grant_type": "authorization_code", "code": code,
                          "redirect_uri": redirect_uri},
                    auth=(client_id, secret),
                )  # fmt: skip
            assert issued.status_code == 200, issued.text
            token = issued.json()["access_token"]
            kids.add(jwt.get_unverified_header(token)["kid"])
            with requests.Session() as third:
                users = third.get(base + "/v1/users", headers={"Authorization": f"Bearer {token}"})
            assert users.status_code == 200, users.text
            crossed += issuer_pid != redeemer_pid
            if crossed >= 2:
                break
        assert crossed >= 2, "the two workers never split the flow; cannot prove sharing"
        assert len(kids) == 1
    finally:
        process.terminate()
        process.wait(timeout=15)
