"""A correct server for `accounts.yaml`, written the way FastAPI apps answer: the runner's
regression tests for false alarms seen on real applications.

`make_accounts_app()` must give no finding from our checks (Schemathesis's own may still
report the spec's undeclared 401/404s, which is the spec's own gap, as in FastAPI apps).
Variants:

- ``lenient_booleans``: booleans are coerced as pydantic's lax mode does (``0`` is
  ``false``), so a schema-violating ``{"is_superuser": 0}`` is accepted; Schemathesis's
  negative-data check says so, and ours must not judge that body as if it were valid.
- ``echo_mangles_id``: ``GET /tracks/{id}`` answers with the id stripped of non-ASCII
  characters: another id, which ours must report.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, Response, request
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.exceptions import HTTPException

ACCOUNTS_SPEC = Path(__file__).with_name("accounts.yaml")
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "changethis-admin"
ADMIN_ID = "u-1"
VARIANTS = ("lenient_booleans", "echo_mangles_id")
_URI = "urn:accounts"
WINDOW = 60


def _validator(name: str) -> Draft202012Validator:
    spec = yaml.safe_load(ACCOUNTS_SPEC.read_text())
    registry: Registry = Registry().with_resource(
        _URI, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": f"{_URI}#/components/schemas/{name}"}, registry=registry)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, headers, mimetype="application/json")


def _validation_error(errors: list[Any]) -> Response:
    detail = [
        {"loc": ["body", *map(str, error.absolute_path)], "msg": error.message[:200],
         "type": error.validator if isinstance(error.validator, str) else "value_error"}
        for error in errors
    ]  # fmt: skip
    return _json({"detail": detail}, 422)


def make_accounts_app(variant: str = "correct") -> Flask:
    if variant != "correct" and variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    app = Flask(__name__)
    lock = threading.Lock()
    users: dict[str, dict[str, Any]] = {
        ADMIN_ID: {"id": ADMIN_ID, "email": ADMIN_EMAIL, "full_name": "Admin", "is_active": True,
                   "is_superuser": True},
        "u-2": {"id": "u-2", "email": "user@example.com", "full_name": None, "is_active": True,
                "is_superuser": False},
    }  # fmt: skip
    passwords = {ADMIN_EMAIL: ADMIN_PASSWORD, "user@example.com": "changethis-user"}
    tokens: dict[str, str] = {}
    app.config["ISSUED_TOKENS"] = tokens  # for tests: no report may show one
    counts: dict[tuple[str, int], int] = {}
    update = _validator("UserUpdate")

    def current_user() -> dict[str, Any] | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user_id = tokens.get(token) if scheme.lower() == "bearer" else None
        return users.get(user_id) if user_id else None

    def not_authenticated() -> Response:
        return _json({"detail": "Not authenticated"}, 401, {"WWW-Authenticate": "Bearer"})

    def coerced(body: Any) -> Any:
        if variant != "lenient_booleans" or not isinstance(body, dict):
            return body
        return {
            key: bool(value) if key.startswith("is_") and value in (0, 1) else value
            for key, value in body.items()
        }

    def read_update() -> dict[str, Any] | Response:
        try:
            body = coerced(json.loads(request.get_data() or b"null"))
        except ValueError:
            return _json({"detail": [{"loc": ["body"], "msg": "Invalid JSON",
                                      "type": "json_invalid"}]}, 422)  # fmt: skip
        errors = list(update.iter_errors(body))
        if errors:
            return _validation_error(errors)
        return dict(body)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
        return _json({"detail": exc.name}, exc.code or 500, headers)

    @app.post("/login/access-token")
    def login() -> Response:
        form = request.form
        missing = [name for name in ("username", "password") if name not in form]
        if missing or form.get("grant_type", "password") != "password":
            problems = [{"loc": ["body", name], "msg": "Field required", "type": "missing"}
                        for name in missing] or [
                {"loc": ["body", "grant_type"], "msg": "String should match pattern '^password$'",
                 "type": "string_pattern_mismatch"}]  # fmt: skip
            return _json({"detail": problems}, 422)
        email = form["username"]
        user = next((u for u in users.values() if u["email"] == email), None)
        if user is None or passwords.get(email) != form["password"]:
            return _json({"detail": "Incorrect email or password"}, 400)
        if not user["is_active"]:
            return _json({"detail": "Inactive user"}, 400)
        token = secrets.token_urlsafe(16)
        with lock:
            tokens[token] = user["id"]
        return _json({"access_token": token, "token_type": "bearer"})

    @app.get("/users")
    def list_users() -> Response:
        if current_user() is None:
            return not_authenticated()
        with lock:
            data = list(users.values())
        return _json({"data": data, "count": len(data)})

    @app.route("/users/me", methods=["GET", "PATCH", "DELETE"])
    def me() -> Response:
        user = current_user()
        if user is None:
            return not_authenticated()
        return one(user["id"])

    @app.route("/users/<user_id>", methods=["GET", "PATCH", "DELETE"])
    def one(user_id: str) -> Response:
        if current_user() is None:
            return not_authenticated()
        with lock:
            user = users.get(user_id)
        if user is None:
            return _json({"detail": "User not found"}, 404)
        if request.method == "GET":
            return _json(user)
        if request.method == "DELETE":
            with lock:
                users.pop(user_id, None)
            return _json({"detail": "User deleted successfully"})
        changes = read_update()
        if isinstance(changes, Response):
            return changes
        with lock:
            user = {**user, **changes}
            users[user_id] = user
        return _json(user)

    @app.get("/tracks/<track_id>")
    def track(track_id: str) -> Response:
        if current_user() is None:
            message = "No token provided" if "Authorization" not in request.headers else (
                "Invalid access token")  # fmt: skip
            return _json({"error": {"status": 401, "message": message}}, 401)
        if variant == "echo_mangles_id":
            track_id = track_id.encode("ascii", "ignore").decode()
        now = time.time()
        window = int(now // WINDOW)
        key = (request.headers["Authorization"], window)
        with lock:
            counts[key] = counts.get(key, 0) + 1
            used = counts[key]
        headers = {"X-RateLimit-Limit": "100000", "X-RateLimit-Remaining": str(100000 - used),
                   "X-RateLimit-Reset": str(int((window + 1) * WINDOW - now))}  # fmt: skip
        return _json({"id": track_id, "name": "Track", "released": "1981-12-15"}, 200, headers)

    return app
