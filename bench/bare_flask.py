"""The throughput ceiling for the sandbox: Flask doing no work, served exactly like the sandbox.

Every request, whatever its path, gets one constant, pre-serialised JSON body (``201`` for
``POST``, ``200`` otherwise), so the figure is what gunicorn (gthread) + Flask + the HTTP stack
cost on this machine. It is served by ``sandbox.cli._serve_gunicorn`` itself, the code that
serves ``sandbox serve``, with this app in place of the sandbox's: every gunicorn setting the
sandbox uses (workers, threads, worker class, preloading, socket options, limits, hooks) applies
here too, now and after any change to it.

    python bench/bare_flask.py --port 8100 --workers 2 --threads 4
"""

from __future__ import annotations

import argparse

import orjson
from flask import Flask, Response, request

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

BODY = orjson.dumps(
    {
        "status": "success",
        "data": {
            "id": "usr_8kPq2ZxW4mNc",
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "role": "member",
            "status": "active",
            "phone": "+14155550123",
            "avatar_url": "https://cdn.example.com/avatars/usr_8kPq2ZxW4mNc.png",
            "created_at": "2024-01-15T09:30:00Z",
            "updated_at": "2024-01-15T09:30:00Z",
        },
        "meta": {"requestId": "req_0000000000000000"},
    }
)

app = Flask("bare")


@app.route("/", defaults={"subpath": ""}, methods=METHODS)
@app.route("/<path:subpath>", methods=METHODS)
def constant(subpath: str) -> Response:
    status = 201 if request.method == "POST" else 200
    return Response(BODY, status=status, content_type="application/json")


class _NoWebhooks:
    """What ``_serve_gunicorn``'s post-fork hook starts in each worker: nothing, here."""

    def start(self) -> None:
        pass


class _NotASandbox:
    webhooks = _NoWebhooks()


def serve_like_the_sandbox(host: str, port: int, workers: int, threads: int) -> None:
    """Run ``app`` through the sandbox's own gunicorn set-up (``sandbox serve``'s code path)."""
    import sandbox.app.wsgi
    from sandbox.cli import _serve_gunicorn
    from sandbox.config.settings import load_settings

    settings = load_settings(
        None,
        environ={},
        overrides={"host": host, "port": port, "workers": workers, "threads": threads},
    )
    app.extensions["sandbox"] = _NotASandbox()
    # _serve_gunicorn builds its app with sandbox.app.wsgi.create_app: hand it this one instead
    sandbox.app.wsgi.create_app = lambda _spec, _settings: app  # type: ignore[assignment]
    _serve_gunicorn(None, settings)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    serve_like_the_sandbox(args.host, args.port, args.workers, args.threads)


if __name__ == "__main__":
    main()
