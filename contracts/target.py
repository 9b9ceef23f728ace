"""The implementation under test: a real base URL, or the sandbox (or any WSGI app) served
in this process on a loopback port.

Our checks sometimes need a request of their own (read back what was created, walk the
pages of a list); the Probe sends it the way the run does, with the run's credentials.
Real APIs get the politeness they ask for: a 429 with ``Retry-After`` is waited out and the
request retried, so a rate limit is never mistaken for a contract failure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sandbox.jsonio import loads

if TYPE_CHECKING:
    from contracts.auth import TokenSource

MAX_RETRY_AFTER = 120.0  # seconds: a longer wait is a misconfigured target, not politeness


class PoliteRetry(Retry):
    """Retry 429s as told by ``Retry-After`` (any method: a 429 means nothing was done)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("total", 5)
        kwargs.setdefault("connect", 0)
        kwargs.setdefault("read", 0)
        kwargs.setdefault("redirect", 0)
        kwargs.setdefault("status_forcelist", (429,))
        kwargs.setdefault("allowed_methods", None)
        kwargs.setdefault("respect_retry_after_header", True)
        kwargs.setdefault("raise_on_status", False)
        kwargs.setdefault("backoff_factor", 0.5)
        super().__init__(**kwargs)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Only a 429 that says when: one without Retry-After is the server's failure to
        report, and a check says so."""
        return status_code == 429 and has_retry_after and bool(self.total)

    def get_retry_after(self, response: Any) -> float | None:
        wait = super().get_retry_after(response)
        return None if wait is None else min(wait, MAX_RETRY_AFTER)


def polite(session: requests.Session) -> requests.Session:
    """Mount the 429-aware adapter once (sessions are reused across a run)."""
    if not getattr(session, "_contracts_polite", False):
        adapter = HTTPAdapter(max_retries=PoliteRetry())
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session._contracts_polite = True  # type: ignore[attr-defined]
    return session


@dataclass
class ProbeResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return loads(self.body)
        except ValueError:
            return None


@dataclass
class Target:
    """Where requests go: a base URL (the spec's base path included) and the credentials."""

    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    tokens: TokenSource | None = None  # bearer tokens fetched (and refreshed) by the run
    # the API key as each security scheme carries it, where the run has one key for all
    schemes: dict[str, dict[str, str]] = field(default_factory=dict)
    # told of each request of the run's own, with the headers it sent (the rate-limit ledger)
    observers: list[Callable[[dict[str, str], dict[str, str]], None]] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local, init=False, repr=False)

    def auth_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.tokens is not None:
            headers["Authorization"] = f"Bearer {self.tokens.token()}"
        return headers

    def credentials_for(self, security: list[dict[str, list[str]]]) -> dict[str, str] | None:
        """The headers that carry the key where an operation's security asks for it, when
        the run's own (``headers``) satisfy none of its requirements; None to keep them."""
        sent = {name for name, carried in self.schemes.items()
                if carried.items() <= self.headers.items()}  # fmt: skip
        if not security or not self.schemes or any(set(r) <= sent for r in security):
            return None
        for requirement in security:
            if requirement and all(name in self.schemes for name in requirement):
                return {k: v for name in requirement for k, v in self.schemes[name].items()}
        return None

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> ProbeResponse:
        """``path`` is the spec's path with its parameters filled in (``/items/itm_1``)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = polite(requests.Session())
        headers = {"Accept": "application/json", **self.auth_headers()}
        url = self.base_url.rstrip("/") + path
        answer = session.request(method, url, json=json, params=params, headers=headers, timeout=30)
        received = {k.lower(): v for k, v in answer.headers.items()}
        for observer in self.observers:
            observer(headers, received)
        return ProbeResponse(answer.status_code, received, answer.content)


class LocalServer:
    """A WSGI app on an ephemeral 127.0.0.1 port, in a thread of this process.

    Schemathesis can call a WSGI app directly, but its 4.32 WSGI transport passes
    ``max_redirects`` to werkzeug on the missing-auth probe and fails; a loopback socket
    costs about a millisecond a request and behaves exactly like a deployed server.
    """

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any) -> None:  # the report says what matters
                pass

        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="contracts-target", daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
