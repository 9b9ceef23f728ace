"""The admin token: ``/__sandbox`` is open on loopback, and closed to anyone without the token
as soon as the sandbox listens where others can reach it (``--host 0.0.0.0``).

The token comes as ``Authorization: Bearer``, ``X-Sandbox-Admin-Token``, or the cookie the
dashboard sets after ``/__sandbox/?token=...``. Health stays open for load balancers.
"""

from __future__ import annotations

import hmac
import secrets

from werkzeug.wrappers import Request, Response

from sandbox.admin.api import problem

COOKIE = "sandbox_admin_token"
HEADER = "X-Sandbox-Admin-Token"
_OPEN = {"/__sandbox/health"}


def new_admin_token() -> str:
    return "adm_" + secrets.token_urlsafe(24)


def presented_tokens(req: Request) -> list[str]:
    """Every place a token may come from: a stale cookie must not hide a fresh ?token=."""
    found = []
    authorization = req.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        found.append(authorization[7:].strip())
    for value in (req.headers.get(HEADER), req.args.get("token"), req.cookies.get(COOKIE)):
        if value:
            found.append(value)
    return found


def holds_token(req: Request, token: str) -> bool:
    wanted = token.encode()
    return any(hmac.compare_digest(given.encode(), wanted) for given in presented_tokens(req))


def admin_guard(req: Request, token: str | None) -> Response | None:
    """None when the request may go on; a 401 that says how to get in otherwise."""
    if token is None or not req.path.startswith("/__sandbox") or req.path in _OPEN:
        return None
    if holds_token(req, token):
        return None
    if req.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        return Response(_LOGIN_PAGE, status=401, content_type="text/html; charset=utf-8")
    answer = problem(
        401, "admin_token_required",
        "This sandbox listens beyond loopback, so its admin API needs the admin token the "
        f"banner printed: send 'Authorization: Bearer <token>' or '{HEADER}', or open "
        "/__sandbox/?token=<token> in a browser.",
    )  # fmt: skip
    answer.headers["WWW-Authenticate"] = 'Bearer realm="sandbox-admin"'
    return answer


_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox admin: token needed</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>The admin token is needed</h1>
<p>This sandbox listens beyond loopback, so its dashboard and admin API need the admin token
printed in the banner of <code>sandbox serve</code> (or set with <code>--admin-token</code>).</p>
<form method="get" action="/__sandbox/">
<label>Admin token <input name="token" type="password" autocomplete="off" required></label>
<button type="submit">Open the dashboard</button>
</form>
</body></html>
"""
