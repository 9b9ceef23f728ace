"""What each piece of sandbox state must do, whichever backend keeps it; and the values kept.

A backend (``sandbox.state.sqlite``, ``sandbox.state.redis``) implements every protocol
here, one module per protocol with the same file names in each backend, and ``Backend``
hands them out. Domain classes (``KeyRing``, ``Journal``, ``ScenarioBoard``, ...) take one of
these objects and keep the rules; the stores keep the data. Each method's docstring says
what must be atomic: that is the part a new backend must get right, since several threads,
worker processes and machines call it at once. ``tests/test_state_backends.py`` runs the
same contract over both backends.

Every method may raise ``StorageError`` when the state cannot be read or written.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from limits.storage import Storage

# -- records (the resource store) ------------------------------------------------------------
# between the ids of a parent's line (``RecordStore.reline``): a unit separator, which no
# id a path or a client gives holds in practice (ids are names, numbers, slugs, uuids)
PARENT_LINE = "\x1f"
# ends a line's scope (``RecordStore``): a record separator, for the same reason
SCOPE_END = "\x1e"


def unscoped(parent: str) -> str | None:
    """The line ``parent`` is without its scope (what seeds and older releases wrote there),
    or None where it has no scope: ``a\x1fb\x1e5`` is ``5``, ``a\x1fb\x1e`` is ""."""
    if SCOPE_END not in parent:
        return None
    return parent.partition(SCOPE_END)[2]


@dataclass
class Record:
    id: str
    body: dict[str, Any]
    parent: str = ""  # what the id is unique within ("" the top); see RecordStore
    unique: dict[str, str] = field(default_factory=dict)


@dataclass
class ListQuery:
    parent: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    offset: int = 0
    limit: int = 20
    after_id: str | None = None


class RecordStore(Protocol):
    """Records of JSON objects, partitioned by tenant and resource.

    A record is named by its id within its parent (``Record.parent``, "" for a record with
    none): one id under two parents is two records, each read, replaced, listed and deleted
    by its own (parent, id), as an API whose ids are unique only within their parent (a
    label ``bug`` in two repositories) keeps them. A unique value (``Record.unique``) is
    unique across the resource, whatever the parent: nothing in a spec says otherwise.

    A parent line may begin with a scope: the values of the path parameters above a
    collection that no parent record stands for (``/repos/{owner}/{repo}/labels``: owner and
    repo), each followed by ``PARENT_LINE`` but the last, by ``SCOPE_END``, and then the
    ids of its parent records, if any. Under a scoped line, the store also keeps the records
    of the same line without its scope (``unscoped``: the seeds, made once per tenant with
    no scope, and what a release before scopes wrote) in view: ``get`` reads one of them
    where the line has no record of that id, ``query`` pages through both in insertion
    order, ``replace`` and ``delete`` act on one of them where the line has no record of
    that id (so for every scope at once), and ``insert`` refuses an id one of them holds
    (``Conflict``), so one id is never two records in view. A record written under a scoped
    line is seen under that line only. (A record written with no scope, by an operation
    whose path lacks the scope's values, whose id a scope has already: that scope lists
    both and reads its own by id.)"""

    # whether ``version`` costs no round trip (a shared memory map, not a server): a reader
    # may then ask it on every request to keep whole answers
    versions_are_local: bool

    def ensure_seeded(
        self, tenant: str, seed: Callable[[], dict[str, list[Record]]], scope: str = ""
    ) -> None:
        """Create a tenant's seed records for ``scope`` (a family of resources; "" for all)
        the first time the tenant asks for that scope, exactly once across processes."""

    def get(self, tenant: str, resource: str, record_id: str, parent: str = "") -> dict | None:
        """The body of the record with that id under that parent, or None."""

    def insert(self, tenant: str, resource: str, records: list[Record]) -> None:
        """Insert all records or none (atomic); ``Conflict`` when a unique value is taken,
        or an id under the record's parent."""

    def replace(self, tenant: str, resource: str, record: Record) -> bool:
        """Replace the body and unique values of the record with ``record``'s id under its
        parent (atomic); False when absent."""

    def delete(self, tenant: str, resource: str, record_id: str, parent: str = "") -> bool:
        """Remove the record with that id under that parent and its unique values; False
        when absent."""

    def query(self, tenant: str, resource: str, query: ListQuery) -> tuple[list[dict], int, int]:
        """One page of records in order, the total that match the filters, and the offset of
        the page's first record (``after_id`` is resolved to one)."""

    def reset(self) -> None:
        """Forget every record: tenants are seeded again on their next request."""

    def reline(self, nested: list[tuple[str, str]]) -> None:
        """Records an older release wrote three levels deep or more, whose parent was the
        id of their parent record alone, moved under that record's whole line (its own
        parent and its id, ``sandbox.resources.records.parent_line``): for each (resource,
        its parent resource) of ``nested``, top down. Ids were unique in a resource then,
        so the id names one parent record. Once, in a store such a release wrote (then
        marked done); anywhere else one read."""

    def version(self, resource: str) -> int | None:
        """A number that moves whenever any process writes a record of ``resource`` (and on
        reset), cheaper to read than the records, so a reader of rarely changed records can
        keep a copy: a memory map beside the SQLite file (no query), one HMGET on Redis
        (``versions_are_local`` says which); None where the store has no such counter."""


# -- API keys made at runtime ----------------------------------------------------------------
@dataclass(frozen=True)
class ApiKey:
    key: str
    plan: str
    label: str = ""
    created_at: int | None = None
    source: str = "created"  # or "settings"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class KeyStore(Protocol):
    def plan_of(self, key: str) -> str | None:
        """The created key's plan, or None."""

    def add(self, key: ApiKey) -> None: ...

    def remove(self, key: str) -> bool:
        """False when there was no such created key."""

    def all(self) -> list[ApiKey]:
        """Created keys, oldest first."""


# -- the request journal ---------------------------------------------------------------------
@dataclass(frozen=True)
class JournalFilter:
    operation: str | None = None
    method: str | None = None
    status: str | None = None  # "429" or a class: "4xx"
    key: str | None = None
    path: str | None = None  # a substring
    scenario: str | None = None
    problems: bool | None = None
    since: int | None = None  # entries after this id (for live polling)
    limit: int = 50

    def status_range(self) -> tuple[int, int] | None:
        return status_range(self.status) if self.status else None


def status_range(text: str) -> tuple[int, int]:
    """``429`` or ``4xx``; ValueError names the forms it takes."""
    text = text.strip().lower()
    if len(text) == 3 and text[0] in "12345" and text[1:] == "xx":
        return int(text[0]) * 100, int(text[0]) * 100 + 99
    if text.isascii() and text.isdigit() and 100 <= int(text) <= 599:
        return int(text), int(text)
    raise ValueError(f"status must be a code like 429 or a class like 4xx, not {text!r}")


class JournalStore(Protocol):
    def append(self, entries: list[dict[str, Any]], capacity: int) -> None:
        """Keep the entries and only the newest ``capacity`` overall (atomic: ids number
        entries in one order across processes, which ``since`` polls by)."""

    def read(self, query: JournalFilter, limit: int) -> list[dict[str, Any]]:
        """Entries that pass the filter, newest first, each with its ``id``."""

    def clear(self) -> None: ...


# -- idempotency keys ------------------------------------------------------------------------
@dataclass(frozen=True)
class Kept:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Claim:
    """What a request with a key may do: run (``kept is None and conflict is None``), replay
    ``kept``, or answer 409 with ``conflict`` ("reused" or "in_progress")."""

    kept: Kept | None = None
    conflict: str | None = None


class IdempotencyStore(Protocol):
    def claim(
        self, tenant: str, key: str, fingerprint: str, *, keep_for: float, abandoned_after: float
    ) -> Claim:
        """Atomically: a kept answer to replay, a conflict, or the right to run (the claim
        is then recorded, so a second request with the key sees it in progress). Records
        older than ``keep_for`` seconds are forgotten; a claim older than
        ``abandoned_after`` seconds died with its worker and may be taken over."""

    def keep(self, tenant: str, key: str, kept: Kept) -> None:
        """The answer to replay, while the claim still stands."""

    def forget(self, tenant: str, key: str) -> None: ...

    def clear(self) -> None: ...


# -- scenarios switched on from outside ------------------------------------------------------
@dataclass(frozen=True)
class StoredScenario:
    id: str
    name: str
    params: dict[str, str]
    key: str | None
    operation: str | None  # an operationId, or "METHOD /path/{template}"
    remaining: int | None  # None: until cleared
    created_at: float


@dataclass(frozen=True)
class ScenarioSnapshot:
    """What every request reads, in one round trip: the active scenarios and chaos."""

    active: list[StoredScenario]
    chaos: str | None  # the runtime chaos setting as JSON; None: the settings' own


class ScenarioStore(Protocol):
    def add(self, scenario: StoredScenario) -> None: ...

    def snapshot(self) -> ScenarioSnapshot:
        """Active scenarios (uses left, or until cleared), oldest first, and chaos."""

    def use(self, scenario_id: str) -> bool:
        """Count one use of a counted scenario, atomically; False when none is left (another
        worker took the last). A scenario with no uses left is gone."""

    def remove(self, scenario_id: str | None) -> int:
        """Remove one scenario, or all of them (None); how many were removed."""

    def set_chaos(self, value: str | None) -> None:
        """The runtime chaos setting as JSON; None goes back to the settings' own."""

    def flaky_attempt(self, identity: str, fails: int) -> bool:
        """Atomically: whether this attempt fails. The first ``fails`` attempts do, the next
        succeeds and starts the count again."""

    def clear(self) -> None:
        """Scenarios, chaos and flaky counts, all gone."""


# -- OAuth grants and the signing key --------------------------------------------------------
@dataclass(frozen=True)
class Grant:
    token: str
    kind: str  # "code" or "refresh"
    client_id: str
    subject: str
    scope: str
    redirect_uri: str | None
    challenge: str | None
    challenge_method: str | None
    family: str


class GrantStore(Protocol):
    def add(self, grant: Grant, ttl: float) -> None:
        """Keep the grant for ``ttl`` seconds, and remember it in its family."""

    def redeem(self, token: str, kind: str, client_id: str) -> Grant:
        """Atomically use a code or refresh token once. ``GrantRejected`` says why not: it
        is unknown, another client's, expired, or used already, and then every grant of its
        family is revoked in the same step (a replay means one copy was stolen)."""


class SigningKeyStore(Protocol):
    def load_or_create(self, algorithm: str, make: Callable[[], bytes]) -> tuple[str, bytes]:
        """The key for the algorithm (kid, private PEM), made once with ``make`` by whichever
        process asks first, so every worker and machine signs with the same one."""


# -- webhook subscriptions and the outbox ----------------------------------------------------
@dataclass(frozen=True)
class Subscription:
    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    scheme: str | None = None  # None: the sandbox-wide webhook_signing
    active: bool = True
    previous_secret: str | None = None
    previous_until: float = 0.0
    created_at: float = 0.0
    source: str = "admin"  # or "api": made through the spec's own endpoint

    def wants(self, event_type: str) -> bool:
        return self.active and any(fnmatch.fnmatchcase(event_type, p) for p in self.events)

    def signing_secrets(self, now: float) -> list[str]:
        """The current secret, and during a rotation's grace period the previous one too."""
        if self.previous_secret and now < self.previous_until:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def as_dict(self, *, reveal_secret: bool = False) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "id": self.id, "url": self.url, "events": list(self.events), "active": self.active,
            "scheme": self.scheme, "created_at": self.created_at, "source": self.source,
        }  # fmt: skip
        if reveal_secret:
            shown["secret"] = self.secret
        if self.previous_secret and time.time() < self.previous_until:
            shown["previous_secret_valid_until"] = self.previous_until
        return shown


class SubscriptionStore(Protocol):
    def add(self, subscription: Subscription) -> None: ...

    def all(self) -> list[Subscription]:
        """Oldest first."""

    def get(self, subscription_id: str) -> Subscription | None: ...

    def remove(self, subscription_id: str) -> bool: ...

    def rotate(self, subscription_id: str, new_secret: str, until: float) -> Subscription | None:
        """Atomically: the new secret signs, the old one too until ``until``."""


@dataclass
class NewDelivery:
    """What the hub queues: one event for one subscription."""

    event_id: str
    event_type: str
    tenant: str
    subscription_id: str
    url: str
    scheme: str
    secrets: list[str]
    body: bytes


@dataclass
class Delivery(NewDelivery):
    """A queued delivery as the outbox keeps it, with its progress and attempt log."""

    id: str
    status: str  # pending, delivered, failed
    attempts: int
    max_attempts: int
    next_at: float
    created_at: float
    updated_at: float
    log: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self, *, with_body: bool = True) -> dict[str, Any]:
        shown = {
            "id": self.id, "event_id": self.event_id, "event_type": self.event_type,
            "subscription_id": self.subscription_id, "url": self.url, "scheme": self.scheme,
            "status": self.status, "attempts": self.attempts, "max_attempts": self.max_attempts,
            "next_attempt_at": self.next_at if self.status == "pending" else None,
            "created_at": self.created_at, "updated_at": self.updated_at,
            "attempt_log": self.log,
        }  # fmt: skip
        if with_body:
            shown["body"] = self.body.decode("utf-8", "replace")
        return shown


@dataclass(frozen=True)
class Attempt:
    started_at: float
    request_headers: dict[str, str]
    status: int | None
    response_excerpt: str
    latency_ms: float
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Outbox(Protocol):
    """Every delivery and every attempt, kept before anything is sent, so a crash or restart
    loses nothing. Workers claim due deliveries with a lease, so two processes never send the
    same attempt; a lease that runs out (its worker died) makes the delivery due again."""

    ordered: bool  # each subscription's deliveries strictly in order

    def enqueue(self, deliveries: Iterable[NewDelivery], max_attempts: int) -> list[str]:
        """Queue them (inside the caller's transaction when there is one); their ids."""

    def claim(self, limit: int, lease_seconds: float) -> list[Delivery]:
        """Atomically take up to ``limit`` due deliveries for ``lease_seconds``; nobody else
        gets them meanwhile. With ``ordered``, only each subscription's oldest."""

    def next_due(self) -> float | None:
        """When the next pending delivery is due (a cheap read), or None."""

    def record(self, delivery: Delivery, attempt: Attempt, retry_at: float | None) -> None:
        """Log the attempt; delivered on success, due again at ``retry_at``, else failed."""

    def redeliver(self, delivery_id: str, max_attempts: int) -> Delivery | None:
        """Due again now, with fresh attempts; None when there is no such delivery."""

    def get(self, delivery_id: str) -> Delivery | None: ...

    def find(
        self,
        *,
        delivery_id: str | None = None,
        status: str | None = None,
        event_type: str | None = None,
        subscription_id: str | None = None,
        event_id: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """The deliveries that match every filter given, newest first, with attempt logs."""

    def counts(self) -> dict[str, int]:
        """Deliveries per status."""

    def attempt_counts(self) -> dict[str, int]:
        """Attempts per outcome: delivered, failed."""

    def clear(self) -> None: ...


# -- the backend: one object that opens them all -----------------------------------------------
class Backend(Protocol):
    """Where every piece of state lives. ``sandbox.state.select.open_state`` picks one."""

    def describe(self) -> str:
        """Where, in words for the banner."""

    def records(self) -> RecordStore: ...

    def counters(self) -> Storage:
        """Rate-limit counters: the ``limits`` library's storage interface."""

    def keys(self) -> KeyStore: ...

    def journal(self) -> JournalStore: ...

    def idempotency(self) -> IdempotencyStore: ...

    def scenarios(self) -> ScenarioStore: ...

    def grants(self) -> GrantStore: ...

    def signing_keys(self) -> SigningKeyStore: ...

    def subscriptions(self) -> SubscriptionStore: ...

    def outbox(self, *, ordered: bool) -> Outbox: ...

    def transaction(self) -> AbstractContextManager[Any]:
        """What a change and the webhook events it causes are written in. With SQLite one
        transaction of the state file (both kept, or neither); Redis runs each step
        atomically but not the two together."""
