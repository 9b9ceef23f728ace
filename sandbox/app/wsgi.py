"""The Flask application: a catch-all view running the sandbox's pipeline, the admin API, the
OAuth endpoints, and one answer for anything that goes wrong.

Flask serves what it is good at (the admin API's blueprints, the dashboard, the docs page,
the OAuth endpoints); every other path reaches ``Sandbox.handle``, through Flask or, for
the API's own paths, through ``fastpath.ApiFastPath`` in front of it. Both ways end in the
same two functions: ``Sandbox.failure`` for an exception and ``common_headers`` for what
every answer carries.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.routing import PathConverter
from werkzeug.wrappers import Request, Response

from sandbox import admin
from sandbox.admin.origin import PRIVATE_HEADERS, is_guarded
from sandbox.app.builder import build
from sandbox.app.fastpath import ApiFastPath
from sandbox.app.pipeline import new_request_id
from sandbox.config.settings import Settings, load_settings
from sandbox.spec.model import Spec, load_spec

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]
_EXPOSED = (  # what a browser client may read of an API answer
    "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, Location, "
    "X-Request-Id, X-Sandbox-Status-From, X-Sandbox-Scenario-Applied, Idempotent-Replayed, "
    "X-Sandbox-Body-Read-As, Link"
)


class _AnythingConverter(PathConverter):
    """Every path reaches the sandbox's router, even ones with newlines or odd bytes, so the
    answer always comes from the spec's routes and error shapes."""

    regex = r"[\s\S]*"
    part_isolating = False


def create_app(spec: Spec | str | Path | None = None, settings: Settings | None = None) -> Flask:
    """Build the WSGI app for a spec; every spec problem raises SpecError before serving."""
    if not isinstance(spec, Spec):
        default = settings.spec if settings else Path("openapi.yaml")
        path = Path(spec) if spec is not None else default
        spec = load_spec(
            path,
            validate=settings.validate_spec if settings else True,
            lenient=settings.serves_invalid_specs if settings else False,
            cache_dir=settings.spec_cache_dir if settings else None,
        )
    if settings is None:
        settings = load_settings(spec.path, spec_extension=spec.document.get("x-sandbox"))
    sandbox = build(spec, settings)
    app = Flask("sandbox")
    app.url_map.converters["anything"] = _AnythingConverter
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["sandbox"] = sandbox

    def dispatch(subpath: str = "") -> Response:
        # the request object itself: every attribute read through the proxy costs a lookup
        return sandbox.handle(request._get_current_object())  # type: ignore[attr-defined]

    for rule, endpoint in (("/", "root"), ("/<anything:subpath>", "dispatch")):
        app.add_url_rule(
            rule, endpoint, dispatch, methods=ALL_METHODS, provide_automatic_options=False
        )
    admin.install(app, sandbox)
    sandbox.oauth.register(app)

    @app.after_request
    def _common_headers(response: Response) -> Response:
        return common_headers(request, response, settings)

    @app.errorhandler(Exception)
    def _failure(exc: Exception) -> Response:
        if isinstance(exc, WerkzeugNotFound | WerkzeugMethodNotAllowed):
            return sandbox.handle(request)  # e.g. a method Flask was not told about: QUERY
        return sandbox.failure(exc, request)

    app.wsgi_app = ApiFastPath(app, sandbox, common_headers)  # type: ignore[method-assign]
    return app


def common_headers(request: Request, response: Response, settings: Settings) -> Response:
    """What every answer carries: a request id, and CORS headers for a browser, except
    from the admin API, dashboard and docs, which only this origin may read."""
    if "X-Request-Id" not in response.headers:
        response.headers["X-Request-Id"] = new_request_id()
    if is_guarded(request.path):
        response.headers.update(PRIVATE_HEADERS)
    elif settings.cors and request.headers.get("Origin"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = _EXPOSED
    return response
