"""The throughput ceiling for the sandbox: Flask doing no work, served exactly like the sandbox.

Every request, whatever its path, gets one constant, pre-serialised JSON body (``201`` for
``POST``, ``200`` otherwise), so the figure is what gunicorn (gthread) + Flask + the HTTP stack
cost on this machine. The gunicorn settings mirror ``sandbox.cli._serve_gunicorn``.

    python bench/bare_flask.py --port 8100 --workers 2 --threads 4
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson
from flask import Flask, Response, request
from gunicorn.app.base import BaseApplication

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


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, host: str, port: int, workers: int, threads: int) -> None:
        self._options = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "preload_app": True,
            "graceful_timeout": 5,
            "loglevel": "warning",
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    _Server(args.host, args.port, args.workers, args.threads).run()


if __name__ == "__main__":
    main()
