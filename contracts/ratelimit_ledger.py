"""What the run itself knows about rate limits: how to read each Reset header, and how many
requests it sent in each window.

A Reset value is either a Unix time or seconds from now, and a number alone cannot say
which (``67058474`` is 776 days as a delay, February 1972 as a time). The spec's own words
about the header decide (``epoch``, ``Unix``, ``timestamp``; ``seconds until``, ``delta``),
then the header's name (the IETF ``RateLimit-Reset`` is a delay), then the size of the first
value seen; the choice is made once per header and named in every message about it.

A server's ``Remaining`` cannot be above ``Limit`` minus the requests this run has already
sent in the same window with the same credentials: the ledger counts them.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts.facts import ContractFacts

EPOCH_WORDS = re.compile(r"epoch|unix|timestamp|utc time|point in time|\bdate\b", re.I)
DELAY_WORDS = re.compile(
    r"seconds? (until|before|left|remaining|to wait)|number of seconds|delta|"
    r"remaining (time|seconds)|time until|in seconds until",
    re.I,
)
SPELLINGS = (("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"),
             ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"))  # fmt: skip
CREDENTIAL_HEADERS = ("authorization", "x-api-key", "api-key", "apikey", "cookie")
EPOCH_FLOOR = 1_000_000_000  # 2001-09-09: smaller first values are read as delays


@dataclass(frozen=True)
class Reading:
    """How one Reset header is read, and why."""

    epoch: bool
    reason: str

    def describe(self) -> str:
        kind = "a Unix time" if self.epoch else "seconds from now"
        return f"read as {kind}: {self.reason}"

    def seconds_from_now(self, value: float, now: float) -> float:
        return value - now if self.epoch else value


@dataclass
class _Window:
    """One window of one credential's limit, as this run saw it."""

    seen: int = 0
    lowest: float = math.inf
    split: bool = False  # Remaining went back up: the server keeps several counters
    per_operation: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Count:
    """How many answers of the server's counter this run has seen, and which counter."""

    answers: int
    scope: str  # "" for the whole window, or why it is this operation's alone


@dataclass
class RateLimitLedger:
    facts: ContractFacts
    slack: int = 0  # requests that may be in flight at once (workers - 1)
    _readings: dict[str, Reading] = field(default_factory=dict)
    _windows: dict[tuple[str, str, int], _Window] = field(default_factory=dict)
    # id(request) -> (the request, kept so its id is not reused; its position in the window)
    _counted: dict[int, tuple[object, Count]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reading(self, header: str, first_value: float) -> Reading:
        with self._lock:
            found = self._readings.get(header.lower())
            if found is None:
                found = self._readings[header.lower()] = self._decide(header, first_value)
            return found

    def _decide(self, header: str, value: float) -> Reading:
        for description in self.facts.header_descriptions(header):
            if DELAY_WORDS.search(description):
                return Reading(False, f"the spec describes {header} as {description[:80]!r}")
            if EPOCH_WORDS.search(description):
                return Reading(True, f"the spec describes {header} as {description[:80]!r}")
        if header.lower() == "ratelimit-reset":
            return Reading(False, "RateLimit-Reset is a delay in seconds (IETF RateLimit fields)")
        if value >= EPOCH_FLOOR:
            return Reading(True, f"the spec does not say; the first value seen ({value:.0f}) is "
                           "a plausible Unix time")  # fmt: skip
        return Reading(False, f"the spec does not say; the first value seen ({value:.0f}) is "
                       "too small for a Unix time")  # fmt: skip

    def observe(self, sent: Mapping[str, str], received: Mapping[str, str]) -> None:
        """Count a request of the run's own (a read-back, a page walk): the server counts
        it too. It is not judged, and counts in the whole window only."""
        for names in SPELLINGS:
            limit, remaining, reset = (number(received.get(name)) for name in names)
            if limit is None or remaining is None or reset is None:
                continue
            reading = self.reading(title(names[2]), reset)
            now = time.time()
            reset_at = now + reading.seconds_from_now(reset, now)
            self.count(object(), credential(sent), limit, reset_at, None, remaining)
            return

    def count(self, request: object, credential: str, limit: float, reset_at: float,
              operation: str | None, remaining: float) -> Count:  # fmt: skip
        # ``reset_at`` is the Reset itself for a Unix time, now + the delay for a delay: read a
        # moment apart, a delay may name the same window end a second off, which only splits
        # the count (too few, never too many)
        """How many answers this run has seen in the window, this one included (a check run
        twice on one request counts it once). The window is named by the credential, the
        limit and when it resets; once a Remaining is above one seen before in it, the
        server evidently counts some operations apart (a health check's own limit), and
        only this operation's answers are counted."""
        key = (credential, f"{limit:g}", round(reset_at))
        with self._lock:
            known = self._counted.get(id(request))
            if known is not None and known[0] is request:
                return known[1]
            window = self._windows.setdefault(key, _Window())
            if remaining > window.lowest + self.slack:
                window.split = True
            window.lowest = min(window.lowest, remaining)
            window.seen += 1
            if operation is None:
                return Count(window.seen, "")
            window.per_operation[operation] += 1
            found = (
                Count(window.per_operation[operation], "this operation's own: the server's "
                      "Remaining shows it counts some operations apart")
                if window.split else Count(window.seen, "")
            )  # fmt: skip
            self._counted[id(request)] = (request, found)
            if len(self._counted) > 10_000:
                self._counted.pop(next(iter(self._counted)))
            return found


def credential(headers: Mapping[str, str]) -> str:
    """A window's owner as the server sees it: the credentials the request carried."""
    lowered = {key.lower(): value for key, value in headers.items()}
    found = [f"{name}={lowered[name]}" for name in CREDENTIAL_HEADERS if name in lowered]
    return "&".join(found) or "anonymous"


def title(name: str) -> str:
    """``X-RateLimit-Reset`` for ``x-ratelimit-reset``."""
    return "-".join("RateLimit" if part == "ratelimit" else part.capitalize()
                    for part in name.split("-"))  # fmt: skip


def number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.strip())
    except ValueError:
        return None
