"""The sandbox's own API under ``/__sandbox``: health, reset, test API keys, the request
journal, rate-limit usage, configuration and metrics.

It sits outside the served spec, answers JSON, and its errors say what to send instead. Its
own OpenAPI document is ``/__sandbox/openapi.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, request
from werkzeug.wrappers import Response

from sandbox.admin.services import AdminServices
from sandbox.jsonio import dumps, loads
from sandbox.observe.journal import JournalFilter, status_range


def json_response(value: Any, status: int = 200) -> Response:
    return Response(dumps(value), status=status, content_type="application/json")


def json_body() -> Any:
    """The body as JSON (the origin guard let only JSON content types in); {} when empty,
    None when it is not JSON."""
    raw = request.get_data(cache=True, parse_form_data=False)
    if not raw.strip():
        return {}
    try:
        return loads(raw)
    except ValueError:
        return None


def problem(
    status: int, code: str, message: str, details: list[dict[str, str]] | None = None
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return json_response({"status": "error", "error": error}, status)


def admin_blueprint(sandbox: AdminServices, document: Callable[[], str]) -> Blueprint:
    """``document``: the admin API's own OpenAPI document, as YAML."""
    admin = Blueprint("sandbox_admin", __name__, url_prefix="/__sandbox")

    @admin.get("/health")
    def health() -> Response:
        return sandbox.health()

    @admin.post("/reset")
    def reset() -> Response:
        sandbox.reset()
        return json_response({"status": "reset"})

    @admin.get("/keys")
    def list_keys() -> Response:
        return json_response({
            "keys": [key.as_dict() for key in sandbox.keys.all()],
            "plans": sandbox.settings.all_plans(),
            "oauth_clients": [client.as_dict() for client in sandbox.oauth.clients.values()],
        })  # fmt: skip

    @admin.post("/keys")
    def create_key() -> Response:
        body = json_body()
        if not isinstance(body, dict):
            return problem(400, "invalid_request", 'Send a JSON object: {"plan": "free"}.')
        plan = str(body.get("plan") or sandbox.settings.default_plan)
        if not sandbox.limiter.knows(plan):
            known = ", ".join(sorted(sandbox.limiter.plans))
            return problem(400, "unknown_plan", f"No plan {plan!r}; known plans: {known}.")
        key = sandbox.keys.create(plan, str(body.get("label") or ""))
        return json_response(key.as_dict(), 201)

    @admin.get("/requests")
    def requests_journal() -> Response:
        try:
            query = _journal_filter(request.args)
        except ValueError as exc:
            return problem(400, "invalid_filter", str(exc))
        return json_response({"requests": sandbox.journal.entries(query)})

    @admin.delete("/requests")
    def clear_journal() -> Response:
        sandbox.journal.reset()
        return Response(status=204)

    @admin.get("/usage")
    def usage() -> Response:
        """Rate-limit standing of every key, without counting a request."""
        rows = []
        for key in sandbox.keys.all():
            decision = sandbox.limiter.peek(key.key, key.plan)
            rows.append({
                "key": key.key, "plan": key.plan, "source": key.source,
                "windows": sandbox.settings.all_plans().get(key.plan) or "unlimited",
                "limit": decision.limit if decision else None,
                "remaining": decision.remaining if decision else None,
                "reset": decision.reset if decision else None,
            })  # fmt: skip
        return json_response({"usage": rows})

    @admin.get("/config")
    def config() -> Response:
        return json_response(sandbox.describe())

    @admin.get("/metrics")
    def metrics() -> Response:
        body, content_type = sandbox.metrics.exposition()
        return Response(body, content_type=content_type)

    @admin.get("/openapi.yaml")
    def own_spec() -> Response:
        return Response(document(), content_type="application/yaml")

    @admin.delete("/keys/<key>")
    def revoke_key(key: str) -> Response:
        if key in sandbox.keys.fixed:
            return problem(
                409, "key_from_settings",
                "This key comes from the settings (banner, api_keys or keys); remove it there.",
            )  # fmt: skip
        if not sandbox.keys.revoke(key):
            return problem(404, "not_found", f"No created key {key!r}.")
        return Response(status=204)

    return admin


def _journal_filter(args: Any) -> JournalFilter:
    """ValueError names the filter that cannot be read."""

    def number(name: str, default: int | None) -> int | None:
        value = args.get(name)
        if value is None or value == "":
            return default
        if not (value.isascii() and value.isdigit()):
            raise ValueError(f"{name} must be a whole number, not {value!r}")
        return int(value)

    problems = args.get("problems")
    if problems not in (None, "", "true", "false"):
        raise ValueError("problems must be true or false")
    status = args.get("status") or None
    if status is not None:
        status_range(status)
    return JournalFilter(
        operation=args.get("operation") or None,
        method=args.get("method") or None,
        status=status,
        key=args.get("key") or None,
        path=args.get("path") or None,
        scenario=args.get("scenario") or None,
        problems=None if problems in (None, "") else problems == "true",
        since=number("since", None),
        limit=number("limit", 50) or 50,
    )
