"""``rate_limit_headers``: Limit, Remaining and Reset make sense together and with what the
run itself sent; every 429 says when to come back.

Both the ``X-RateLimit-*`` and the IETF ``RateLimit-*`` spellings are read. How a Reset is
read (a Unix time or a delay) is decided once per header by the ledger and named in the
message; how many requests this run sent in a window, with the same credentials, bounds
what ``Remaining`` may say.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from contracts.checks._base import Seen, contract_check
from contracts.facts import label_of
from contracts.ratelimit_ledger import SPELLINGS, credential, number, title

ABSURD_RESET = 366 * 24 * 3600  # seconds: a reset further away than a year is nonsense
PAST_TOLERANCE = 2.0  # seconds of clock skew and rounding


@contract_check
def rate_limit_headers(seen: Seen) -> bool | None:
    """Limit, Remaining and Reset make sense together; every 429 says when to come back."""
    if seen.status == 429:
        wait = seen.header("retry-after")
        if wait is None or _retry_after_seconds(wait) is None:
            seen.fail("429 without a usable Retry-After",
                      f"A client cannot know when to retry: Retry-After is {wait!r}.")  # fmt: skip
    for names in SPELLINGS:
        texts = [seen.header(name) for name in names]
        if any(text is not None for text in texts):
            _judge(seen, names, texts)
            return True
    return None


def _judge(seen: Seen, names: tuple[str, ...], texts: list[str | None]) -> None:
    declared = seen.run.facts.declared_headers(seen.operation, seen.status)
    missing = [title(n) for n, text in zip(names, texts, strict=True)
               if text is None and n in declared]  # fmt: skip
    if missing:
        seen.fail("Rate-limit headers incomplete", f"Declared but missing: {', '.join(missing)}.")
    limit, remaining, reset = (number(text) for text in texts)
    _, remaining_name, reset_name = (title(n) for n in names)
    if remaining is not None and remaining < 0:
        seen.fail(f"{remaining_name} is negative", f"Remaining is {texts[1]}.")
    if remaining is not None and limit is not None and remaining > limit:
        seen.fail(f"{remaining_name} is above the limit",
                  f"Remaining {texts[1]} > Limit {texts[0]}.")  # fmt: skip
    if reset is None:
        return
    now = time.time()
    reading = seen.run.ledger.reading(reset_name, reset)
    seconds = reading.seconds_from_now(reset, now)
    shown = _when(reset) if reading.epoch else f"{reset:g} s"
    if seconds < -PAST_TOLERANCE:
        seen.fail(f"{reset_name} is in the past",
                  f"Reset {texts[2]} ({shown}, {reading.describe()}) was {_span(-seconds)} "
                  "ago.")  # fmt: skip
    if seconds > ABSURD_RESET:
        seen.fail(f"{reset_name} is absurdly far away",
                  f"Reset {texts[2]} ({shown}, {reading.describe()}) is {_span(seconds)} "
                  "away.")  # fmt: skip
    if limit is not None and remaining is not None:
        _within_what_was_sent(seen, limit, remaining, now + seconds, texts, remaining_name)


def _within_what_was_sent(
    seen: Seen, limit: float, remaining: float, reset_at: float, texts: list[str | None],
    remaining_name: str,
) -> None:  # fmt: skip
    """This run's own requests in the window are spent: Remaining cannot be above what is
    left of the limit after them (less those that may have been in flight at once)."""
    ledger = seen.run.ledger
    request = seen.response.request
    sent = ledger.count(request, credential(dict(request.headers)), limit, reset_at,
                        label_of(seen.operation), remaining)  # fmt: skip
    allowed = max(limit - sent.answers, 0) + ledger.slack
    if remaining > allowed:
        counted = f" (counting {sent.scope})" if sent.scope else ""
        seen.fail(f"{remaining_name} ignores requests already made",
                  f"This run has had {sent.answers} answer(s) with these credentials in the "
                  f"window ending at Reset {texts[2]}{counted}, limit {texts[0]}: at most "
                  f"{allowed:g} can remain; the server says {texts[1]}.")  # fmt: skip


def _when(epoch: float) -> str:
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "beyond any calendar"


def _span(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 7200:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds:.0f} s"


def _retry_after_seconds(text: str) -> float | None:
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return float(text)
    try:
        when: datetime = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()
