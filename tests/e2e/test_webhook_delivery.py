"""Webhook delivery under `sandbox serve`: a SIGKILL loses nothing, and load arrives whole."""

from __future__ import annotations

import collections
import hashlib
import hmac
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.e2e.server import free_port, start
from tests.webhook_receiver import start_receiver

FAST = "webhook_backoff: 0.3\nwebhook_attempts: 20\nwebhook_timeout: 2\n"


def deliveries(base: str, **filters: str) -> list[dict]:
    params = {"limit": "1000", **filters}
    return requests.get(base + "/__sandbox/webhooks/deliveries", params=params).json()["deliveries"]


def wait_until(check, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_pending_deliveries_survive_a_sigkill(tmp_path: Path) -> None:
    (tmp_path / "sandbox.yaml").write_text(FAST)
    state = str(tmp_path / "state.sqlite")
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks"  # nothing listens yet: every attempt is refused
    process, base, _ = start(tmp_path, "--state", state)
    try:
        made = requests.post(
            base + "/__sandbox/webhooks", json={"url": url, "events": ["*"], "secret": "s3cret"}
        )
        assert made.status_code == 201
        for _ in range(5):
            requests.post(base + "/__sandbox/events", json={"type": "user.created"})

        def all_tried() -> bool:
            logged = deliveries(base)
            return len(logged) == 5 and all(d["attempts"] >= 1 for d in logged)

        wait_until(all_tried, what="a first failed attempt of each delivery")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=15)

    receiver = start_receiver(port)
    process, base, log = start(tmp_path, "--state", state)
    try:
        wait_until(
            lambda: all(d["status"] == "delivered" for d in deliveries(base)),
            what="delivery after the restart",
        )
        logged = deliveries(base)
        assert len(logged) == 5
        received = collections.Counter(r.headers["X-Webhook-Id"] for r in receiver.received)
        for delivery in logged:
            attempts = delivery["attempt_log"]
            assert attempts[0]["status"] is None and "refused" in attempts[0]["error"].lower()
            assert attempts[-1]["status"] == 200
            # every time the receiver saw it is an attempt in the log: no silent duplicates
            successes = sum(1 for a in attempts if a["status"] == 200)
            assert received[delivery["event_id"]] == successes == 1
        for got in receiver.received:
            expected = hmac.new(b"s3cret", got.body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(got.headers["X-Signature"], expected)
    finally:
        process.terminate()
        process.wait(timeout=15)
        receiver.close()
    assert "Traceback" not in log.read_text()


def test_a_thousand_events_to_three_subscriptions_arrive_whole(tmp_path: Path) -> None:
    receivers = [start_receiver() for _ in range(3)]
    process, base, _ = start(tmp_path, "--state", str(tmp_path / "state.sqlite"))
    try:
        secrets = []
        for receiver in receivers:
            made = requests.post(
                base + "/__sandbox/webhooks", json={"url": receiver.url, "events": ["order.*"]}
            ).json()
            secrets.append(made["secret"])
        started = time.monotonic()
        with requests.Session() as session:
            for number in range(1000):
                session.post(
                    base + "/__sandbox/events",
                    json={"type": "order.created", "data": {"id": f"ord_{number}"}},
                )
        for receiver in receivers:
            receiver.wait_for(1000, timeout=120)
        elapsed = time.monotonic() - started
        for receiver, secret in zip(receivers, secrets, strict=True):
            ids = set()
            for got in receiver.received:
                expected = hmac.new(secret.encode(), got.body, hashlib.sha256).hexdigest()
                assert hmac.compare_digest(got.headers["X-Signature"], expected)
                ids.add(got.headers["X-Webhook-Id"])
            assert len(receiver.received) == 1000 and len(ids) == 1000
        print(f"3,000 deliveries in {elapsed:.1f} s: {3000 / elapsed:.0f} deliveries/s")
    finally:
        process.terminate()
        process.wait(timeout=15)
        for receiver in receivers:
            receiver.close()


def test_trigger_and_listen_commands(tmp_path: Path) -> None:
    """`sandbox webhooks listen` verifies what `sandbox trigger` makes the server send."""
    listen_port = free_port()
    listen_log = tmp_path / "listen.log"
    listener = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "webhooks", "listen", "--port", str(listen_port),
         "--secret", "whsec_demo_secret"],
        stdout=listen_log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    process, base, _ = start(tmp_path, "--state", str(tmp_path / "state.sqlite"))
    try:
        requests.post(
            base + "/__sandbox/webhooks",
            json={"url": f"http://127.0.0.1:{listen_port}/in", "secret": "whsec_demo_secret",
                  "events": ["user.*"], "scheme": "standard-webhooks"},
        )  # fmt: skip
        sent = subprocess.run(
            [sys.executable, "-m", "sandbox", "trigger", "user.created", "--url", base,
             "--data", '{"id": "usr_demo"}'],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["data"] == {"id": "usr_demo"}
        wait_until(lambda: "usr_demo" in listen_log.read_text(), what="the listener's output")
        assert "verified user.created /in" in listen_log.read_text()
        unreachable = subprocess.run(
            [sys.executable, "-m", "sandbox", "trigger", "user.created", "--url",
             f"http://127.0.0.1:{free_port()}"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert unreachable.returncode == 2
        assert "is `sandbox serve` running?" in unreachable.stderr
    finally:
        process.terminate()
        process.wait(timeout=15)
        listener.terminate()
        listener.wait(timeout=15)
