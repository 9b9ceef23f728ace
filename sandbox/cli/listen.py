"""``sandbox webhooks listen``: a local receiver that verifies each delivery and prints it.

For demos and for checking a secret: it answers 200 to authentic deliveries and 401 to the
rest, the way the integration guides' receivers do, so the sandbox's retries show too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Console
from werkzeug.wrappers import Request, Response

from sandbox.errors import WebhookVerificationError
from sandbox.webhooks.signing import DEFAULT_TOLERANCE, verify


def receiver_app(
    secrets: Iterable[str], console: Console, tolerance: int = DEFAULT_TOLERANCE
) -> Callable[..., Any]:
    keys = list(secrets)

    @Request.application
    def app(request: Request) -> Response:
        if request.method != "POST":
            return Response("POST webhook deliveries here\n", status=405, headers={"Allow": "POST"})
        body = request.get_data()
        try:
            event: Any = verify(body, dict(request.headers), keys, tolerance) if keys else None
        except WebhookVerificationError as exc:
            console.print(f"[bold red]rejected[/] {request.path}: {exc}", highlight=False)
            return Response(json.dumps({"error": "Invalid signature"}), status=401,
                            content_type="application/json")  # fmt: skip
        if event is None:
            event = json.loads(body or b"null")
            verdict = "[yellow]unverified[/] (no --secret)"
        else:
            verdict = "[green]verified[/]"
        kind = event.get("type") if isinstance(event, dict) else None
        console.print(f"{verdict} {kind or 'delivery'} {request.path}", highlight=False)
        console.print_json(data=event)
        return Response(json.dumps({"received": True}), content_type="application/json")

    return app
