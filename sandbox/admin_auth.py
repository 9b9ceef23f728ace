"""The admin token: ``/__sandbox`` is open on loopback, and closed to anyone without the token
as soon as the sandbox listens where others can reach it (``--host 0.0.0.0``).

The token comes as ``Authorization: Bearer``, ``X-Sandbox-Admin-Token``, or the cookie the
dashboard sets after ``/__sandbox/?token=...``. Health stays open for load balancers.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from flask import Request
from werkzeug.wrappers import Response

from sandbox.admin import problem

COOKIE = "sandbox_admin_token"
HEADER = "X-Sandbox-Admin-Token"
_OPEN = {"/__sandbox/health"}


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_admin_token() -> str:
    return "adm_" + secrets.token_urlsafe(24)


def presented_token(req: Request) -> str:
    authorization = req.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return req.headers.get(HEADER) or req.cookies.get(COOKIE) or req.args.get("token") or ""


def admin_guard(req: Request, token: str | None) -> Response | None:
    """None when the request may go on; a 401 that says how to get in otherwise."""
    if token is None or not req.path.startswith("/__sandbox") or req.path in _OPEN:
        return None
    if hmac.compare_digest(presented_token(req).encode(), token.encode()):
        return None
    answer = problem(
        401, "admin_token_required",
        "This sandbox listens beyond loopback, so its admin API needs the admin token the "
        f"banner printed: send 'Authorization: Bearer <token>' or '{HEADER}', or open "
        "/__sandbox/?token=<token> in a browser.",
    )  # fmt: skip
    answer.headers["WWW-Authenticate"] = 'Bearer realm="sandbox-admin"'
    return answer
