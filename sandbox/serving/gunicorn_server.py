"""``server: gunicorn``: gthread workers, each connection read by a Python thread.

Kept behind ``--server gunicorn`` for comparison and for set-ups built around gunicorn. It has
no read timeouts: a client that sends its headers slowly, or its body never, holds one of
``threads`` threads until it gives up, and ``threads`` such clients stall a worker (the
granian set-up does not have that problem; see ``tests/e2e/test_slow_clients.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox.config.settings import Settings
from sandbox.serving import Served, build_before_fork, port_is_free, worker_threads

GRACE_SECONDS = 5


def serve_gunicorn(
    settings: Settings, build: Callable[[], Served], metrics_dir: Path | None
) -> None:
    from gunicorn.app.base import BaseApplication

    served = build_before_fork(build)

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", settings.workers)
            self.cfg.set("threads", worker_threads(settings))
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("preload_app", True)
            # each worker process sends webhooks, including those a restart left pending
            self.cfg.set("post_fork", lambda _server, _worker: served.in_each_worker())
            if metrics_dir is not None:
                self.cfg.set("child_exit", _forget_worker_metrics)
            self.cfg.set("graceful_timeout", GRACE_SECONDS)
            self.cfg.set("loglevel", "warning")
            # gunicorn answers long URLs and headers itself with an HTML 414/431 the spec never
            # declares; lifting its caps lets the sandbox reply with a validation error instead.
            self.cfg.set("limit_request_line", 0)
            self.cfg.set("limit_request_field_size", 65536)
            if settings.workers > 1:
                # the kernel spreads connections over the workers: without it one gthread
                # worker often takes every keep-alive connection and the other idles
                self.cfg.set("reuse_port", True)

        def load(self) -> Any:
            return served.app

    if settings.workers > 1:
        port_is_free(settings.host, settings.port)  # SO_REUSEPORT would share a taken port
    _Server().run()


def _forget_worker_metrics(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
