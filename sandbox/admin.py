"""The sandbox's own API under ``/__sandbox``: health, reset, and test API keys.

It sits outside the served spec, answers JSON, and its errors say what to send instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from sandbox.jsonio import dumps, loads

if TYPE_CHECKING:
    from sandbox.app import Sandbox


def json_response(value: Any, status: int = 200) -> Response:
    return Response(dumps(value), status=status, content_type="application/json")


def json_body() -> Any:
    """The body as JSON whatever its Content-Type (a bare ``curl -d`` says form-encoded);
    {} when empty, None when it is not JSON."""
    raw = request.get_data(cache=True, parse_form_data=False)
    if not raw.strip():
        return {}
    try:
        return loads(raw)
    except ValueError:
        return None


def problem(status: int, code: str, message: str) -> Response:
    return json_response({"status": "error", "error": {"code": code, "message": message}}, status)


def admin_blueprint(sandbox: Sandbox) -> Blueprint:
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
