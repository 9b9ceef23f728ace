"""``server: granian``: HTTP in Rust, an event loop per worker, the app on a pool of threads.

How granian is used here, and why:

* **RSGI, not granian's WSGI interface.** granian's WSGI interface hands a request to a
  Python thread as soon as its headers are in, and that thread then blocks on the body for
  as long as the client takes: a few clients that send headers and no body hold every
  thread, and no setting of granian's closes them. Through RSGI the request reaches this
  worker's event loop instead, which reads the body with a deadline before a thread sees it
  (:class:`sandbox.serving.bridge.BufferedWSGI`). Measured on 2 cores, that hop costs the
  sandbox about a tenth of its throughput against granian's WSGI interface and still serves
  half again as much as gunicorn (``bench/serve_bench.py``; the README has the figures).
* **Headers:** hyper's ``header_read_timeout`` (``header_timeout`` seconds) closes a
  connection whose request headers are not all in by then, counted from the connection's
  start or the end of its previous response, so it also ends idle keep-alive connections.
* **Loaded once, forked:** the app is built in this process and the workers are forked from
  it (the ``fork`` start method, forced: granian would pickle the loader under ``spawn``);
  each worker runs ``Served.in_each_worker`` before serving, and a worker that dies is
  forked again from the same app.
* **Each worker binds its own SO_REUSEPORT socket** (granian always does, on Linux): the
  kernel spreads connections over the workers, so keep-alive clients do not pile onto one.
  The port is checked first, since SO_REUSEPORT would also share a port another such server
  holds.
* **Stopping:** SIGTERM or SIGINT stops accepting, lets requests in flight finish and the
  workers exit, for at most :data:`GRACE_SECONDS`; SIGHUP restarts the workers one by one.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import Any

from sandbox.config.settings import Settings
from sandbox.serving import Served, build_before_fork, listen_address, port_is_free, worker_threads
from sandbox.serving.bridge import BufferedWSGI
from sandbox.serving.orphans import stop_when_orphaned

GRACE_SECONDS = 5  # as gunicorn's graceful_timeout was


def serve_granian(settings: Settings, build: Callable[[], Served]) -> None:
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    host = listen_address(settings.host)
    port_is_free(host, settings.port)
    served = build_before_fork(build)
    app = BufferedWSGI(
        served.app,
        threads=worker_threads(settings),
        max_body=settings.max_body_bytes,
        body_timeout=settings.body_timeout,
        at_once=served.at_once,
    )

    def in_the_worker(_target: str) -> Any:
        # granian configures logging again in each worker; the sandbox's request log is its own
        from sandbox.observe.log import configure_logging

        configure_logging(settings.log_format)
        stop_when_orphaned(os.getppid())  # a SIGKILLed server leaves no worker behind
        served.in_each_worker()
        return app

    multiprocessing.set_start_method("fork", force=True)
    server = Server(
        "sandbox",  # a name only: the loader above hands over the app
        address=host,
        port=settings.port,
        interface=Interfaces.RSGI,
        workers=max(1, settings.workers),
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(
            header_read_timeout=max(1, round(settings.header_timeout * 1000)),
            # a request head (URL and headers) up to 1 MiB reaches the app, which answers in
            # the spec's error shape; hyper itself answers a bare 414 past a 64 KiB URL, and
            # a bare 431 past this or 100 headers
            max_buffer_size=1024 * 1024,
        ),
        websockets=False,
        respawn_failed_workers=True,
        workers_kill_timeout=GRACE_SECONDS,
        log_level=LogLevels.warning,
        log_access=False,
    )
    server.serve(target_loader=in_the_worker)
