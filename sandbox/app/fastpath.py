"""The WSGI entry: API requests go straight to the pipeline, everything else through Flask.

Flask would route an API request to the catch-all view anyway; what it adds on the way (a
request context, URL matching against every rule, hook lookups) costs about a third of a
small request. This middleware wraps ``app.wsgi_app``, the seam Flask documents for it, and
uses nothing else of Flask's but public attributes: ``url_map.iter_rules()`` and the hook
registries, read once. It builds werkzeug's own ``Request`` with the app's body limit, and
an exception goes to ``Sandbox.failure``, the function Flask's error handler calls too, so
the answer is the same whichever way a request came (and no Flask release can change how an
exception escapes).

Paths another rule could match, and everything under ``/__sandbox``, take Flask's way; so
does every request once hooks other than the sandbox's own are registered.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.sansio.utils import get_current_url
from werkzeug.utils import cached_property
from werkzeug.wrappers import Request, Response

from sandbox.config.settings import Settings

if TYPE_CHECKING:  # the app builds both and hands them in
    from sandbox.app.sandbox import Sandbox

WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]
Finish = Callable[[Request, Response, Settings], Response]

_ADMIN = "/__sandbox"
# what werkzeug's iri_to_uri leaves as it is in a path: a Location of only these needs no work
_URI_SAFE = re.compile(r"[A-Za-z0-9_.~%!$&'()*+,/:;=@-]*")
_OWN_ENDPOINTS = ("root", "dispatch")


class QueryArgs(ImmutableMultiDict[str, str]):
    """werkzeug's query arguments, with a ``get`` that answers a missing name without
    raising: werkzeug's raises and catches a ``BadRequestKeyError`` (an HTTP exception,
    2 µs to make), and a list request asks for each paging, sorting and filtering
    parameter its operation declares, sent or not."""

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]
        if key not in self:
            return default
        return super().get(key, default, type)


class ApiRequest(Request):
    """werkzeug's request, with ``QueryArgs`` (werkzeug's documented
    ``parameter_storage_class``) and its ``host_url`` remembered per scheme and host:
    werkzeug works it out each time through ``uri_to_iri`` (about 12 µs), and a page's
    links, a create's Location and the servers-URL rewrite ask for it on most requests."""

    parameter_storage_class = QueryArgs
    _host_urls: dict[tuple[str, str], str] = {}

    @cached_property
    def host_url(self) -> str:
        key = (self.scheme, self.host)
        known = self._host_urls.get(key)
        if known is None:
            if len(self._host_urls) >= 64:  # the Host header is the client's to choose
                self._host_urls.clear()
            known = self._host_urls[key] = get_current_url(*key)
        return known


class ApiFastPath:
    def __init__(self, app: Flask, sandbox: Sandbox, finish: Finish) -> None:
        self.app = app
        self.flask_wsgi = app.wsgi_app
        self.sandbox = sandbox
        self.settings = sandbox.settings
        self.finish = finish  # the headers every answer carries (Flask's after-request hook)
        # the hooks create_app registered: any other one means Flask's way for everything
        self._own_hooks = _hooks(app)
        self._surveyed = False
        self._enabled = False
        self._exact: frozenset[str] = frozenset()
        self._prefixes: tuple[str, ...] = ()

    def _survey(self) -> None:
        """Which paths other rules could match, and whether Flask would run only our hooks.
        Done on the first request, when every route is registered."""
        exact: set[str] = set()
        prefixes = {_ADMIN}
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint in _OWN_ENDPOINTS:
                continue
            text = rule.rule
            if "<" in text:
                prefixes.add(text[: text.index("<")])
            else:  # with and without a trailing slash: Flask may redirect between the two
                exact.update({text, text.rstrip("/") or "/", text.rstrip("/") + "/"})
        self._exact, self._prefixes = frozenset(exact), tuple(sorted(prefixes))
        self._enabled = (
            _hooks(self.app) == self._own_hooks and "" not in prefixes and "/" not in prefixes
        )
        self._surveyed = True

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        limit = self.settings.max_body_bytes
        if not frame_chunked_body(environ, limit):
            refused = Request(environ)
            response = self.sandbox.too_large(refused.method, refused.path, refused.args)
            response.headers["Connection"] = "close"  # the rest of the body is never read
            return self.finish(refused, response, self.settings)(environ, start_response)
        if not self._surveyed:
            self._survey()
        if not self._enabled or not environ.get("PATH_INFO"):  # "": Flask redirects to "/"
            return self.flask_wsgi(environ, start_response)
        request = ApiRequest(environ)
        path = request.path
        if path in self._exact or path.startswith(self._prefixes):
            return self.flask_wsgi(environ, start_response)
        request.max_content_length = limit  # as Flask's request reads MAX_CONTENT_LENGTH
        try:
            response = self.sandbox.handle(request)
        except Exception as exc:  # every failure is answered, in the API's shape
            response = self.sandbox.failure(exc, request)
        return send(self.finish(request, response, self.settings), environ, start_response)


def send(response: Response, environ: WSGIEnviron, start_response: StartResponse) -> Any:
    """Start the answer and return its body, as ``response(environ, start_response)`` would
    for what the pipeline answers with: a buffered body with its Content-Length, to a method
    other than HEAD. Werkzeug copies the headers and rescans them for that (5 µs), and runs
    a Location through ``iri_to_uri`` (5 µs more on every create); here a Location that is
    already a plain URI path is sent as it is. Anything else (a stream, HEAD, 1xx, 204, 304,
    a Location that needs quoting) is werkzeug's to send. The sandbox registers no
    ``call_on_close`` functions, so there is nothing to close."""
    body = response.response
    status = response.status_code
    if (
        type(body) is not list
        or response.direct_passthrough
        or environ["REQUEST_METHOD"] == "HEAD"
        or status < 200
        or status in (204, 304)
        or not all(type(chunk) is bytes for chunk in body)
    ):
        return response(environ, start_response)
    headers = response.headers.to_wsgi_list()
    length = None
    for name, value in headers:
        low = name.lower()
        if low == "content-length":
            length = value
        elif low in ("location", "content-location") and not _URI_SAFE.fullmatch(value):
            return response(environ, start_response)
    if length is None:
        headers.append(("Content-Length", str(sum(map(len, body)))))
    start_response(response.status, headers)
    return body


def _hooks(app: Flask) -> tuple[Any, ...]:
    """Every app-wide hook Flask runs around a view (public registries of ``Flask``)."""
    return (
        list(app.before_request_funcs.get(None, ())),
        list(app.after_request_funcs.get(None, ())),
        list(app.teardown_request_funcs.get(None, ())),
        list(app.teardown_appcontext_funcs),
        list(app.url_value_preprocessors.get(None, ())),
        list(app.url_default_functions.get(None, ())),
    )


def frame_chunked_body(environ: WSGIEnviron, limit: int) -> bool:
    """Give a chunked body a length, so one limit holds whatever the framing. Werkzeug cuts
    a chunked body at ``max_content_length`` without a word (the truncated text may still
    parse: a form, a CSV), where a body with a Content-Length over it is refused. Read up to
    one byte past the limit: False when the body is over it (a 413), else the body is
    buffered and described by a Content-Length, as if the client had sent one. (granian's
    bridge has done this already; gunicorn and the dev server have not.)"""
    if (
        environ.get("CONTENT_LENGTH")
        or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    ):
        return True
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        return False
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    del environ["HTTP_TRANSFER_ENCODING"]
    return True
