"""An event loop in front of the WSGI threads: granian's RSGI interface, feeding a pool.

granian parses HTTP in Rust and, for each request whose headers have arrived, calls
``__rsgi__`` on this worker's event loop. The loop reads the whole body first, within
``body_timeout`` seconds and at most ``max_body + 1`` bytes, and only then hands the request to
one of ``threads`` Python threads running the WSGI app, with the body in memory. A client that
sends its headers and then dribbles, or never sends, its body waits on the loop, where it
costs a coroutine, never a thread: the threads only ever run requests that are complete.

What the app sees is what a WSGI server gives it, with two differences that matter:

* ``wsgi.input`` is the buffered body, with its length in ``CONTENT_LENGTH``. A chunked body
  reaches the app decoded, as if it had been sent with a ``Content-Length`` (the
  ``Transfer-Encoding`` header, which no longer describes it, is left out), so the app's own
  limit applies to it as to any other: werkzeug refuses a ``CONTENT_LENGTH`` over
  ``max_content_length`` with a 413, in the app's error shape. No more than ``max_body + 1``
  bytes of a chunked body are read; that is enough to be over. A body whose declared
  ``Content-Length`` is over ``max_body`` is not read at all.
* a body that does not arrive in time is not the app's problem to wait for: the app gets a
  ``wsgi.input`` whose reads raise werkzeug's ``RequestTimeout``, so it answers 408 in its own
  shape (or whatever it answers without reading the body). A body left unread closes the
  connection once the answer is sent: the rest of it is never read.

Responses are sent whole (``b"".join`` of the app's iterable, in the thread), from the loop:
nothing the sandbox serves streams. An answer the app asks to be held a while (a scenario's
latency, chaos's delay: ``sandbox.http.held``) waits on the loop, a timer, not on the thread
that made it, which goes on to the next request.

**Answered on the loop.** The hop to a thread is not free: the request is queued, a thread
woken, the GIL handed over twice and the loop woken again with the result
(``call_soon_threadsafe``). A request the app says waits on nothing but the CPU (``at_once``:
the sandbox's reads of local state with no scenario in force,
``Sandbox.answers_at_once``) is run on the loop instead, as soon as its body is in; the
threads keep what may wait (writes queue for the state file's lock), which on the loop
would hold every other request of the worker.
"""

from __future__ import annotations

import asyncio
import io
import logging
import queue
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from sandbox.http.held import HOLDS_ANSWERS, WAIT

log = logging.getLogger("sandbox.serving")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_STOP = object()
_EMPTY = io.BytesIO()  # a marker: no body (each request gets its own empty stream)
_PROTOCOLS = {"1": "HTTP/1.0", "1.1": "HTTP/1.1", "2": "HTTP/2"}


class _TimedOut(io.RawIOBase):
    """``wsgi.input`` of a request whose body did not arrive within the body timeout."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def readable(self) -> bool:
        return True

    def readinto(self, _buffer: Any) -> int:
        from werkzeug.exceptions import RequestTimeout

        raise RequestTimeout(
            f"The request body did not arrive within {self.seconds:g} seconds "
            "(the body_timeout setting)."
        )


class BufferedWSGI:
    """An RSGI application (granian's native interface) that runs a WSGI app on threads,
    each request complete before a thread sees it. One per worker process, made in the
    parent before the fork; ``__rsgi_init__`` starts the threads in the worker."""

    def __init__(
        self, app: WSGIApp, *, threads: int, max_body: int, body_timeout: float,
        at_once: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:  # fmt: skip
        """``at_once``: the requests the app answers without waiting on anything but the
        CPU, run on the event loop itself (see the module's docstring)."""
        self.app = app
        self.at_once = at_once
        self.threads = max(1, threads)
        self.max_body = max_body
        self.body_timeout = body_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []

    # -- the worker's life: granian calls these in the worker process -----------------------
    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        for number in range(self.threads):
            worker = threading.Thread(
                target=self._work, name=f"sandbox-wsgi-{number + 1}", daemon=True
            )
            worker.start()
            self._workers.append(worker)

    def __rsgi_del__(self, _loop: asyncio.AbstractEventLoop) -> None:
        """Let the threads finish the requests they hold, then stop them."""
        for _ in self._workers:
            self._queue.put(_STOP)
        for worker in self._workers:
            worker.join(timeout=5)

    # -- on the event loop ------------------------------------------------------------------
    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        headers = scope.headers
        environ = self._environ(scope, headers)
        length = headers.get("content-length")
        if length is not None:
            environ["CONTENT_LENGTH"] = length
        body: io.IOBase | None = _EMPTY
        if "HTTP_TRANSFER_ENCODING" in environ:  # chunked: hyper decodes it, we count it
            coding = environ.pop("HTTP_TRANSFER_ENCODING")
            if coding.strip().lower() != "chunked":  # what is left is the app's to undo
                environ["HTTP_TRANSFER_ENCODING"] = coding
            body = await self._body(protocol, None)
            if isinstance(body, io.BytesIO):
                environ["CONTENT_LENGTH"] = str(body.getbuffer().nbytes)
        elif length and length != "0":
            body = await self._body(protocol, length)
        if body is None:  # the client left mid-body, or sent broken chunks: nothing to run
            protocol.response_empty(400, [])
            return
        environ["wsgi.input"] = io.BytesIO(b"") if body is _EMPTY else body
        environ[HOLDS_ANSWERS] = True
        if self.at_once is not None and self.at_once(environ):
            answer = self._answer(environ)
        else:
            done: asyncio.Future[_Answer] = self._loop.create_future()  # type: ignore[union-attr]
            self._queue.put((environ, done))
            answer = await done
        wait = environ.get(WAIT)
        if wait:  # the answer's wait, held here rather than in a thread (sandbox.http.held)
            await asyncio.sleep(wait)
        protocol.response_bytes(*answer)

    async def _body(self, protocol: Any, length: str | None) -> io.IOBase | None:
        """The whole body, or as much as tells the app it is too large, within the timeout;
        None if it cannot be had (the connection closed, or the chunks were malformed)."""
        declared = int(length) if length and length.isdigit() else None
        if declared is not None and declared > self.max_body:
            return io.BytesIO(b"")  # the app refuses it from CONTENT_LENGTH alone
        try:
            async with asyncio.timeout(self.body_timeout):
                if declared is not None:  # hyper reads exactly that many bytes
                    return io.BytesIO(await protocol())
                chunks: list[bytes] = []
                size = 0
                async for chunk in protocol:
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > self.max_body:
                        break  # enough for the app to see it is too large: the rest stays unread
                return io.BytesIO(b"".join(chunks))
        except TimeoutError:
            return _TimedOut(self.body_timeout)
        except Exception:
            return None

    @staticmethod
    def _environ(scope: Any, headers: Any) -> dict[str, Any]:
        server, _, port = scope.server.rpartition(":")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope.method,
            "SCRIPT_NAME": "",
            # RSGI gives the path percent-decoded as UTF-8 (invalid bytes replaced); WSGI wants
            # it as latin-1 code points of the bytes, which werkzeug turns back into UTF-8
            "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server.strip("[]"),
            "SERVER_PORT": port,
            "SERVER_PROTOCOL": _PROTOCOLS.get(scope.http_version, "HTTP/1.1"),
            "REMOTE_ADDR": scope.client.rpartition(":")[0].strip("[]"),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
        }
        for name in headers.keys():  # noqa: SIM118 (an RSGI headers object, not a dict)
            if name == "content-type":
                environ["CONTENT_TYPE"] = headers.get(name)
            elif name != "content-length":
                # several lines of one header become one value, as in a WSGI server
                separator = "; " if name == "cookie" else ","
                environ["HTTP_" + name.upper().replace("-", "_")] = separator.join(
                    headers.get_all(name)
                )
        return environ

    # -- on the threads ---------------------------------------------------------------------
    def _work(self) -> None:
        take = self._queue.get
        while (job := take()) is not _STOP:
            environ, done = job
            answer = _FAILED
            try:
                answer = self._answer(environ)
            finally:
                self._loop.call_soon_threadsafe(_finish, done, answer)  # type: ignore[union-attr]

    def _answer(self, environ: dict[str, Any]) -> _Answer:
        """The app's answer to one request: status, headers and the whole body."""
        started: list[Any] = []
        written: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], Any]:
            if exc_info is not None and started and written:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [int(status[:3]), headers]
            return written.append

        try:
            result = self.app(environ, start_response)
            try:
                body = b"".join([*written, *result])
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            status, headers = started
        except Exception:
            log.exception("the WSGI app failed on %s %s", environ["REQUEST_METHOD"],
                          environ["PATH_INFO"])  # fmt: skip
            return _FAILED
        return status, headers, body


_Answer = tuple[int, list[tuple[str, str]], bytes]
_FAILED: _Answer = (500, [("Content-Type", "text/plain")], b"Internal error\n")


def _finish(done: asyncio.Future[_Answer], answer: _Answer) -> None:
    if not done.done():
        done.set_result(answer)
