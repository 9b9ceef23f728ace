"""The delivery worker: a background thread per process that sends what the outbox holds.

Each attempt is signed when it is sent (a fresh timestamp, so receivers' replay windows hold
for retries too), POSTed without following redirects, and logged whatever happens. 2xx is
delivered; any other status, a timeout or a refused connection is a failed attempt, retried
after an exponential backoff with jitter until the attempts run out.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import urllib3

from sandbox.errors import DestinationRefused, DestinationUnresolved
from sandbox.state.protocols import Attempt, Delivery, Outbox
from sandbox.webhooks.pinned import PinnedPools
from sandbox.webhooks.safety import DestinationPolicy
from sandbox.webhooks.signing import sign

log = logging.getLogger("sandbox.webhooks")

_EXCERPT = 512
_IDLE_POLL = 0.5  # seconds between looks at the outbox when nothing is due here


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff: float = 2.0  # seconds before the first retry; doubles each time
    timeout: float = 10.0

    def delay(self, failed_attempts: int, rng: random.Random) -> float:
        """Exponential, with +/-50% jitter so a receiver that comes back is not stampeded."""
        return self.backoff * 2 ** (failed_attempts - 1) * rng.uniform(0.5, 1.5)


class DeliveryWorker:
    def __init__(
        self, outbox: Outbox, retry: RetryPolicy, policy: DestinationPolicy, *, senders: int = 4
    ) -> None:
        self.outbox = outbox
        self.retry = retry
        self.policy = policy
        self.senders = senders
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pid: int | None = None
        self._start_lock = threading.Lock()
        self._rng = random.Random()
        self._http: PinnedPools | None = None

    def ensure_running(self) -> None:
        """Start this process's worker once (a forked gunicorn worker starts its own)."""
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._stop.clear()
            self._http = PinnedPools(maxsize=self.senders, timeout=self.retry.timeout)
            threading.Thread(
                target=_deliver_while_kept, args=(weakref.ref(self), self.senders),
                name="webhook-delivery", daemon=True,
            ).start()  # fmt: skip

    def wake(self) -> None:
        self.ensure_running()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _turn(self, pool: ThreadPoolExecutor) -> float | None:
        """One turn of the delivery loop: send what is due; then seconds to wait for the
        next turn (``wake`` cuts it short), or None to end."""
        if self._stop.is_set():
            return None
        wait = self._until_due()
        if wait > 0:  # a cheap read; the claim below takes the write lock
            return wait
        try:
            batch = self.outbox.claim(self.senders * 4, self.retry.timeout + 30)
        except Exception:  # the state file is unusable: keep trying, never die
            log.exception("webhook outbox unavailable")
            return _IDLE_POLL
        try:
            list(pool.map(self._deliver, batch))
        except RuntimeError:  # the interpreter is exiting: the leases run out and
            return None  # another process (or the next start) sends what was claimed
        return 0.0

    def _until_due(self) -> float:
        """Seconds to the next due delivery, at most the idle poll (another process may
        queue one meanwhile); 0 when one is due now."""
        try:
            due = self.outbox.next_due()
        except Exception:
            return _IDLE_POLL
        if due is None:
            return _IDLE_POLL
        return min(_IDLE_POLL, max(0.0, due - time.time()))

    def _deliver(self, delivery: Delivery) -> None:
        attempt = self.send(delivery)
        retry_at = None
        if not attempt.succeeded and not attempt.error.startswith("refused by policy"):
            retry_at = time.time() + self.retry.delay(delivery.attempts + 1, self._rng)
        try:
            self.outbox.record(delivery, attempt, retry_at)
        except Exception:  # the lease runs out and the delivery is tried again, logged
            log.exception("cannot record webhook attempt for %s", delivery.id)

    def send(self, delivery: Delivery) -> Attempt:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "openapi-sandbox-webhooks/1",
            **sign(delivery.body, delivery.secrets, scheme=delivery.scheme,
                   message_id=delivery.event_id, timestamp=int(time.time())),
        }  # fmt: skip
        started = time.time()
        clock = time.perf_counter()
        try:
            destination = self.policy.check(delivery.url)
        except DestinationUnresolved as exc:  # DNS may answer later: an ordinary failure
            return Attempt(started, headers, None, "", 0.0, str(exc))
        except DestinationRefused as exc:
            return Attempt(started, headers, None, "", 0.0, f"refused by policy: {exc}")
        assert self._http is not None
        try:
            response = self._http.post(destination, delivery.body, headers)
            excerpt = response.read(_EXCERPT, decode_content=True).decode("utf-8", "replace")
            response.release_conn()
            error = "" if 200 <= response.status < 300 else f"HTTP {response.status}"
            status: int | None = response.status
        except urllib3.exceptions.HTTPError as exc:
            status, excerpt, error = None, "", _describe(exc)
        latency = round((time.perf_counter() - clock) * 1000, 2)
        return Attempt(started, headers, status, excerpt, latency, error)


def _describe(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(exc, urllib3.exceptions.TimeoutError) or isinstance(
        reason, urllib3.exceptions.TimeoutError
    ):
        return f"timeout: {reason}"
    return f"{type(reason).__name__}: {reason}"


def _deliver_while_kept(worker: weakref.ref[DeliveryWorker], senders: int) -> None:
    """A process's delivery thread, which ends when its worker is stopped or gone. It held
    the worker (and so the whole app) for good: every app a test or a contract run made,
    sent an event from, and dropped left this thread and its senders behind, polling a
    state file that was often deleted by then."""
    with ThreadPoolExecutor(senders, thread_name_prefix="webhook-send") as pool:
        while (kept := worker()) is not None:
            wake = kept._wake
            pause = kept._turn(pool)
            del kept  # not held while waiting
            if pause is None:
                return
            if pause > 0:
                wake.wait(pause)
                wake.clear()
