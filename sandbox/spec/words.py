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
