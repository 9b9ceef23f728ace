"""The sandbox's own API under ``/__sandbox``: admin routes, the dashboard and the docs page,
behind the origin rule, the admin token and the admin document.

``install`` puts all of it on a Flask app, given the running sandbox's parts
(``services.AdminServices``).
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.wrappers import Response

from sandbox.admin.api import admin_blueprint
from sandbox.admin.contract import AdminContract
from sandbox.admin.dashboard import dashboard_blueprint
from sandbox.admin.docs import docs_blueprint
from sandbox.admin.origin import origin_guard
from sandbox.admin.scenarios import scenarios_blueprint
from sandbox.admin.services import AdminServices
from sandbox.admin.token import admin_guard
from sandbox.admin.webhooks import webhooks_blueprint

__all__ = ["AdminServices", "install"]


def install(app: Flask, sandbox: AdminServices) -> None:
    """Register the admin blueprints, and in front of them (and of every route Flask
    serves) the three doors a request passes in turn: the origin rule, the admin token,
    and the admin API's own document."""
    contract = AdminContract(sorted(sandbox.limiter.plans))
    app.register_blueprint(admin_blueprint(sandbox, lambda: contract.text))
    app.register_blueprint(webhooks_blueprint(sandbox))
    app.register_blueprint(docs_blueprint(sandbox))
    app.register_blueprint(scenarios_blueprint(sandbox))
    app.register_blueprint(dashboard_blueprint(sandbox))
    on_loopback = sandbox.settings.on_loopback

    @app.before_request
    def _admin_doors() -> Response | None:
        return (
            origin_guard(request, on_loopback=on_loopback)
            or admin_guard(request, sandbox.admin_token)
            or contract.check(request)
        )
