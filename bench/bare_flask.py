"""The throughput ceiling for the sandbox: Flask doing no work, served exactly like the sandbox.

Every request, whatever its path, gets one constant, pre-serialised JSON body (``201`` for
``POST``, ``200`` otherwise), so the figure is what the server + Flask + the HTTP stack cost on
this machine. It is served by ``sandbox.serving.serve`` itself, the code that serves ``sandbox
serve``, with this app in place of the sandbox's: every setting the sandbox's server uses
(workers, threads, preloading, socket options, timeouts, limits) applies here too, now and after
any change to it. ``--server granian-wsgi`` serves it on granian's own WSGI interface instead
(no event loop in front of the threads), to show what that layer costs.

    python bench/bare_flask.py --port 8100 --workers 2 --threads 4 [--server gunicorn]
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


def serve_like_the_sandbox(host: str, port: int, workers: int, threads: int, server: str) -> None:
    """Run ``app`` through the sandbox's own serving code (``sandbox serve``'s code path)."""
    from sandbox.config.settings import load_settings
    from sandbox.serving import Served, serve

    settings = load_settings(
        None,
        environ={},
        overrides={
            "host": host, "port": port, "workers": workers, "threads": threads, "server": server,
        },
    )  # fmt: skip
    serve(settings, lambda: Served(app))


def serve_on_granian_wsgi(host: str, port: int, workers: int, threads: int) -> None:
    """granian's WSGI interface, threads fed straight from Rust: what the bridge costs."""
    import multiprocessing

    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    multiprocessing.set_start_method("fork", force=True)
    Server(
        "bare",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        http=HTTPModes.http1,
        log_level=LogLevels.warning,
    ).serve(target_loader=lambda _target: app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--server", default="granian", choices=["granian", "gunicorn", "granian-wsgi"]
    )
    args = parser.parse_args()
    if args.server == "granian-wsgi":
        serve_on_granian_wsgi(args.host, args.port, args.workers, args.threads)
    else:
        serve_like_the_sandbox(args.host, args.port, args.workers, args.threads, args.server)


if __name__ == "__main__":
    main()
