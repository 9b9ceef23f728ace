"""Which declared media type answers a request, by its ``Accept`` header."""

from __future__ import annotations

from werkzeug.wrappers import Request


def negotiate(request: Request, declared: list[str]) -> str | None:
    """The declared media type the client accepts best; the first declared one when it
    accepts anything (no header, or ``*/*``); None when it accepts none of them (a 406)."""
    if not request.headers.get("Accept"):  # before parsing it: most clients send none
        return declared[0]
    accept = request.accept_mimetypes
    if not accept:
        return declared[0]
    best = accept.best_match(declared)
    if best is None and any(value == "*/*" for value, _ in accept):
        return declared[0]
    return best
