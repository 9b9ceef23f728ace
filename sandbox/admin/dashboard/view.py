"""What the dashboard shows when it is first served, read straight from the sandbox's parts.

The values have the admin JSON API's shapes, so the template and the page's script read the
same fields, and the page is complete before the script's first poll.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from werkzeug.wrappers import Request

from sandbox.admin.services import AdminServices
from sandbox.observe.journal import JournalFilter
from sandbox.scenarios.presets import PRESETS, SCENARIO_HEADER

#: Webhook request headers a receiver verifies, shown with every attempt. The script reads
#: the same pattern from the page, so both pick the same headers.
SIGNATURE_HEADERS = r"signature|timestamp|webhook-id"
SHOWN_REQUESTS = 50
SHOWN_DELIVERIES = 50

_signature = re.compile(SIGNATURE_HEADERS, re.IGNORECASE)


def snapshot(sandbox: AdminServices, request: Request, api: str) -> dict[str, Any]:
    """Everything the template renders; ``api`` is where the admin API is mounted."""
    root = request.root_url.rstrip("/")
    requests = sandbox.journal.entries(JournalFilter(limit=SHOWN_REQUESTS))
    operations = [
        {"value": op.operation_id or op.key, "label": f"{op.operation_id} ({op.key})"}
        for op in sandbox.spec.operations
    ]
    client_id, _secret = sandbox.settings.default_oauth_client
    return {
        "title": sandbox.spec.title,
        "base_url": root + sandbox.spec.base_path,
        "token_url": root + sandbox.oauth.surface.token_path,
        "banner_key": sandbox.settings.default_api_key,
        "banner_client": client_id,
        "keys": [key.as_dict() for key in sandbox.keys.all()],
        "plans": sandbox.settings.all_plans(),
        "default_plan": sandbox.settings.default_plan,
        "oauth_clients": [client.as_dict() for client in sandbox.oauth.clients.values()],
        "usage": usage_rows(sandbox),
        "scenario_header": SCENARIO_HEADER,
        "presets": [preset.as_dict() for preset in PRESETS.values()],
        "active": [active.as_dict() for active in sandbox.board.active()],
        "chaos": sandbox.board.chaos().as_dict(),
        "operations": operations,
        "requests": requests,
        "journal_on": sandbox.journal.capacity > 0,
        "subscriptions": [s.as_dict() for s in sandbox.webhooks.subscriptions.all()],
        "deliveries": [d.as_dict() for d in sandbox.webhooks.outbox.find(limit=SHOWN_DELIVERIES)],
        "config": {
            "api": api,
            "bannerKey": sandbox.settings.default_api_key,
            "since": max((entry["id"] for entry in requests), default=0),
            "operations": operations,
            "signatureHeaders": SIGNATURE_HEADERS,
            "shownRequests": SHOWN_REQUESTS,
            "shownDeliveries": SHOWN_DELIVERIES,
        },
    }


def usage_rows(sandbox: AdminServices) -> list[dict[str, Any]]:
    """As ``GET /__sandbox/usage`` answers: every key's standing, without counting a request."""
    rows = []
    plans = sandbox.settings.all_plans()
    for key in sandbox.keys.all():
        decision = sandbox.limiter.peek(key.key, key.plan)
        rows.append({
            "key": key.key, "plan": key.plan, "source": key.source,
            "windows": plans.get(key.plan) or "unlimited",
            "limit": decision.limit if decision else None,
            "remaining": decision.remaining if decision else None,
            "reset": decision.reset if decision else None,
        })  # fmt: skip
    return rows


# -- formatting, for the template -----------------------------------------------------------
def clock(epoch: float | None) -> str:
    """A time of day in UTC; the script rewrites it in the browser's own time zone."""
    if epoch is None:
        return ""
    return time.strftime("%H:%M:%S", time.gmtime(epoch)) + " UTC"


def iso(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def pretty(body: str | None) -> str:
    """JSON bodies indented; anything else (and cut-off excerpts) as it came."""
    if not body:
        return ""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def signature_headers(headers: dict[str, str] | None) -> list[tuple[str, str]]:
    return [(name, value) for name, value in (headers or {}).items() if _signature.search(name)]


def short_key(key: str | None) -> str:
    if not key:
        return "anonymous"
    return key if len(key) <= 20 else key[:16] + "…"


def status_class(status: int | None) -> str:
    return f"s{status // 100}xx" if status else "s-none"


HELPERS = {
    "clock": clock,
    "iso": iso,
    "pretty": pretty,
    "signature_headers": signature_headers,
    "short_key": short_key,
    "status_class": status_class,
}
