"""The HTTP server in front of the sandbox: ``sandbox serve`` hands its app to :func:`serve`.

Two servers sit behind one call, chosen by the ``server`` setting:

* ``granian`` (the default): HTTP parsed in Rust (hyper) by ``workers`` processes, each with
  an event loop that reads every request whole before one of its ``threads`` Python threads
  runs the app (:mod:`sandbox.serving.bridge`). A client gets ``header_timeout`` seconds to
  send its headers and ``body_timeout`` more for its body, then its connection is closed;
  slow clients never hold a thread.
* ``gunicorn``: gthread workers, a Python thread reading each connection; kept for
  comparison (``bench/serve_bench.py`` measures both) and for set-ups built around it. A
  slow client holds one of its threads for as long as it likes.

``--reload`` runs werkzeug's development server instead of either, restarting the process when
the code or the spec changes.

Both servers load the app once, in the parent process, and fork their workers from it, so a
spec is parsed once whatever the number of workers; :class:`Served` says what to run in each
worker after the fork (the sandbox starts its webhook delivery thread there).
:func:`build_before_fork` builds it with the garbage collector held off and then frozen, so
the workers keep sharing the parent's pages (see there).

Defaults (``sandbox/config.py``), measured on 2 cores with wrk on the same machine
(``bench/serve_bench.py``; the README has the full table):

* ``server: granian``: the sandbox serves 1.3-1.4 times as many requests per second as on
  gunicorn with the same workers and threads (reads at 16 connections, one run of the bench),
  and is the only one of the two that survives slow clients.
* ``workers: 2``: one GIL per process, so a second worker is what uses a second core. With
  the rate limiter on, as ``make run`` has it, ``GET /v1/users`` at 16 connections served
  2,737-3,010 req/s on 2 x 4 against 1,641-1,855 on 1 x 4 (runs interleaved; 4,110-4,312
  against 2,008-2,083 with the limiter off). It costs about 50 MB more memory (PSS), and the
  counters move from memory to a SQLite file the workers share (``rate_limit_storage:
  auto``), which is what the limiter costs two workers: about 30 % of their reads.
* ``threads``: 2 on granian, 4 on gunicorn (``default_threads`` has the figures). On
  granian requests reach the threads complete and what waits on a timer is held on the loop,
  so a thread waits only on the GIL and on SQLite; more threads add GIL contention, not
  throughput (2 x 8 used 5-10 % more CPU per request than 2 x 4 for the same req/s, with a
  longer p99; 2 x 2 served 7-20 % more creates than 2 x 4).
* ``header_timeout: 10``, ``body_timeout: 30``: generous for any real client on any network
  (30 s is 170 KB/s for a body at the 5 MiB limit); an idle keep-alive connection is closed
  after ``header_timeout`` too.
"""

from __future__ import annotations

import gc
import ipaddress
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.config.settings import Settings, default_threads
from sandbox.errors import ConfigError

SERVERS = ("granian", "gunicorn")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def worker_threads(settings: Settings) -> int:
    """The threads each worker runs the app on: the settings', else the server's default
    (settings made without ``load_settings`` have none)."""
    return settings.threads if settings.threads > 0 else default_threads(settings.server)


def _nothing() -> None:
    pass


@dataclass(frozen=True)
class Served:
    """What a server runs: a WSGI app, and what each worker process does before serving."""

    app: WSGIApp
    in_each_worker: Callable[[], None] = field(default=_nothing)
    # requests the app answers without waiting on anything but the CPU (granian runs those
    # on its event loop: ``bridge.BufferedWSGI``); None: every request goes to a thread
    at_once: Callable[[dict[str, Any]], bool] | None = None


def build_before_fork(build: Callable[[], Served]) -> Served:
    """``build()``, made ready to be shared by forked workers.

    The collector is off while the app is built (it allocates hundreds of thousands of
    objects that all live on: each collection would walk them all), and what was built is
    then frozen (``gc.freeze``): the collector never walks it again, in this process or a
    worker, so it never writes to those objects' pages and the workers keep sharing them
    with the parent instead of copying them page by page. Each worker turns the collector
    back on for what it allocates itself, as does this process."""
    gc.disable()
    try:
        served = build()
    finally:
        gc.freeze()
        gc.enable()

    def in_each_worker() -> None:
        gc.enable()  # a worker forked while the collector was off inherits that
        served.in_each_worker()

    return Served(served.app, in_each_worker, served.at_once)


def serve(settings: Settings, build: Callable[[], Served]) -> None:
    """Serve what ``build()`` returns, as ``settings`` say, until stopped by a signal.

    ``build`` runs once, in this process, after the environment the app's modules read at
    import (prometheus-client's multiprocess directory) is set."""
    if settings.reload:
        from sandbox.serving.dev import serve_dev

        serve_dev(settings, build_before_fork(build))  # the collector back on, at least
        return
    server = settings.server.strip().lower()
    if server not in SERVERS:
        raise ConfigError(f"server {settings.server!r}: use one of {', '.join(SERVERS)}")
    metrics_dir = shared_metrics_dir(settings.port) if settings.workers > 1 else None
    if server == "granian":
        from sandbox.serving.granian_server import serve_granian

        serve_granian(settings, build)
    else:
        from sandbox.serving.gunicorn_server import serve_gunicorn

        serve_gunicorn(settings, build, metrics_dir)


def describe(settings: Settings) -> str:
    """The banner's "Serving" row."""
    if settings.reload:
        return "werkzeug development server (--reload)"
    server = settings.server.strip().lower()
    shape = f"{settings.workers} worker(s) x {worker_threads(settings)} thread(s)"
    if server == "granian":
        return (
            f"granian, {shape}; clients get {settings.header_timeout:g} s for headers, "
            f"{settings.body_timeout:g} s for a body"
        )
    return f"{server}, {shape}"


def listen_address(host: str) -> str:
    """``host`` as an IP address (granian binds addresses, not names such as localhost)."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}: {exc.strerror or exc}") from None
    return str(found[0][4][0])


def port_is_free(host: str, port: int) -> None:
    """Raise ConfigError if ``host:port`` is taken. Workers that bind with SO_REUSEPORT would
    otherwise share a port another server holds the same way, and split its traffic."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def shared_metrics_dir(port: int) -> Path:
    """Workers add up their request metrics in files here (prometheus-client's multiprocess
    mode); it must be set before prometheus-client is first imported."""
    base = Path(tempfile.gettempdir()) / f"sandbox-metrics-{port}"
    shutil.rmtree(base, ignore_errors=True)  # figures of an earlier run are not this run's
    base.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(base)
    return base
