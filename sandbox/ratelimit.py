"""Per-credential rate limits: plans of several windows enforced at once, on `limits`.

Every window is a sliding window (``limits``' sliding-window counter: the current fixed window
plus the previous one weighted by how much of it still overlaps). A request must fit every
window of its plan; the test and the hit happen atomically (one SQLite transaction when
workers share counters, a lock otherwise), so a limit of N lets exactly N through however
many threads and processes race. Responses report the tightest window in ``X-RateLimit-*``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond, parse_many, storage, strategies

from sandbox.errors import ConfigError

DEFAULT_LIMITS = "1000/minute;10000/hour"
DEFAULT_PLAN = "default"
# the seed guides' plans: a volume per hour and a burst per second; enterprise is unlimited
PLANS: dict[str, str] = {
    "free": "100/hour;10/second",
    "starter": "1000/hour;50/second",
    "pro": "10000/hour;200/second",
    "enterprise": "",
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds
    retry_after: int
    window: int  # seconds
    policy: str  # every window of the plan, IETF style: "100;w=3600, 10;w=1"

    def headers(self, ietf: bool = False) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if ietf:
            seconds = max(0, self.reset - math.floor(time.time()))
            headers["RateLimit"] = (
                f"limit={self.limit}, remaining={self.remaining}, reset={seconds}"
            )
            headers["RateLimit-Policy"] = self.policy
        return headers


def parse_limits(
    text: str, scale: float = 1.0, *, where: str = "rate_limits"
) -> list[RateLimitItem]:
    """``100/hour;10/second`` as `limits` items; ``scale`` shortens every window (60 turns an
    hour into a minute) so demos and tests can reach an hourly limit quickly."""
    if not text or not text.strip():
        return []
    try:
        items = parse_many(text)
    except ValueError:
        raise ConfigError(
            f"{where}: cannot read {text!r}; write windows like '100/hour;10/second'"
        ) from None
    if scale == 1:
        return items
    return [
        RateLimitItemPerSecond(item.amount, max(1, round(item.get_expiry() / scale)))
        for item in items
    ]


class RateLimiter:
    def __init__(
        self,
        plans: Mapping[str, str],
        counters: storage.Storage,
        *,
        scale: float = 1.0,
    ) -> None:
        self.plans = {
            name: parse_limits(spec, scale, where=f"plan {name!r}") for name, spec in plans.items()
        }
        self._storage = counters
        self._limiter = strategies.SlidingWindowCounterRateLimiter(counters)
        self._lock = threading.Lock()
        # a storage that workers share offers one transaction for test-and-take
        self._atomic: Callable[[], AbstractContextManager[None]] | None = getattr(
            counters, "atomic", None
        )

    def knows(self, plan: str) -> bool:
        return plan in self.plans

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._lock:
            if self._atomic is None:
                yield
                return
            with self._atomic():
                yield

    def hit(self, identity: str, plan: str = DEFAULT_PLAN) -> Decision | None:
        """Count one request against every window of ``plan``; None when it has no windows."""
        items = self.plans.get(plan, self.plans.get(DEFAULT_PLAN, []))
        if not items:
            return None
        with self._exclusive():
            blocked = [item for item in items if not self._limiter.test(item, identity)]
            if not blocked:
                for item in items:
                    self._limiter.hit(item, identity)
            stats = [(item, self._limiter.get_window_stats(item, identity)) for item in items]
        policy = ", ".join(f"{item.amount};w={item.get_expiry()}" for item in items)
        now = time.time()
        if blocked:
            # wait for the window that frees last: earlier ones would only refuse again
            item, window = max(
                ((i, s) for i, s in stats if i in blocked), key=lambda pair: pair[1].reset_time
            )
            wait = max(1, math.ceil(window.reset_time - now))
            return Decision(
                False, item.amount, 0, math.ceil(now + wait), wait, item.get_expiry(), policy
            )
        item, window = min(stats, key=lambda pair: (pair[1].remaining, pair[1].reset_time))
        reset = math.ceil(max(window.reset_time, now))
        return Decision(True, item.amount, window.remaining, reset, 0, item.get_expiry(), policy)

    def reset(self) -> None:
        with self._exclusive():
            self._storage.reset()
