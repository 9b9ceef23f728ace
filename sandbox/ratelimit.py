"""Per-credential rate limits with several windows at once, on the `limits` library.

Every response reports the tightest window in ``X-RateLimit-*`` headers; a request over any
window is refused with the seconds until that window frees a slot.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many, storage, strategies

DEFAULT_LIMITS = "1000/minute;10000/hour"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class RateLimiter:
    """Moving-window limits per identity; ``limits`` does the window arithmetic."""

    def __init__(self, spec: str = DEFAULT_LIMITS, storage_uri: str = "memory://") -> None:
        self.items: list[RateLimitItem] = parse_many(spec) if spec else []
        self._storage = storage.storage_from_string(storage_uri)
        self._limiter = strategies.MovingWindowRateLimiter(self._storage)
        # test-then-hit over several windows must be atomic per process
        self._lock = threading.Lock()

    def hit(self, identity: str) -> Decision | None:
        if not self.items:
            return None
        with self._lock:
            blocked = [item for item in self.items if not self._limiter.test(item, identity)]
            if not blocked:
                for item in self.items:
                    self._limiter.hit(item, identity)
            stats = [(item, self._limiter.get_window_stats(item, identity)) for item in self.items]
        now = time.time()
        if blocked:
            item, window = max(
                ((i, s) for i, s in stats if i in blocked), key=lambda pair: pair[1].reset_time
            )
            wait = max(1, math.ceil(window.reset_time - now))
            return Decision(False, item.amount, 0, math.ceil(window.reset_time), wait)
        item, window = min(stats, key=lambda pair: (pair[1].remaining, pair[1].reset_time))
        return Decision(True, item.amount, window.remaining, math.ceil(window.reset_time), 0)

    def reset(self) -> None:
        with self._lock:
            self._storage.reset()
