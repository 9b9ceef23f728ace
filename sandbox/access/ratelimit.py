"""Per-credential rate limits: plans of several windows enforced at once, on `limits`.

Every window is a sliding window (``limits``' sliding-window counter: the current fixed window
plus the previous one weighted by how much of it still overlaps). A request must fit every
window of its plan; the test and the hit happen atomically (one SQLite transaction when
workers share counters, one Lua script on Redis, a lock otherwise), so a limit of N lets
exactly N through however many threads, processes and machines race. Responses report the
tightest window in ``X-RateLimit-*``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond, parse_many, storage

from sandbox.config.settings import DEFAULT_PLAN
from sandbox.errors import ConfigError


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


# (previous count, seconds the previous window still overlaps, current count, current ttl)
Window = tuple[int, float, int, float]


def _weighted(item: RateLimitItem, previous: int, previous_ttl: float, current: int) -> float:
    """The sliding-window estimate `limits` uses: the previous window, weighted by how much
    of it still overlaps, plus the current one."""
    return previous * previous_ttl / item.get_expiry() + current


def _reset_in(
    item: RateLimitItem, previous: int, previous_ttl: float, current: int, current_ttl: float
) -> float:
    """Seconds until the window frees a slot, the way `limits`' get_window_stats says it."""
    expiry = item.get_expiry()
    previous_in = previous_ttl % (expiry / previous) if previous else math.inf
    current_in = current_ttl % expiry if current else math.inf
    soonest = min(previous_in, current_in)
    return 0.0 if soonest == math.inf else soonest


def _policy(items: list[RateLimitItem]) -> str:
    """Every window of a plan, IETF style: ``100;w=3600, 10;w=1``."""
    return ", ".join(f"{item.amount};w={item.get_expiry()}" for item in items)


@dataclass(frozen=True)
class _Plan:
    """A plan's windows with what every request reads of them, worked out once (asking
    `limits`' items each time, and writing the policy, was ~6 µs a request)."""

    items: list[RateLimitItem]
    expiries: list[int]
    amounts: list[int]
    policy: str

    @classmethod
    def of(cls, items: list[RateLimitItem]) -> _Plan:
        return cls(
            items, [item.get_expiry() for item in items], [item.amount for item in items],
            _policy(items),
        )  # fmt: skip


_KEYS_KEPT = 4096  # identities whose counter keys are kept (then the table starts over)


_HERE = frozenset({"memory", "sandbox+sqlite"})  # counter storages' schemes


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
        if not isinstance(counters, storage.SlidingWindowCounterSupport):
            raise ConfigError(
                f"the {type(counters).__name__} counters have no sliding windows; "
                "use memory, sqlite, redis:// or memcached://"
            )
        # the same object, seen as what it was checked to be: sliding-window counters
        self._storage: storage.SlidingWindowCounterSupport = counters
        self._counters = counters  # the same, as a storage (reset)
        self._lock = threading.Lock()
        self._plans = {name: _Plan.of(items) for name, items in self.plans.items()}
        self._keys: dict[tuple[str, str], list[str]] = {}  # (identity, plan): counter keys
        # a storage that workers share offers one transaction for test-and-take
        self._atomic: Callable[[], AbstractContextManager[None]] | None = getattr(
            counters, "atomic", None
        )
        # a storage shared by machines tests and takes a whole plan in one call
        self._hit_all: Callable[..., tuple[list[int], list[Window]]] | None = getattr(
            counters, "hit_sliding_windows", None
        )

    @property
    def counts_here(self) -> bool:
        """Whether a hit reads and writes counters in this process's memory or in a file
        beside the state (``memory``, the sandbox's SQLite counters), not across a network
        (Redis, Memcached): a hit then waits on nothing but, at most, the file's writers."""
        return set(getattr(self._counters, "STORAGE_SCHEME", ())) <= _HERE

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
        """Count one request against every window of ``plan``; None when it has no windows.

        One read per window decides, one acquire per window counts; the figures for the
        headers come from that read, not from reading every window a third time."""
        chosen = self._plans.get(plan) or self._plans.get(DEFAULT_PLAN)
        if chosen is None or not chosen.items:
            return None
        items, policy = chosen.items, chosen.policy
        keys = self._keys_for(identity, plan, items)
        if self._hit_all is not None:  # one script (Redis), one statement (SQLite) decides
            blocked, windows = self._hit_all(keys, chosen.expiries, chosen.amounts)
        else:
            with self._lock:  # as _exclusive, without two generator context managers
                if self._atomic is None:
                    blocked, windows = self._test_and_take(keys, chosen)
                else:
                    with self._atomic():
                        blocked, windows = self._test_and_take(keys, chosen)
        now = time.time()
        if blocked:
            # wait for the window that frees last: earlier ones would only refuse again
            index = max(blocked, key=lambda i: _reset_in(items[i], *windows[i]))
            item = items[index]
            wait = max(1, math.ceil(_reset_in(item, *windows[index])))
            return Decision(
                False, item.amount, 0, math.ceil(now + wait), wait, item.get_expiry(), policy
            )
        stats = []
        for item, (previous, previous_ttl, current, current_ttl) in zip(
            items, windows, strict=True
        ):
            counted = (previous, previous_ttl, current + 1, current_ttl)  # this request too
            remaining = max(0, item.amount - math.floor(_weighted(item, *counted[:3])))
            stats.append((remaining, _reset_in(item, *counted), item))
        remaining, reset_in, item = min(stats, key=lambda entry: entry[:2])
        reset = math.ceil(now + reset_in)
        return Decision(True, item.amount, remaining, reset, 0, item.get_expiry(), policy)

    def _keys_for(self, identity: str, plan: str, items: list[RateLimitItem]) -> list[str]:
        """The counter keys of ``identity``'s windows (``limits`` builds each from its parts,
        ~2 µs a window): kept for the last few thousand identities."""
        kept = self._keys.get((identity, plan))
        if kept is None:
            if len(self._keys) >= _KEYS_KEPT:
                self._keys.clear()
            kept = self._keys[(identity, plan)] = [item.key_for(identity) for item in items]
        return kept

    def _test_and_take(self, keys: list[str], plan: _Plan) -> tuple[list[int], list[Window]]:
        """Read every window; count the request in each when none is full (inside the lock
        and the storage's transaction). The indexes of the full windows, and the windows."""
        items = plan.items
        windows = self._read(keys, items, plan.expiries)
        blocked = [
            index
            for index, (item, window) in enumerate(zip(items, windows, strict=True))
            if _weighted(item, *window[:3]) >= item.amount
        ]
        if not blocked:
            self._take(keys, items, plan.expiries)
        return blocked, windows

    def _windows(self, plan: str) -> list[RateLimitItem]:
        return self.plans.get(plan, self.plans.get(DEFAULT_PLAN, []))

    def peek(self, identity: str, plan: str = DEFAULT_PLAN) -> Decision | None:
        """The tightest window's figures without counting a request (for the dashboard's
        usage view and the rate_limited scenario)."""
        items = self._windows(plan)
        if not items:
            return None
        with self._exclusive():
            windows = self._read([item.key_for(identity) for item in items], items)
        now = time.time()
        policy = _policy(items)
        stats = [
            (max(0, item.amount - math.floor(_weighted(item, *window[:3]))),
             _reset_in(item, *window), item)
            for item, window in zip(items, windows, strict=True)
        ]  # fmt: skip
        remaining, reset_in, item = min(stats, key=lambda entry: entry[:2])
        return Decision(
            remaining > 0, item.amount, remaining, math.ceil(now + (reset_in or item.get_expiry())),
            0, item.get_expiry(), policy,
        )  # fmt: skip

    def _read(
        self, keys: list[str], items: list[RateLimitItem], expiries: list[int] | None = None
    ) -> list[Window]:
        if expiries is None:
            expiries = [item.get_expiry() for item in items]
        read_all = getattr(self._storage, "get_sliding_windows", None)
        if read_all is not None:  # one query for every window (the shared SQLite counters)
            return read_all(keys, expiries)
        return [self._storage.get_sliding_window(k, e) for k, e in zip(keys, expiries, strict=True)]

    def _take(self, keys: list[str], items: list[RateLimitItem], expiries: list[int]) -> None:
        take_all = getattr(self._storage, "take_sliding_windows", None)
        if take_all is not None:  # already tested inside this transaction: just count
            take_all(keys, expiries)
            return
        for key, item in zip(keys, items, strict=True):
            self._storage.acquire_sliding_window_entry(key, item.amount, item.get_expiry(), 1)

    def reset(self) -> None:
        with self._exclusive():
            self._counters.reset()
