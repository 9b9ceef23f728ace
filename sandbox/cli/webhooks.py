"""``sandbox trigger`` and ``sandbox webhooks listen``: send an event, receive deliveries."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console

from sandbox.cli.common import console, fail


@click.command()
@click.argument("event_type")
@click.option("--data", help="The event's data as JSON; without it, a realistic generated record.")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True,
              help="The running sandbox.")  # fmt: skip
def trigger(event_type: str, data: str | None, url: str) -> None:
    """Send EVENT_TYPE (user.created, ...) to every matching webhook subscription."""
    import urllib3

    body: dict[str, Any] = {"type": event_type}
    if data is not None:
        try:
            body["data"] = json.loads(data)
        except ValueError as exc:
            fail(f"--data is not JSON: {exc}")
    try:
        response = urllib3.request(
            "POST", url.rstrip("/") + "/__sandbox/events", json=body, timeout=10, retries=False
        )
    except urllib3.exceptions.HTTPError as exc:
        fail(f"cannot reach the sandbox at {url} ({exc}); is `sandbox serve` running?")
    answer = response.json() if response.data else {}
    if response.status != 202:
        fail(str((answer.get("error") or {}).get("message") or response.data[:200]))
    count = len(answer.get("deliveries", []))
    console.print(f"[green]{event_type}[/] {answer['event'].get('id', '')}: {count} delivery(ies)",
                  highlight=False)  # fmt: skip
    click.echo(json.dumps(answer["event"]))


@click.group()
def webhooks() -> None:
    """Tools for webhook receivers."""


@webhooks.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9000, show_default=True, type=int)
@click.option("--secret", "secrets", multiple=True,
              help="Verify with this secret (repeat during a rotation).")  # fmt: skip
def listen(host: str, port: int, secrets: tuple[str, ...]) -> None:
    """Receive webhooks locally: verify each delivery and print it."""
    from werkzeug.serving import run_simple

    from sandbox.cli.listen import receiver_app

    out = Console()
    mode = "verifying signatures" if secrets else "no --secret: not verifying"
    out.print(f"listening on http://{host}:{port}/ ({mode})")
    run_simple(host, port, receiver_app(secrets, out), threaded=True)
