"""Names compared by meaning: ``next_page_uri``, ``nextPageUri`` and ``NextPageURI`` are one
name to every rule that reads a spec's field and parameter names.

One function, cached: the rules ask it per field on every list answer (the page facts), and
the regular expression cost about 1.5 µs a call there."""

from __future__ import annotations

import functools
import re

_NOT_WORD = re.compile(r"[^a-z0-9]")


@functools.lru_cache(maxsize=8192)
def norm(name: str) -> str:
    """Lower case, letters and digits only."""
    return _NOT_WORD.sub("", name.lower())


# query parameters that say where in a list a page starts, by meaning (norm)
PAGE_WORDS = frozenset({"page", "pagenumber", "pageno"})
OFFSET_WORDS = frozenset({"offset", "skip", "start"})
AFTER_WORDS = frozenset(
    {"startingafter", "after", "cursor", "pagetoken", "nextcursor", "continuationtoken"}
)


def asks_later_page(query: dict[str, str] | None) -> bool:
    """A request's query asks for a page past the first (``page=2``, ``offset=20``, a
    cursor), by the parameters' meaning."""
    for name, value in (query or {}).items():
        key, text = norm(name), str(value).strip()
        if key in PAGE_WORDS and text not in ("", "0", "1"):
            return True
        if key in OFFSET_WORDS and text not in ("", "0"):
            return True
        if key in AFTER_WORDS and text:
            return True
    return False
