"""The request journal: the last N requests the sandbox answered, for the admin API and the
dashboard.

Each entry holds the request, the response, the matched operation, validation problems, the
scenario applied and the latency. Entries are written behind the request (a thread flushes
them in batches, once a second, as often as the dashboard polls) so the journal costs the hot
path an append, not a transaction; every worker writes to the same store (the state file, or
Redis), so the journal shows all of them. A worker keeps at most the journal's size of them
waiting: the store keeps only that many newest, so an older one would be written only to be
written over (under load that was most of what the journal cost: a list page's entry took the
writer about 50 µs). Credentials are shortened.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from sandbox.errors import StorageError
from sandbox.state.protocols import JournalFilter, JournalStore, status_range

log = logging.getLogger("sandbox.observe.journal")

EXCERPT_CHARS = 4096
EXCERPT_BYTES = EXCERPT_CHARS * 4  # all an excerpt can need: 4 bytes a character at most
_FLUSH_EVERY = 1.0  # seconds: the dashboard polls once a second
Entry = dict[str, Any] | Callable[[], dict[str, Any]]  # an entry, or how to make it
_SECRET_HEADERS = {"authorization", "cookie", "x-api-key", "api-key", "proxy-authorization"}


def shorten_secret(value: str) -> str:
    """Enough to tell credentials apart, not enough to use one."""
    scheme, _, token = value.partition(" ")
    if not token:
        scheme, token = "", scheme
    shown = token[:12] + "…" if len(token) > 16 else token[:4] + "…"
    return f"{scheme} {shown}".strip()


def excerpt(body: bytes) -> str:
    text = body[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


def safe_headers(headers: Any) -> dict[str, str]:
    return {
        name: shorten_secret(value) if name.lower() in _SECRET_HEADERS else value
        for name, value in headers.items()
    }


# environ key -> (header name, or None for none; a credential's; one of the CONTENT_ keys)
_ENVIRON_NAMES: dict[str, tuple[str | None, bool, bool]] = {}
_CONTENT_KEYS = ("CONTENT_TYPE", "CONTENT_LENGTH")


def environ_headers(environ: dict[str, Any]) -> dict[str, str]:
    """``safe_headers(EnvironHeaders(environ))``, each environ key's header name worked out
    once (werkzeug titles every name anew: 5.7 of the 13 µs a create's entry cost to make):
    ``HTTP_*`` but its two content keys, ``CONTENT_TYPE`` and ``CONTENT_LENGTH`` where not
    empty, in the environ's order, credentials shortened."""
    out: dict[str, str] = {}
    for key, value in environ.items():
        known = _ENVIRON_NAMES.get(key)
        if known is None:
            known = _environ_name(key)
            if len(_ENVIRON_NAMES) < 1024:  # the keys come from clients
                _ENVIRON_NAMES[key] = known
        name, secret, content = known
        if name is None or (content and not value):
            continue
        out[name] = shorten_secret(value) if secret else value
    return out


def _environ_name(key: str) -> tuple[str | None, bool, bool]:
    if key.startswith("HTTP_") and key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
        name = key[5:].replace("_", "-").title()
    elif key in _CONTENT_KEYS:
        name = key.replace("_", "-").title()
    else:
        return None, False, False
    return name, name.lower() in _SECRET_HEADERS, key in _CONTENT_KEYS


class Journal:
    """The in-process side: entries wait in a buffer for a flushing thread, which hands them
    to the store in batches (one transaction per batch, not per request)."""

    def __init__(self, store: JournalStore, capacity: int = 1000) -> None:
        self.store = store
        self.capacity = capacity
        self._pending: deque[Entry] = deque(maxlen=max(1, capacity))
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pid: int | None = None

    def record(self, entry: Entry) -> None:
        """Keep an entry for the next flush; given as a function, it is made then, and only
        if it is still among the newest ``capacity`` (a list page's is 10 µs to make)."""
        if self.capacity <= 0:
            return
        with self._lock:
            self._pending.append(entry)
        if self._pid != os.getpid():
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()  # a forked worker flushes its own entries
        threading.Thread(
            target=_flush_while_kept, args=(weakref.ref(self), self._wake),
            name="sandbox-journal", daemon=True,
        ).start()  # fmt: skip

    def flush(self) -> None:
        with self._lock:
            waiting = list(self._pending)
            self._pending.clear()
        entries = [made for made in map(_made, waiting) if made is not None]
        if not entries:
            return
        try:
            self.store.append(entries, self.capacity)
        except StorageError as exc:  # the journal is a view of traffic: say so and go on
            log.warning("%d journal entries not kept: %s", len(entries), exc)

    def entries(self, query: JournalFilter) -> list[dict[str, Any]]:
        """Newest first."""
        self.flush()
        return self.store.read(query, max(1, min(query.limit, self.capacity)))

    def reset(self) -> None:
        with self._lock:
            self._pending.clear()
        self.store.clear()


def _flush_while_kept(journal: weakref.ref[Journal], wake: threading.Event) -> None:
    """A journal's flushing thread, which ends once the journal is gone. It held the journal
    (and so the whole app) for good: every app a test, a contract run or ``contract_suite``
    made and dropped left a thread behind, waking each second to write to a state file that
    was often deleted by then (a warning each time)."""
    while True:
        wake.wait(_FLUSH_EVERY)
        wake.clear()
        kept = journal()
        if kept is None:
            return
        kept.flush()
        del kept  # not held while waiting


def _made(entry: Entry) -> dict[str, Any] | None:
    if not callable(entry):
        return entry
    try:
        return entry()
    except Exception:  # the flushing thread goes on; the request was answered long ago
        log.exception("a journal entry could not be made")
        return None


def journal_entry(**fields: Any) -> dict[str, Any]:
    return {"at": round(time.time(), 3), **fields}


__all__ = ["Journal", "JournalFilter", "journal_entry", "status_range"]
