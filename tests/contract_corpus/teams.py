"""A correct server for `teams.yaml`: teams are read by slug, and a parent sent as an id is
answered as an object. The runner's regression test for two false alarms seen on GitHub's
spec served by the sandbox: a created team looked for by its id ("created resource cannot
be read back"), and a number sent compared with the object answered ("sent values not
kept", where no server could show the number back). The create's answer declares only
the team's keys and shows the whole team, as the sandbox does for DigitalOcean's
``POST /v2/gen-ai/evaluation_test_cases``: what it shows is judged by the team's schema.

Variant ``forgets_privacy``: ``privacy`` is answered as ``secret`` whatever was sent, a
real "sent values not kept" the runner must still report.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

TEAMS_SPEC = Path(__file__).with_name("teams.yaml")
VARIANTS = ("forgets_privacy",)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


def _invalid(body: Any, *, create: bool) -> str | None:
    """What is wrong with a body, by the spec's TeamCreate or TeamUpdate."""
    if not isinstance(body, dict):
        return "the body must be an object"
    name = body.get("name")
    if create and not (isinstance(name, str) and 1 <= len(name) <= 40):
        return "name must be a string of 1 to 40 characters"
    if "privacy" in body and body["privacy"] not in ("secret", "closed"):
        return "privacy must be secret or closed"
    parent = body.get("parent", 1)
    if not isinstance(parent, int) or isinstance(parent, bool) or parent < 1:
        return "parent must be an integer of at least 1"
    return None


def make_teams_app(variant: str = "correct") -> Flask:
    if variant != "correct" and variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    app = Flask(__name__)
    lock = threading.Lock()
    teams: dict[str, dict[str, Any]] = {}

    def apply(team: dict[str, Any], body: dict[str, Any]) -> None:
        if "privacy" in body and variant != "forgets_privacy":
            team["privacy"] = body["privacy"]
        if "parent" in body:
            team["parent"] = {"id": body["parent"], "slug": f"team-{body['parent']}"}

    def read_body(*, create: bool) -> dict[str, Any] | Response:
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            return _json({"message": "malformed JSON"}, 422)
        problem = _invalid(body, create=create)
        return _json({"message": problem}, 422) if problem else body

    @app.post("/teams")
    def create() -> Response:
        body = read_body(create=True)
        if isinstance(body, Response):
            return body
        with lock:
            number = len(teams) + 1
            team = {"id": number, "slug": f"team-{number}", "name": body["name"],
                    "privacy": "secret", "parent": None}  # fmt: skip
            apply(team, body)
            teams[team["slug"]] = team
        return _json(team, 201)

    @app.route("/teams/<slug>", methods=["GET", "PATCH"])
    def one(slug: str) -> Response:
        with lock:
            team = teams.get(slug)
        if team is None:
            return _json({"message": "no such team"}, 404)
        if request.method == "PATCH":
            body = read_body(create=False)
            if isinstance(body, Response):
                return body
            with lock:
                apply(team, body)
        return _json(team)

    return app
