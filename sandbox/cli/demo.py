"""``sandbox demo``: three things a client must cope with, shown live in the terminal.

A sandbox and a webhook receiver start on free ports of 127.0.0.1, and a small client, written
the way the integration guides tell clients to behave, meets:

1. a rate limit: it reads ``X-RateLimit-Remaining``, gets a 429, waits ``Retry-After``, goes on;
2. a flaky endpoint: ``flaky; fails=2`` with an ``Idempotency-Key``; it retries until the
   create succeeds, and a last retry is replayed instead of creating twice;
3. a signed webhook: the create is delivered to the receiver, which verifies the signature.

Everything goes over real HTTP, so what is printed is what a real client would see.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import urllib3
from rich.console import Console
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sandbox.cli.common import fail
from sandbox.config.settings import load_settings
from sandbox.errors import ConfigError, SpecError, WebhookVerificationError
from sandbox.spec.model import Operation
from sandbox.webhooks.signing import verify

DEMO_KEY = "sk_test_demo_rate_limited_0001"
WEBHOOK_SECRET = "whsec_ZGVtby1zZWNyZXQtZm9yLXRoZS1zYW5kYm94LWRlbW8="


class _Receiver:
    """A webhook endpoint that verifies what it gets, as a receiver in production should."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.arrived = threading.Event()
        self.events: list[Any] = []

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        body = request.get_data()
        try:
            event = verify(body, dict(request.headers), WEBHOOK_SECRET)
        except WebhookVerificationError as exc:
            self.console.print(f"  [red]receiver: signature rejected[/] ({exc})")
            return Response("bad signature", status=401)(environ, start_response)
        signature = request.headers.get("X-Signature", "")
        self.console.print(
            f"  [green]receiver: {event.get('type')} arrived, signature verified[/] "
            f"(X-Signature {signature[:16]}…)",
            highlight=False,
        )
        self.events.append(event)
        self.arrived.set()
        return Response(json.dumps({"received": True}))(environ, start_response)


def _serve(app: Any) -> tuple[Any, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _list_and_create(operations: list[Operation]) -> tuple[Operation, Operation]:
    """A collection the demo can list and create in: /users on the default spec."""
    for create in operations:
        if create.method.lower() != "post" or "{" in create.path or not create.request_body:
            continue
        for listing in operations:
            if listing.method.lower() == "get" and listing.path == create.path:
                return listing, create
    raise SystemExit(
        "sandbox demo needs a collection it can list and create in (GET and POST on one path, "
        "as /users in openapi.yaml); this spec has none."
    )


def run_demo(spec_path: Path, console: Console, *, pause: Callable[[float], None]) -> bool:
    """Run the three acts; True when each went as a well-behaved client expects."""
    from sandbox.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the demo prints what matters
    state = tempfile.TemporaryDirectory(prefix="sandbox-demo-")
    settings = load_settings(
        spec_path,
        environ={},
        overrides={
            "state": str(Path(state.name) / "state.sqlite"),
            "plans": {"demo": "5/3 seconds"},
            "keys": [{"key": DEMO_KEY, "plan": "demo"}],
            "webhook_backoff": 0.5,
        },
    )
    app = create_app(spec_path, settings)
    sandbox = app.extensions["sandbox"]
    sandbox.webhooks.start()
    receiver = _Receiver(console)
    servers = []
    try:
        api, origin = _serve(app)
        hook, hook_url = _serve(receiver)
        servers += [api, hook]
        base = origin + sandbox.spec.base_path
        listing, create = _list_and_create(sandbox.spec.operations)
        http = urllib3.PoolManager(retries=False, timeout=10)
        console.rule("[bold]sandbox demo")
        console.print(f"sandbox at {origin}, webhook receiver at {hook_url}\n")
        ok = _rate_limit_act(console, http, base + listing.path, pause)
        body = sandbox.faker.generate(
            _request_schema(create), rng=random.Random(), mode="request", fresh=True
        )
        ok &= _flaky_act(console, http, base + create.path, body, settings, pause)
        fresh = sandbox.faker.generate(
            _request_schema(create), rng=random.Random(), mode="request", fresh=True
        )
        ok &= _webhook_act(
            console, http, origin, base + create.path, fresh, settings, receiver, hook_url
        )
        console.rule("[bold green]done" if ok else "[bold red]something did not go as expected")
        return ok
    finally:
        for server in servers:
            server.shutdown()
        state.cleanup()


def _request_schema(operation: Operation) -> Any:
    content = (operation.request_body or {}).get("content") or {}
    media: dict[str, Any] = content.get("application/json") or next(iter(content.values()), {})
    return media.get("schema") or {"type": "object"}


def _rate_limit_act(
    console: Console, http: urllib3.PoolManager, url: str, pause: Callable[[float], None]
) -> bool:
    console.print("[bold]1. A rate limit[/] (plan demo: 5 requests per 3 seconds)")
    auth = {"Authorization": f"Bearer {DEMO_KEY}"}
    backed_off = False
    for number in range(1, 9):
        answer = http.request("GET", url, headers=auth)
        remaining = answer.headers.get("X-RateLimit-Remaining")
        if answer.status == 429:
            wait = int(answer.headers["Retry-After"])
            console.print(
                f"  request {number}: [red]429[/] Too Many Requests, Retry-After {wait}s: "
                "backing off",
                highlight=False,
            )
            pause(wait)
            backed_off = True
            continue
        console.print(f"  request {number}: [green]{answer.status}[/], {remaining} left")
        if backed_off:
            console.print("  [green]after waiting Retry-After the client goes on[/]\n")
            return answer.status == 200
    return False


def _flaky_act(
    console: Console, http: urllib3.PoolManager, url: str, body: Any, settings: Any,
    pause: Callable[[float], None],
) -> bool:  # fmt: skip
    console.print("[bold]2. A flaky endpoint[/] (X-Sandbox-Scenario: flaky; fails=2)")
    key = f"demo-{uuid.uuid4().hex[:8]}"
    headers = {
        "Authorization": f"Bearer {settings.default_api_key}",
        "Content-Type": "application/json",
        "Idempotency-Key": key,
        "X-Sandbox-Scenario": "flaky; fails=2",
    }
    payload = json.dumps(body).encode()
    created = None
    for attempt in range(1, 6):
        answer = http.request("POST", url, body=payload, headers=headers)
        if answer.status < 500:
            created = answer
            console.print(f"  attempt {attempt}: [green]{answer.status}[/] created")
            break
        wait = float(answer.headers.get("Retry-After", 2 ** (attempt - 1)))
        console.print(
            f"  attempt {attempt}: [red]{answer.status}[/], retrying in {wait:g}s "
            f"with the same Idempotency-Key {key}",
            highlight=False,
        )
        pause(wait)
    if created is None or created.status >= 300:
        return False
    again = http.request("POST", url, body=payload, headers=headers)
    replayed = again.headers.get("Idempotent-Replayed") == "true" and again.data == created.data
    console.print(
        f"  one more retry: {again.status}, Idempotent-Replayed: "
        f"{again.headers.get('Idempotent-Replayed')}: [green]nothing created twice[/]\n"
        if replayed
        else "  [red]the retry was not replayed[/]\n"
    )
    return replayed


def _webhook_act(
    console: Console, http: urllib3.PoolManager, origin: str, url: str, body: Any,
    settings: Any, receiver: _Receiver, hook_url: str,
) -> bool:  # fmt: skip
    console.print("[bold]3. A signed webhook[/]")
    http.request(
        "POST", origin + "/__sandbox/webhooks",
        body=json.dumps({"url": hook_url + "/hooks", "events": ["*"], "secret": WEBHOOK_SECRET}),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    answer = http.request(
        "POST", url, body=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {settings.default_api_key}",
                 "Content-Type": "application/json"},
    )  # fmt: skip
    console.print(f"  POST {url.removeprefix(origin)}: {answer.status}; waiting for the webhook")
    arrived = receiver.arrived.wait(15)
    if not arrived:
        console.print("  [red]no webhook arrived in 15 s[/]")
    return arrived and 200 <= answer.status < 300


@click.command()
@click.argument("spec", type=click.Path(path_type=Path, exists=True), default="openapi.yaml")
def demo(spec: Path) -> None:
    """Show a client meeting a rate limit, a flaky endpoint and a signed webhook.

    Starts its own sandbox for SPEC and a webhook receiver on free ports of 127.0.0.1, with
    a throwaway state; nothing else is needed."""
    import time

    try:
        ok = run_demo(spec, Console(), pause=time.sleep)
    except (SpecError, ConfigError) as exc:
        fail(str(exc))
    sys.exit(0 if ok else 1)
