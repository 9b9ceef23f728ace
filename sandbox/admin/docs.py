"""API docs for the served spec at ``/docs``: Swagger UI, wired to this sandbox.

Everything the page loads comes from this process. Swagger UI's built files are the ones
the ``flask-swagger-ui`` package ships (only its files are used, not its blueprint), so the
docs work offline and no browser is sent to a CDN. The page reads a copy of the spec whose
``servers`` name the sandbox itself, and enters the banner key for every security scheme
that can take one, so "Try it out" calls the sandbox and is authorized without typing.

The spec comes first: if it declares an operation at any of these paths, the request is
answered by the sandbox as that operation, never by the docs.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from flask import Blueprint, render_template, request, send_from_directory, url_for
from werkzeug.wrappers import Response

from sandbox.admin.services import AdminServices
from sandbox.admin.token import holds_token
from sandbox.http.routing import Match
from sandbox.http.streaming import described_streams
from sandbox.jsonio import dumps
from sandbox.spec.model import HTTP_METHODS

ASSETS = Path(__file__).parent / "docs_assets"
SWAGGER_UI = Path(str(files("flask_swagger_ui") / "dist"))


def docs_blueprint(sandbox: AdminServices) -> Blueprint:
    docs = Blueprint("sandbox_docs", __name__, template_folder=ASSETS)

    def route(rule: str) -> Any:
        # no automatic OPTIONS: other methods reach the sandbox as on any other path
        return docs.route(rule, methods=["GET"], provide_automatic_options=False)

    @docs.before_request
    def spec_first() -> Response | None:
        if isinstance(sandbox.router.match(request.method, request.path, request.args), Match):
            return sandbox.handle(request)
        return None

    @route("/docs")
    @route("/docs/")
    def page() -> str:
        return render_template(
            "sandbox_docs.html",
            title=sandbox.spec.title,
            config=page_config(sandbox),
        )

    @route("/docs/openapi.json")
    def spec() -> Response:
        url = request.root_url.rstrip("/") + sandbox.spec.base_path
        response = Response(
            dumps(served_document(sandbox.spec.document, url)),
            content_type="application/json",
        )
        response.headers["Cache-Control"] = "no-cache"
        return response

    @route("/docs/sandbox-docs.js")
    def init_js() -> Response:
        return send_from_directory(ASSETS, "sandbox-docs.js")

    @route("/docs/swagger-ui/<path:name>")
    def swagger_ui(name: str) -> Response:
        return send_from_directory(SWAGGER_UI, name)

    return docs


def page_config(sandbox: AdminServices) -> dict[str, Any]:
    """What the page's script needs: where the spec is, and which schemes take the key."""
    api_key: list[str] = []
    basic: list[str] = []
    for name, scheme in sandbox.spec.security_schemes.items():
        kind = scheme.get("type")
        http_scheme = str(scheme.get("scheme", "")).lower()
        if kind == "apiKey" or (kind == "http" and http_scheme == "bearer"):
            api_key.append(name)
        elif kind == "http" and http_scheme == "basic":
            basic.append(name)
    return {
        "specUrl": url_for("sandbox_docs.spec"),
        "oauth2RedirectUrl": url_for(
            "sandbox_docs.swagger_ui", name="oauth2-redirect.html", _external=True
        ),
        "apiKey": sandbox.settings.default_api_key if _may_see_the_key(sandbox) else "",
        "apiKeySchemes": api_key,
        "basicSchemes": basic,
    }


def _may_see_the_key(sandbox: AdminServices) -> bool:
    """On loopback the page hands out the banner key; beyond it only to the admin (the page
    is public like the API, the key should not be)."""
    if sandbox.admin_token is None:
        return True
    return holds_token(request, sandbox.admin_token)


def served_document(document: dict[str, Any], url: str) -> dict[str, Any]:
    """The spec as the docs show it: its one server is the sandbox at ``url``.

    Path and operation ``servers`` are dropped too, as the sandbox serves every operation
    under the same base path. Event streams are described as the events the sandbox sends
    (``sandbox.http.streaming.described_streams``). Nothing else changes, and ``document``
    is not modified.
    """
    document = described_streams(document)
    served = {**document, "servers": [{"url": url, "description": "This sandbox"}]}
    paths = document.get("paths")
    if isinstance(paths, dict):
        served["paths"] = {path: _without_servers(item) for path, item in paths.items()}
    return served


def _without_servers(path_item: Any) -> Any:
    if not isinstance(path_item, dict):
        return path_item
    item = {key: value for key, value in path_item.items() if key != "servers"}
    for method in HTTP_METHODS:
        operation = item.get(method)
        if isinstance(operation, dict) and "servers" in operation:
            item[method] = {key: value for key, value in operation.items() if key != "servers"}
    return item
