"""Anything that goes wrong inside the sandbox is answered the same way, whichever way the
request came: the API fast path (WSGI middleware) or Flask (its error handler). Both call
``Sandbox.failure``; these tests compare the two, so a change to one that the other misses
shows as a difference.

Faults are injected by replacing one part of a real app with a function that raises: the
only way to make a correct sandbox fail on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask, has_request_context

from sandbox import create_app, load_settings
from sandbox.errors import StorageError
from tests.conftest import DEFAULT_SPEC


def _app(tmp_path: Path, *, through_flask: bool) -> Flask:
    settings = load_settings(
        DEFAULT_SPEC, environ={}, overrides={"state": str(tmp_path / "state.sqlite"), "seed": 3}
    )
    app = create_app(DEFAULT_SPEC, settings)
    if through_flask:
        # any hook registered after create_app sends every request Flask's way (the fast
        # path only takes requests whose Flask handling it knows exactly)
        app.before_request(lambda: None)
    return app


def _raising(exc: BaseException) -> Callable[..., object]:
    def fail(*_args: object, **_kwargs: object) -> object:
        raise exc

    return fail


def _answer(tmp_path: Path, through_flask: bool, exc: BaseException, path: str) -> tuple:
    app = _app(tmp_path / ("flask" if through_flask else "fast"), through_flask=through_flask)
    sandbox = app.extensions["sandbox"]
    sandbox.validator.validate = _raising(exc)  # every API request is validated
    key = sandbox.settings.default_api_key
    response = app.test_client().get(
        path, headers={"Authorization": f"Bearer {key}", "Origin": "http://localhost:3000"}
    )
    body = response.get_json()
    return (
        response.status_code,
        response.content_type,
        body,
        response.headers.get("Access-Control-Allow-Origin"),
        bool(response.headers.get("X-Request-Id")),
    )


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (RuntimeError("boom"), 500, "SANDBOX_ERROR"),
        (RecursionError("maximum recursion depth exceeded"), 500, "SANDBOX_ERROR"),
        (StorageError("database or disk is full"), 503, None),
    ],
)
def test_a_failure_is_answered_alike_on_the_fast_path_and_through_flask(
    tmp_path: Path, exc: BaseException, status: int, code: str | None
) -> None:
    fast = _answer(tmp_path, False, exc, "/v1/users")
    flask = _answer(tmp_path, True, exc, "/v1/users")
    assert fast == flask
    got_status, content_type, body, cors, has_id = fast
    assert got_status == status
    assert content_type.startswith("application/json")
    assert body["status"] == "error"  # the spec's own error envelope, not Flask's HTML
    if code is not None:
        assert body["error"]["code"] == code
        assert type(exc).__name__ in body["error"]["message"]
    assert cors == "*" and has_id  # the headers every answer carries


def test_the_fast_path_is_taken_unless_flask_must_run_other_hooks(tmp_path: Path) -> None:
    """The comparison above means something only if the two apps really take different ways:
    Flask runs a view inside a request context, the fast path never makes one."""
    ways: list[bool] = []
    for name, through_flask in (("a", False), ("b", True)):
        app = _app(tmp_path / name, through_flask=through_flask)
        app.extensions["sandbox"].observer.request = lambda *_: ways.append(has_request_context())
        app.test_client().get("/v1/users")
    assert ways == [False, True]


def test_an_admin_failure_is_a_problem_document(tmp_path: Path) -> None:
    app = _app(tmp_path, through_flask=False)
    app.extensions["sandbox"].journal.entries = _raising(RuntimeError("journal broke"))
    response = app.test_client().get("/__sandbox/requests")
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"]["code"] == "SANDBOX_ERROR"
    assert "journal broke" in body["error"]["message"]
    assert "Access-Control-Allow-Origin" not in response.headers  # admin answers stay private
