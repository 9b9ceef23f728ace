"""Reproductions that run as pasted: each failure's request as a ``curl`` command whose
credentials are shell variables the report defines once.

Schemathesis masks credentials as ``[Filtered]``, which keeps them out of logs but makes a
pasted command fail. We know which values are the run's credentials (the bearer token, the
API key, each OAuth token fetched), so those, and only those, become ``"$SANDBOX_TOKEN"``;
everything else, a made-up token an auth probe sent included, stays as it was sent.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# headers every HTTP client adds by itself: noise in a reproduction
_CLIENT_HEADERS = {"user-agent", "accept-encoding", "connection", "content-length"}
_MIN_SECRET = 4  # shorter values would be replaced inside ordinary words


@dataclass
class Secrets:
    """Credential values and the variable each stands for."""

    _values: dict[str, str] = field(default_factory=dict)  # value -> variable
    descriptions: dict[str, str] = field(default_factory=dict)  # variable -> where it comes from
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, value: str | None, variable: str, description: str) -> None:
        if not value or len(value) < _MIN_SECRET:
            return
        with self._lock:
            self._values[value] = variable
            self.descriptions.setdefault(variable, description)

    def mask(self, text: str) -> str:
        """``text`` with every credential replaced by ``$VARIABLE`` (for excerpts)."""
        for value, variable in self._ordered():
            text = text.replace(value, f"${variable}")
        return text

    def quote(self, text: str) -> str:
        """A shell word for ``text``: single-quoted pieces, credentials as ``"$VARIABLE"``."""
        pieces: list[str] = []
        rest = text
        while rest:
            hit = min(
                ((rest.find(value), value, variable) for value, variable in self._ordered()
                 if value in rest),
                default=None,
            )  # fmt: skip
            if hit is None:
                pieces.append(_quote_plain(rest))
                break
            index, value, variable = hit
            if index:
                pieces.append(_quote_plain(rest[:index]))
            pieces.append(f'"${variable}"')
            rest = rest[index + len(value) :]
        return "".join(pieces) or "''"

    def _ordered(self) -> list[tuple[str, str]]:
        with self._lock:  # longest first: a token inside a longer header value is found whole
            return sorted(self._values.items(), key=lambda item: -len(item[0]))


def _quote_plain(text: str) -> str:
    if text.isprintable():
        return shlex.quote(text)
    escaped = "".join(
        ch if ch.isprintable() and ch not in "\\'" else f"\\x{ord(ch):02x}" if ord(ch) < 256
        else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}"
        for ch in text
    )  # fmt: skip
    return f"$'{escaped}'"


def curl(
    secrets: Secrets,
    method: str,
    url: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes | str | None,
) -> str:
    """The request as a ``curl`` command a person can paste into a shell."""
    words = ["curl", "-X", method.upper(), secrets.quote(url)]
    items = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in items:
        if name.lower() in _CLIENT_HEADERS or name.lower().startswith("x-schemathesis"):
            continue
        words += ["-H", secrets.quote(f"{name}: {value}")]
    if body:
        words += ["--data-binary", secrets.quote(_text(body))]
    return " ".join(words)


def _text(body: bytes | str) -> str:
    """Bytes that are not UTF-8 as latin-1, so ``$'\\xHH'`` quoting gives back each byte."""
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1")
