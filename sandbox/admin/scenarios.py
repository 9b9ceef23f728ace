"""``/__sandbox/scenarios`` and ``/__sandbox/chaos``: failure switched on without touching the
client: for a key, an operation, a number of requests, or everything at random."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from werkzeug.wrappers import Response

from sandbox.admin.api import json_body, json_response, problem
from sandbox.admin.services import AdminServices
from sandbox.errors import ScenarioError
from sandbox.scenarios.chaos import chaos_from
from sandbox.scenarios.presets import PRESETS, SCENARIO_HEADER, scenario


def scenarios_blueprint(sandbox: AdminServices) -> Blueprint:
    admin = Blueprint("sandbox_scenarios", __name__, url_prefix="/__sandbox")

    @admin.get("/scenarios")
    def presets() -> Response:
        return json_response({
            "header": SCENARIO_HEADER,
            "scenarios": [preset.as_dict() for preset in PRESETS.values()],
            "active": [active.as_dict() for active in sandbox.board.active()],
            "chaos": sandbox.board.chaos().as_dict(),
        })  # fmt: skip

    @admin.get("/scenarios/active")
    def active() -> Response:
        return json_response({"active": [a.as_dict() for a in sandbox.board.active()]})

    @admin.post("/scenarios/active")
    def activate() -> Response:
        body = json_body()
        if not isinstance(body, dict) or not body.get("scenario"):
            return problem(
                400, "invalid_request",
                'Send a JSON object: {"scenario": "rate_limited", "key": "sk_test_...", '
                '"operation": "listUsers", "count": 5} (key, operation and count optional).',
            )  # fmt: skip
        try:
            chosen = scenario(str(body["scenario"]), _params(body.get("params")))
            count = _count(body.get("count"))
        except ScenarioError as exc:
            return problem(422, "invalid_scenario", str(exc))
        key = str(body.get("key") or "") or None
        if key is not None and sandbox.keys.plan_of(key) is None:
            return problem(404, "unknown_key", f"No key {key!r}; GET /__sandbox/keys lists them.")
        operation = str(body.get("operation") or "") or None
        if operation is not None and not _known_operation(sandbox, operation):
            return problem(
                404, "unknown_operation",
                f"No operation {operation!r}: give an operationId or 'METHOD /path' as the spec "
                "writes it (GET /__sandbox/config lists them).",
            )  # fmt: skip
        made = sandbox.board.activate(chosen, key=key, operation=operation, count=count)
        return json_response(made.as_dict(), 201)

    @admin.delete("/scenarios/active")
    def clear_all() -> Response:
        return json_response({"cleared": sandbox.board.clear()})

    @admin.delete("/scenarios/active/<scenario_id>")
    def clear_one(scenario_id: str) -> Response:
        if not sandbox.board.clear(scenario_id):
            return problem(404, "not_found", f"No active scenario {scenario_id!r}.")
        return Response(status=204)

    @admin.get("/chaos")
    def chaos() -> Response:
        return json_response(sandbox.board.chaos().as_dict())

    @admin.put("/chaos")
    def set_chaos() -> Response:
        body = json_body()
        if not isinstance(body, dict):
            return problem(
                400, "invalid_request",
                'Send a JSON object: {"error_rate": 0.1, "latency": "50..300ms"}.',
            )  # fmt: skip
        try:
            chosen = chaos_from(body)
        except ScenarioError as exc:
            return problem(422, "invalid_chaos", str(exc))
        sandbox.board.set_chaos(chosen)
        return json_response(chosen.as_dict())

    @admin.delete("/chaos")
    def stop_chaos() -> Response:
        sandbox.board.set_chaos(chaos_from({}))
        return json_response(sandbox.board.chaos().as_dict())

    return admin


def _params(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ScenarioError('params must be an object, as in {"latency": "2s"}')
    return value


def _count(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():  # 5.0 is the integer 5 in JSON
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScenarioError("count must be a whole number of requests, 1 or more")
    return value


def _known_operation(sandbox: AdminServices, name: str) -> bool:
    return any(
        name in (op.operation_id, f"{op.method.upper()} {op.path}")
        for op in sandbox.spec.operations
    )
