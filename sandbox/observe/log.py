"""One place that learns how each API request went and tells the journal, the metrics and
the log, so the three always agree."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.jsonio import dumps
from sandbox.observe.journal import (
    EXCERPT_BYTES,
    Journal,
    environ_headers,
    excerpt,
    journal_entry,
)
from sandbox.observe.metrics import Metrics

log = logging.getLogger("sandbox.requests")
_NO_LOCK = threading.Lock()


@dataclass
class Trace:
    """What the pipeline found out about one request on its way through."""

    request_id: str
    operation: str | None = None
    route: str | None = None
    key: str | None = None
    scenario: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)
    replayed: bool = False
    # seconds the answer waits before it is sent (a scenario's latency, chaos's delay), part
    # of its latency; where it is waited out, see ``sandbox.http.held``
    wait: float = 0.0


class Observer:
    def __init__(self, journal: Journal, metrics: Metrics) -> None:
        self.journal = journal
        self.metrics = metrics

    def request(self, req: Request, response: Response, trace: Trace, seconds: float) -> None:
        operation = trace.operation or "unmatched"
        method, path, status = req.method, req.path, response.status_code
        self.metrics.observe(operation, method, status, seconds)
        latency_ms = round(seconds * 1000, 2)
        if self.journal.capacity > 0:
            # made when the journal writes it, and only if it does (see ``Journal``), from
            # what is taken now: nothing that holds a whole body, nothing a later hook changes
            environ = req.environ
            self.journal.record(
                partial(
                    _entry, journal_entry(), method, path, req.query_string, status,
                    _header_environ(environ), _first_values(response.headers),
                    req.get_data(cache=True)[:EXCERPT_BYTES],
                    response.get_data()[:EXCERPT_BYTES], trace, latency_ms,
                )
            )  # fmt: skip
        if log.isEnabledFor(logging.INFO):
            fields = {
                "event": "request", "request_id": trace.request_id, "method": method,
                "path": path, "operation": trace.operation,
                "status": status, "latency_ms": latency_ms, "key": trace.key,
                "scenario": trace.scenario, "problems": len(trace.problems),
                "replayed": trace.replayed or None,
            }  # fmt: skip
            direct = _direct_handler()
            if direct is not None:
                direct.write_line(fields)
                return
            # what log.info would do, less the look up the stack for the caller's line
            record = log.makeRecord(
                log.name,
                logging.INFO,
                __file__,
                0,
                "%s %s %s",
                (method, path, status),
                None,
                "request",
                {"fields": fields},
            )
            log.handle(record)


_HEADER_KEYS = ("HTTP_", "CONTENT_")  # the environ keys werkzeug reads headers from
# an environ's keys, in order -> those of them werkzeug reads headers from: a server and a
# client send the same keys request after request (2.9 -> 1.0 µs to take them)
_HEADER_KEY_SETS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _header_environ(environ: dict[str, Any]) -> dict[str, Any]:
    """``{k: v for k, v in environ.items() if k.startswith(_HEADER_KEYS)}``."""
    keys = tuple(environ)
    chosen = _HEADER_KEY_SETS.get(keys)
    if chosen is None:
        chosen = tuple(key for key in keys if key.startswith(_HEADER_KEYS))
        if len(_HEADER_KEY_SETS) >= 256:  # keys come from clients
            _HEADER_KEY_SETS.clear()
        _HEADER_KEY_SETS[keys] = chosen
    return {key: environ[key] for key in chosen}


def _first_values(headers: Any) -> dict[str, str]:
    """``dict(headers)`` for werkzeug's ``Headers``: each name as written, in order, with
    the first value of any header of that name but for case. ``dict()`` asked the headers
    for each name again, a scan of them each (2.3 -> 1.2 µs)."""
    first: dict[str, str] = {}
    out: dict[str, str] = {}
    for name, value in headers.items():
        out[name] = first.setdefault(name.lower(), value)
    return out


def _entry(
    head: dict[str, Any], method: str, path: str, query: bytes, status: int,
    header_environ: dict[str, Any], headers: dict[str, str], sent: bytes, answered: bytes,
    trace: Trace, latency_ms: float,
) -> dict[str, Any]:  # fmt: skip
    """The journal's entry for one request."""
    return head | {
        "request_id": trace.request_id, "method": method, "path": path,
        "query": query.decode("latin-1"), "operation": trace.operation,
        "route": trace.route, "status": status, "latency_ms": latency_ms,
        "key": trace.key, "scenario": trace.scenario, "problems": trace.problems,
        "idempotent_replay": trace.replayed, "worker_pid": os.getpid(),
        "request": {"headers": environ_headers(header_environ),
                    "body": excerpt(sent)},
        "response": {"headers": headers, "body": excerpt(answered)},
    }  # fmt: skip


class RequestLines(logging.StreamHandler):
    """The handler ``configure_logging("json")`` installs. A request's line goes to it
    without a LogRecord and the logging machinery around one (``_direct_handler`` says
    when): 11 µs of CPU per request that way, 3 this way; any other handler gets the
    standard record."""

    def write_line(self, fields: dict[str, Any]) -> None:
        line = dumps(JsonLines.head(time.time(), "info", log.name) | _present(fields))
        text = line.decode() + self.terminator
        with self.lock or _NO_LOCK:
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):  # a closed or broken stream, as emit would
                self.handleError(logging.makeLogRecord({"msg": text}))


def _direct_handler() -> RequestLines | None:
    """The one handler a request line reaches, when it is ours and nothing filters or adds
    to the way there (the request logger and its parent as configure_logging left them)."""
    parent = log.parent
    if log.handlers or log.filters or parent is None or parent.filters or not log.propagate:
        return None
    handlers = parent.handlers
    if len(handlers) != 1 or parent.propagate or type(handlers[0]) is not RequestLines:
        return None
    handler = handlers[0]
    if handler.filters or handler.level > logging.INFO:
        return None
    return handler


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class JsonLines(logging.Formatter):
    """One JSON object per line: what log shippers and ``jq`` read without a pattern."""

    _second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    @classmethod
    def head(cls, created: float, level: str, logger: str) -> dict[str, Any]:
        """What every line starts with: time (UTC, milliseconds), level, logger, process."""
        whole = int(created)
        second = cls._second
        if second[0] != whole:
            second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
            cls._second = second
        msecs = int((created - whole) * 1000)
        return {"ts": f"{second[1]}.{msecs:03d}Z", "level": level, "logger": logger,
                "pid": os.getpid()}  # fmt: skip

    def format(self, record: logging.LogRecord) -> str:
        line = self.head(record.created, record.levelname.lower(), record.name)
        line["pid"] = record.process
        fields = getattr(record, "fields", None)
        if fields:
            line.update(_present(fields))
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return dumps(line).decode()


def configure_logging(log_format: str) -> None:
    """``json`` (one object per line), ``text``, or ``off`` for request lines."""
    if log_format not in ("json", "text", "off"):
        from sandbox.errors import ConfigError

        raise ConfigError(f"log_format {log_format!r}: use json, text or off")
    handler = RequestLines() if log_format == "json" else logging.StreamHandler()
    handler.setFormatter(
        JsonLines() if log_format == "json" else logging.Formatter("%(asctime)s %(message)s")
    )
    root = logging.getLogger("sandbox")
    root.handlers[:] = [handler]
    root.propagate = False
    root.setLevel(logging.INFO)
    logging.getLogger("sandbox.requests").disabled = log_format == "off"
