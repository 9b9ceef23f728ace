"""Webhook delivery throughput: N events to S subscriptions through `sandbox serve`.

Starts the sandbox (gunicorn) and S receivers on 127.0.0.1, subscribes each receiver to
every event, triggers N events through /__sandbox/events, and prints how long the N x S
signed deliveries took to arrive, and how many verified. Prints figures; asserts nothing.

    python bench/webhook_bench.py --events 1000 --subscriptions 3 --workers 1
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[tuple[bytes, str]] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with owner.lock:
                    owner.bodies.append((body, self.headers.get("X-Signature", "")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--subscriptions", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
    command = [sys.executable, "-m", "sandbox", "serve", str(ROOT / "openapi.yaml"),
               "--port", str(port), "--workers", str(args.workers),
               "--state", str(work / "state.sqlite")]  # fmt: skip
    process = subprocess.Popen(command, cwd=work, stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(base + "/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        receivers = [Receiver() for _ in range(args.subscriptions)]
        secrets = [
            requests.post(
                base + "/__sandbox/webhooks", json={"url": r.url, "events": ["*"]}
            ).json()["secret"]
            for r in receivers
        ]
        expected = args.events * args.subscriptions
        started = time.monotonic()
        local = threading.local()

        def trigger(number: int) -> None:
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            session.post(base + "/__sandbox/events",
                         json={"type": "order.created", "data": {"n": number}})  # fmt: skip

        with ThreadPoolExecutor(8) as pool:  # 8 clients, so triggering does not set the pace
            list(pool.map(trigger, range(args.events)))
        queued = time.monotonic() - started
        deadline = time.monotonic() + 300
        while sum(len(r.bodies) for r in receivers) < expected and time.monotonic() < deadline:
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        arrived = sum(len(r.bodies) for r in receivers)
        verified = sum(
            hmac.compare_digest(hmac.new(s.encode(), body, hashlib.sha256).hexdigest(), sig)
            for r, s in zip(receivers, secrets, strict=True)
            for body, sig in r.bodies
        )
        print(f"events {args.events} x subscriptions {args.subscriptions}, "
              f"sandbox workers {args.workers}")  # fmt: skip
        print(
            f"triggered in {queued:.2f} s; {arrived}/{expected} deliveries arrived in "
            f"{elapsed:.2f} s: {arrived / elapsed:,.0f} deliveries/s; {verified} verified"
        )
    finally:
        process.terminate()
        process.wait(timeout=15)


if __name__ == "__main__":
    main()
