"""`sandbox serve` as a user runs it: the default server on a real port, the banner's key, clean
stops, and what the server in front does with bodies, long requests, workers and signals."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

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


# -- the server in front: what `sandbox serve` does at the HTTP level ------------------------
def _key(log: Path) -> str:
    return re.search(r"sk_test_[0-9a-f]+", log.read_text()).group(0)


def _raw(base: str, request: bytes, *, timeout: float = 15) -> bytes:
    """Send ``request`` on a new connection; everything the server sends until it closes."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def _worker_pids(base: str, count: int = 2) -> set[int]:
    """Ask on new connections until ``count`` workers have answered (the last to start may
    still be starting when the first answers)."""
    pids: set[int] = set()
    deadline = time.monotonic() + 30
    while len(pids) < count and time.monotonic() < deadline:
        pids.add(requests.get(base + "/__sandbox/health", timeout=5).json()["worker_pid"])
    assert len(pids) == count, f"only {pids} answered"
    return pids


def _chunked(key: str, chunks: list[bytes]) -> bytes:
    head = (
        "POST /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
    return head + body + b"0\r\n\r\n"


def test_request_bodies_reach_the_app_framed_and_limited(tmp_path: Path) -> None:
    """A chunked body arrives decoded; one over max_body_bytes, chunked or not, is the app's
    413 in its own error shape, not a body cut at the limit."""
    (tmp_path / "sandbox.yaml").write_text("max_body_bytes: 4096\n")
    process, base, log = start(tmp_path)
    try:
        key = _key(log)
        user = json.dumps({"name": "Ada Chunked", "email": "ada.chunked@example.com"}).encode()
        answer = _raw(base, _chunked(key, [user[:7], user[7:20], user[20:]]))
        assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
        assert json.loads(answer.partition(b"\r\n\r\n")[2])["data"]["name"] == "Ada Chunked"
        # 8 KiB of chunks against a 4 KiB limit: refused, not truncated to 4 KiB of JSON
        padded = json.dumps({"name": "x" * 8000, "email": "big@example.com"}).encode()
        answer = _raw(base, _chunked(key, [padded[i : i + 1000] for i in range(0, 8100, 1000)]))
        assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
        assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["code"] == "PAYLOAD_TOO_LARGE"
        too_big = requests.post(f"{base}/v1/users", data=padded, headers={
            "Authorization": f"Bearer {key}", "Content-Type": "application/json"})  # fmt: skip
        assert too_big.status_code == 413
        assert too_big.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_long_urls_and_big_headers_are_answered_by_the_sandbox(tmp_path: Path) -> None:
    process, base, log = start(tmp_path)
    try:
        auth = {"Authorization": f"Bearer {_key(log)}"}
        long_url = requests.get(f"{base}/v1/users", params={"limit": "x" * 20_000}, headers=auth)
        assert long_url.status_code == 400  # the spec's validation error, not the server's
        assert long_url.json()["error"]["code"] == "VALIDATION_ERROR"
        big_header = requests.get(f"{base}/v1/users", headers={**auth, "X-Big": "a" * 60_000})
        assert big_header.status_code == 200
        assert big_header.json()["status"] == "success"
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_keep_alive_connections_spread_over_the_workers(tmp_path: Path) -> None:
    """Each worker listens on its own SO_REUSEPORT socket: the kernel deals connections out,
    so 16 keep-alive clients do not all end up in one worker (odds of that: 2 in 65,536)."""
    process, base, _ = start(tmp_path, "--workers", "2", "--threads", "2")
    sessions = [requests.Session() for _ in range(16)]
    try:
        _worker_pids(base)
        pids = [s.get(base + "/__sandbox/health").json()["worker_pid"] for s in sessions]
        assert len(set(pids)) == 2, pids
        # and each connection stays with its worker
        again = [s.get(base + "/__sandbox/health").json()["worker_pid"] for s in sessions]
        assert again == pids
    finally:
        for session in sessions:
            session.close()
        process.terminate()
        process.wait(timeout=15)


def test_a_killed_worker_is_replaced_and_metrics_add_up(tmp_path: Path) -> None:
    process, base, log = start(tmp_path, "--workers", "2", "--threads", "2")
    try:
        auth = {"Authorization": f"Bearer {_key(log)}"}
        pids = _worker_pids(base)
        for _ in range(10):
            assert requests.get(f"{base}/v1/users", headers=auth).status_code == 200
        victim = min(pids)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        seen: set[int] = set()
        while time.monotonic() < deadline and not (seen - pids):
            # a connection the dead worker's socket had queued is refused
            with suppress(requests.ConnectionError):
                seen.add(requests.get(base + "/__sandbox/health", timeout=5).json()["worker_pid"])
            time.sleep(0.05)
        assert seen - pids, "no new worker answered after one was killed"
        assert process.poll() is None
        for _ in range(10):
            assert requests.get(f"{base}/v1/users", headers=auth).status_code == 200
        # both workers' counts, the dead one's included, in one scrape from either
        scrape = requests.get(base + "/__sandbox/metrics").text
        counted = sum(
            float(line.rsplit(" ", 1)[1])
            for line in scrape.splitlines()
            if line.startswith("sandbox_requests_total{") and 'operation="listUsers"' in line
        )
        assert counted == 20, scrape
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_killed_server_process_leaves_no_worker_serving(tmp_path: Path) -> None:
    """SIGKILL (the OOM killer) gives the server no chance to stop its workers: they stop
    themselves, so nothing keeps answering on the port or sending the state's webhooks."""
    process, base, _ = start(tmp_path, "--workers", "2", "--threads", "2")
    workers = _worker_pids(base)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=15)
    deadline = time.monotonic() + 15
    alive = set(workers)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if _running(pid)}
        time.sleep(0.1)
    assert not alive, f"workers {sorted(alive)} outlived their server"
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "/health", timeout=2)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie no parent reaps still answers kill(0): read its state
    with suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    return True


def test_a_read_is_answered_at_once_while_a_slow_one_waits(tmp_path: Path) -> None:
    """One worker, one thread: a request made to wait (a scenario's latency) holds neither
    the thread nor the worker's event loop while it waits, and a plain read is answered
    meanwhile (were the slow one slept on the loop, the read would wait 3 s)."""
    process, base, log = start(tmp_path, "--workers", "1", "--threads", "1")
    try:
        auth = {"Authorization": f"Bearer {_key(log)}"}
        slow_headers = {**auth, "X-Sandbox-Scenario": "slow; latency=3s"}
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(requests.get, f"{base}/v1/users", headers=slow_headers, timeout=15)
            time.sleep(0.5)  # the slow one is answered, its answer held for 3 s
            started = time.monotonic()
            read = requests.get(f"{base}/v1/users", headers=auth, timeout=15)
            waited = time.monotonic() - started
            assert read.status_code == 200
            assert waited < 1.5, f"a plain read waited {waited:.1f} s behind a sleeping one"
            assert not slow.done()
            assert slow.result(timeout=15).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert "Traceback" not in log.read_text()


def test_slow_answers_wait_on_timers_not_threads(tmp_path: Path) -> None:
    """One worker, one thread, eight requests each made to wait 2 s, and a create sent while
    they wait: every slow answer comes after its own 2 s, not after the ones before it (a
    thread sleeping each wait took 16 s), and the create is answered at once."""
    process, base, log = start(tmp_path, "--workers", "1", "--threads", "1")
    try:
        auth = {"Authorization": f"Bearer {_key(log)}"}
        slow_headers = {**auth, "X-Sandbox-Scenario": "slow; latency=2s"}

        def timed(send: Any) -> tuple[int, float]:
            began = time.monotonic()
            status = send().status_code
            return status, time.monotonic() - began

        with ThreadPoolExecutor(9) as pool:
            slow = [
                pool.submit(timed, lambda: requests.get(f"{base}/v1/users", headers=slow_headers))
                for _ in range(8)
            ]
            time.sleep(0.5)
            body = {"name": "Ann Lee", "email": "ann.timers@example.com"}
            create = pool.submit(
                timed, lambda: requests.post(f"{base}/v1/users", json=body, headers=auth)
            )
            assert create.result(timeout=30)[0] == 201
            assert create.result()[1] < 1.0, f"the create waited {create.result()[1]:.1f} s"
            answered = [future.result(timeout=30) for future in slow]
        assert [status for status, _ in answered] == [200] * 8
        assert all(1.9 < took < 4.0 for _, took in answered), answered
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert "Traceback" not in log.read_text()


def test_sigterm_lets_requests_in_flight_finish(tmp_path: Path) -> None:
    process, base, log = start(tmp_path, "--chaos", "latency=1500..1500ms")
    try:
        auth = {"Authorization": f"Bearer {_key(log)}"}
        with ThreadPoolExecutor(4) as pool:
            slow = [pool.submit(requests.get, f"{base}/v1/users", headers=auth) for _ in range(4)]
            time.sleep(0.5)  # all four are in the app, sleeping
            process.send_signal(signal.SIGTERM)
            statuses = [future.result(timeout=15).status_code for future in slow]
        assert statuses == [200] * 4
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in log.read_text()


def test_sigterm_with_webhook_deliveries_in_flight_loses_none(tmp_path: Path) -> None:
    """SIGTERM while the receiver is still answering: the sandbox stops within its grace
    period, and every event is delivered once it is back (the outbox is in the state file;
    an attempt cut short is tried again, so a receiver may see an event twice, never none)."""
    from tests.webhook_receiver import start_receiver

    settings = "webhook_backoff: 0.3\nwebhook_attempts: 20\nwebhook_timeout: 5\n"
    (tmp_path / "sandbox.yaml").write_text(settings)
    state = str(tmp_path / "state.sqlite")
    receiver = start_receiver()
    receiver.answer = lambda number: (200, {}, 3.0 if number <= 5 else 0.0)  # slow at first
    process, base, log = start(tmp_path, "--state", state)
    try:
        hook = {"url": receiver.url, "events": ["*"]}
        assert requests.post(base + "/__sandbox/webhooks", json=hook).status_code == 201
        events = [
            requests.post(base + "/__sandbox/events", json={"type": "user.created"}).json()
            for _ in range(5)
        ]
        receiver.wait_for(1)  # a delivery is in flight: the receiver holds it for 3 s
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        process, base, log = start(tmp_path, "--state", state)

        def delivered() -> bool:
            found = requests.get(base + "/__sandbox/webhooks/deliveries").json()["deliveries"]
            return len(found) == 5 and all(d["status"] == "delivered" for d in found)

        # the attempt cut short keeps its claim for webhook_timeout + 30 s before a retry
        deadline = time.monotonic() + 90
        while not delivered():
            assert time.monotonic() < deadline, "the deliveries were not all made after a restart"
            time.sleep(0.2)
        received = {got.headers["X-Webhook-Id"] for got in receiver.received}
        assert received == {event["event"]["id"] for event in events}
    finally:
        process.terminate()
        process.wait(timeout=15)
        receiver.close()
    assert "Traceback" not in log.read_text()
