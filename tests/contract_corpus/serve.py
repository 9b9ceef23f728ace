"""Serve a corpus variant on a real 127.0.0.1 socket, or hand out its WSGI app for in-process use.

Contract testers speak HTTP, so most uses want `serve()`; `wsgi_app()` is for Schemathesis'
in-process WSGI transport and Flask test clients.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.contract_corpus.reference import make_app


class _QuietHandler(WSGIRequestHandler):
    """Drops the per-request access log line: a fuzzing run sends thousands of requests."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def wsgi_app(variant: str = "correct", *, rate_limit: int | None = None) -> Flask:
    """A fresh app (with its own empty store) for `variant`."""
    return make_app(variant, rate_limit=rate_limit)


@contextmanager
def serve(variant: str = "correct", *, rate_limit: int | None = None) -> Iterator[str]:
    """Serve `variant` on a free port of 127.0.0.1 in a daemon thread; yields the base URL."""
    server = make_server(
        "127.0.0.1",
        0,
        make_app(variant, rate_limit=rate_limit),
        threaded=True,
        request_handler=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, name=f"corpus-{variant}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
