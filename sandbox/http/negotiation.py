"""Which declared media type answers a request, by its ``Accept`` header (RFC 9110 §12.5.1).

Clients send more than bare types: ``application/json; charset=utf-8``,
``application/vnd.example+json; version=1``, ``text/*;q=0.5``, ``*/*;q=0.1``. A media range
covers a declared type when type and subtype match (or are ``*``); parameters the range adds
do not make a type unacceptable unless the declared type names the same parameter with
another value. A range ``application/json`` also covers a structured-suffix type such as
``application/problem+json`` (RFC 6839), less specifically than an exact match. The most
specific range that covers a type gives its quality; ``q=0`` refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.http import parse_list_header, parse_options_header
from werkzeug.wrappers import Request


@dataclass(frozen=True)
class MediaRange:
    """One element of an Accept header."""

    type: str
    subtype: str
    params: dict[str, str]
    quality: float


def negotiate(request: Request, declared: list[str]) -> str | None:
    """The declared media type the client accepts best; the first declared one when it sends
    no Accept (or one that names nothing); None when it accepts none of them (a 406)."""
    header = request.headers.get("Accept")
    if not header:  # before parsing it: most clients send none
        return declared[0]
    if len(header) > _CHOSEN_LONGEST:
        return choose(header, declared)
    key = (header, tuple(declared))
    if key in _CHOSEN:
        return _CHOSEN[key]
    if len(_CHOSEN) >= _CHOSEN_KEPT:
        _CHOSEN.clear()
    chosen = _CHOSEN[key] = choose(header, declared)
    return chosen


# the answer for each (Accept header, declared types) seen lately: clients send the same
# few headers, and parsing and rating one was ~5 µs a request (kept: short headers only)
_CHOSEN: dict[tuple[str, tuple[str, ...]], str | None] = {}
_CHOSEN_KEPT = 1024
_CHOSEN_LONGEST = 512


def choose(header: str, declared: list[str]) -> str | None:
    """``negotiate`` for an Accept header that is there."""
    ranges = parse_accept(header)
    if not ranges:
        return declared[0]
    best: tuple[float, int, int] | None = None
    chosen = None
    for index, media in enumerate(declared):
        quality, specificity = rate(media, ranges)
        rank = (quality, specificity, -index)
        if quality > 0 and (best is None or rank > best):
            best, chosen = rank, media
    return chosen


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed elements are skipped."""
    ranges = []
    for item in parse_list_header(header):
        value, options = parse_options_header(item)
        kind, slash, subtype = value.lower().partition("/")
        if not (slash and kind and subtype) or (kind == "*" and subtype != "*"):
            continue
        params = {name.lower(): str(text).lower() for name, text in options.items()}
        ranges.append(MediaRange(kind, subtype, params, _quality(params.pop("q", "1"))))
    return ranges


def rate(media: str, ranges: list[MediaRange]) -> tuple[float, int]:
    """(quality, specificity) the client gives a declared media type; (0, 0) if no range
    covers it. Specificity: 4 exact with parameters, 3 exact, 2 by suffix, 1 ``type/*``."""
    value, options = parse_options_header(media)
    kind, _, subtype = value.lower().partition("/")
    params = {name.lower(): str(text).lower() for name, text in options.items()}
    if kind == "*" or subtype == "*":  # a declared wildcard answers whatever is accepted
        accepted = [r.quality for r in ranges if r.quality > 0]
        return (max(accepted), 0) if accepted else (0.0, 0)
    suffix = subtype.rpartition("+")[2] if "+" in subtype else None
    best: tuple[int, float] | None = None
    for accept in ranges:
        if any(params.get(name, text) != text for name, text in accept.params.items()):
            continue  # the declared type names this parameter, with another value
        if accept.type == "*":
            specificity = 0
        elif accept.type != kind:
            continue
        elif accept.subtype == "*":
            specificity = 1
        elif accept.subtype == subtype:
            specificity = 4 if accept.params else 3
        elif accept.subtype == suffix:
            specificity = 2
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, accept.quality)
    return (best[1], best[0]) if best is not None else (0.0, 0)


def _quality(text: str) -> float:
    try:
        quality = float(text)
    except ValueError:
        return 1.0
    return min(max(quality, 0.0), 1.0)
