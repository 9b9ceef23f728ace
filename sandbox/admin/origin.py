"""Web pages of other sites must not drive the admin API, even on loopback.

The API is open to browsers on purpose (CORS), so a front end on another port can call it.
The admin API and the docs page are not: they hand out keys and secrets, reset state and
aim webhooks, and a page the developer happens to visit runs in a browser that can reach
127.0.0.1. Three rules close that door, for ``/__sandbox`` and ``/docs``:

- **No CORS**: their answers carry no ``Access-Control-Allow-*`` header, so a script of
  another origin cannot read them, and a preflight is not approved.
- **Writes come from this origin**: a browser marks every request it sends with
  ``Sec-Fetch-Site`` and every cross-site write with ``Origin``. A write (POST, PUT,
  PATCH, DELETE) whose ``Sec-Fetch-Site`` is not ``same-origin`` or ``none``, or whose
  ``Origin`` is not this host, is a 403. Clients that are not browsers send neither.
- **Writes are JSON**: a body must say ``Content-Type: application/json``. An HTML form or a
  ``text/plain`` fetch (which browsers send without asking first) cannot.

And one more on loopback, against DNS rebinding (a page whose own name is made to resolve to
127.0.0.1 is "same-origin" with itself): the ``Host`` must be a loopback name or address.
Health stays open: load balancers ask it by address.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from sandbox.admin.api import problem

GUARDED = ("/__sandbox", "/docs")
_OPEN = frozenset({"/__sandbox/health"})
_SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_OWN_SITE = frozenset({"same-origin", "none"})

# what the admin API and docs answers carry: read only by this origin, never framed
PRIVATE_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def is_guarded(path: str) -> bool:
    """The admin API, dashboard and docs: no CORS, and the rules above."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in GUARDED)


def origin_guard(req: Request, *, on_loopback: bool) -> Response | None:
    """None when the request may go on; a 403 or 415 that says why otherwise."""
    path = req.path
    if not is_guarded(path) or path in _OPEN:
        return None
    if on_loopback and not _loopback_name(req.host):
        return problem(
            403, "host_not_allowed",
            f"This sandbox listens on loopback and answers its admin API and docs only to a "
            f"loopback Host (localhost, 127.0.0.1, [::1]), not {req.host!r}: a web page that "
            "points its own name at 127.0.0.1 must not read them.",
        )  # fmt: skip
    if req.method in _SAFE:
        return None
    foreign = _foreign_site(req)
    if foreign:
        return problem(
            403, "cross_origin_refused",
            f"{foreign}: the admin API takes changes only from this origin (the dashboard, "
            "curl, scripts), never from a page of another site.",
        )  # fmt: skip
    if req.content_length or req.headers.get("Transfer-Encoding"):
        mimetype = req.mimetype
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            return problem(
                415, "json_required",
                f"Send the body as JSON with 'Content-Type: application/json' (got "
                f"{req.headers.get('Content-Type') or 'no Content-Type'!r}).",
            )  # fmt: skip
    return None


def _foreign_site(req: Request) -> str | None:
    site = req.headers.get("Sec-Fetch-Site")
    if site is not None and site.strip().lower() not in _OWN_SITE:
        return f"Sec-Fetch-Site is {site!r}"
    origin = req.headers.get("Origin")
    if origin is None:
        return None
    try:
        netloc = urlsplit(origin.strip()).netloc.lower()
    except ValueError:
        netloc = ""
    if netloc != req.host.lower():
        return f"Origin {origin!r} is not this sandbox ({req.host})"
    return None


def _loopback_name(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
