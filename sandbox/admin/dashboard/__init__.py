"""The dashboard at ``/__sandbox/``: one page for demoing how a client copes with failure.

It shows the test credentials, rate-limit usage, the scenario switches and chaos, the live
request log and the webhook deliveries. The server renders the first state, so the page is
useful before its script runs; the script then polls the admin JSON API, so whatever the page
does can also be done with curl. Every file it loads comes from this process: sandboxes run
offline, and a demo must not depend on a CDN.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from sandbox.admin.dashboard.view import HELPERS, snapshot
from sandbox.admin.services import AdminServices
from sandbox.admin.token import COOKIE

PREFIX = "/__sandbox"

# the page holds credentials: never cached, never framed, and it loads from this origin only
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def dashboard_blueprint(sandbox: AdminServices) -> Blueprint:
    dashboard = Blueprint(
        "sandbox_dashboard",
        __name__,
        url_prefix=PREFIX,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )

    @dashboard.context_processor
    def helpers() -> dict[str, Any]:
        return HELPERS

    @dashboard.get("")
    def bare() -> Response:
        query: dict[str, Any] = request.args.to_dict()
        return redirect(url_for(".page", **query))

    @dashboard.get("/")
    def page() -> Response:
        if "token" in request.args:
            return remember_token(sandbox.admin_token)
        api = url_for(".page").rstrip("/")
        html = render_template("sandbox_dashboard.html", **snapshot(sandbox, request, api))
        response = make_response(html)
        response.headers.update(_PAGE_HEADERS)
        return response

    return dashboard


def remember_token(token: str | None) -> Response:
    """Keep ``?token=`` as a cookie and drop it from the address bar, so the page's own
    requests carry it and the token does not linger in the browser's history."""
    response = redirect(url_for(".page"))
    given = request.args.get("token", "")
    # the guard let the request in, but perhaps on another credential: keep only the real one
    if token is not None and hmac.compare_digest(given.encode(), token.encode()):
        response.set_cookie(
            COOKIE, token, path=PREFIX, httponly=True, samesite="Lax", secure=request.is_secure
        )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
