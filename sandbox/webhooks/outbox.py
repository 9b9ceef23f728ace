"""The durable outbox: every delivery and every attempt, in the state file.

A delivery is written before anything is sent, so a crash or restart loses nothing: the next
worker to start finds it pending. Workers claim due deliveries with a lease, so two
processes never send the same attempt; a lease that runs out (its worker died mid-send) makes
the delivery due again, and the retry is logged as a new attempt.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.state.sqlite.file import SQLiteFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY, event_id TEXT NOT NULL, event_type TEXT NOT NULL,
    tenant TEXT NOT NULL, subscription_id TEXT NOT NULL, url TEXT NOT NULL,
    scheme TEXT NOT NULL, secrets TEXT NOT NULL, body BLOB NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL,
    next_at REAL NOT NULL, lease_until REAL NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_at);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    delivery_id TEXT NOT NULL, attempt INTEGER NOT NULL, started_at REAL NOT NULL,
    request_headers TEXT NOT NULL, status INTEGER, response_excerpt TEXT NOT NULL,
    latency_ms REAL NOT NULL, error TEXT NOT NULL, PRIMARY KEY (delivery_id, attempt)
);
"""
_FIELDS = (
    "id, event_id, event_type, tenant, subscription_id, url, scheme, secrets, body, status, "
    "attempts, max_attempts, next_at, created_at, updated_at"
)


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


class Outbox:
    def __init__(self, location: str | Path | SQLiteFile, *, ordered: bool = False) -> None:
        """Given the resource store's own file, an event is queued in the same transaction
        as the change it reports: both are kept or neither."""
        if isinstance(location, SQLiteFile):
            self.file = location
            self.file.adopt(_SCHEMA)
        else:
            self.file = SQLiteFile(location, _SCHEMA)
        # ordered: a subscription gets its next delivery only once the one before it is done
        self._order = (
            " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS earlier WHERE "
            "earlier.subscription_id = webhook_deliveries.subscription_id AND "
            "earlier.status = 'pending' AND earlier.rowid < webhook_deliveries.rowid)"
            if ordered
            else ""
        )

    def enqueue(self, deliveries: Iterable[NewDelivery], max_attempts: int) -> list[str]:
        now = time.time()
        ids = []
        with self.file.write() as db:
            for new in deliveries:
                delivery_id = "dlv_" + secrets.token_hex(8)
                db.execute(
                    "INSERT INTO webhook_deliveries (id, event_id, event_type, tenant, "
                    "subscription_id, url, scheme, secrets, body, status, max_attempts, next_at, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, "
                    "?, ?)",
                    (delivery_id, new.event_id, new.event_type, new.tenant, new.subscription_id,
                     new.url, new.scheme, json.dumps(new.secrets), new.body, max_attempts, now,
                     now, now),
                )  # fmt: skip
                ids.append(delivery_id)
        return ids

    def claim(self, limit: int, lease_seconds: float) -> list[Delivery]:
        """Due deliveries, leased to the caller so no other worker sends them meanwhile."""
        now = time.time()
        with self.file.write() as db:
            rows = db.execute(
                f"SELECT {_FIELDS} FROM webhook_deliveries WHERE status = 'pending' "
                f"AND next_at <= ? AND lease_until <= ?{self._order} ORDER BY next_at LIMIT ?",
                (now, now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE webhook_deliveries SET lease_until = ? WHERE id = ?",
                [(now + lease_seconds, row[0]) for row in rows],
            )
        return [_delivery(row) for row in rows]

    def next_due(self) -> float | None:
        with self.file.guard():
            row = self.file.db.execute(
                "SELECT MIN(MAX(next_at, lease_until)) FROM webhook_deliveries "
                "WHERE status = 'pending'"
            ).fetchone()
        return row[0] if row else None

    def record(self, delivery: Delivery, attempt: Attempt, retry_at: float | None) -> None:
        """Log one attempt and move the delivery on: delivered, retried later, or failed."""
        number = delivery.attempts + 1
        if attempt.succeeded:
            status, next_at = "delivered", delivery.next_at
        elif retry_at is not None and number < delivery.max_attempts:
            status, next_at = "pending", retry_at
        else:
            status, next_at = "failed", delivery.next_at
        with self.file.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO webhook_attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (delivery.id, number, attempt.started_at, json.dumps(attempt.request_headers),
                 attempt.status, attempt.response_excerpt, attempt.latency_ms, attempt.error),
            )  # fmt: skip
            db.execute(
                "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_at = ?, "
                "lease_until = 0, updated_at = ? WHERE id = ?",
                (status, number, next_at, time.time(), delivery.id),
            )

    def redeliver(self, delivery_id: str, max_attempts: int) -> Delivery | None:
        """Send again now, with a fresh set of attempts; earlier attempts stay in the log."""
        now = time.time()
        with self.file.write() as db:
            changed = db.execute(
                "UPDATE webhook_deliveries SET status = 'pending', next_at = ?, lease_until = 0, "
                "max_attempts = attempts + ?, updated_at = ? WHERE id = ?",
                (now, max_attempts, now, delivery_id),
            ).rowcount
        return self.get(delivery_id) if changed else None

    def get(self, delivery_id: str) -> Delivery | None:
        found = self.list(delivery_id=delivery_id, limit=1)
        return found[0] if found else None

    def list(
        self,
        *,
        delivery_id: str | None = None,
        status: str | None = None,
        event_type: str | None = None,
        subscription_id: str | None = None,
        event_id: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """Newest first, each with its attempt log."""
        clauses, values = [], []
        for column, value in (("id", delivery_id), ("status", status),
                              ("event_type", event_type), ("subscription_id", subscription_id),
                              ("event_id", event_id)):  # fmt: skip
            if value is not None:
                clauses.append(f"{column} = ?")
                values.append(value)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        with self.file.guard():
            rows = self.file.db.execute(
                f"SELECT {_FIELDS} FROM webhook_deliveries{where} "
                "ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (*values, limit),
            ).fetchall()
            deliveries = [_delivery(row) for row in rows]
            for delivery in deliveries:
                delivery.log = [
                    {"attempt": n, "started_at": started, "request_headers": json.loads(sent),
                     "status": status_code, "response_excerpt": excerpt,
                     "latency_ms": latency, "error": error}
                    for n, started, sent, status_code, excerpt, latency, error in
                    self.file.db.execute(
                        "SELECT attempt, started_at, request_headers, status, response_excerpt, "
                        "latency_ms, error FROM webhook_attempts WHERE delivery_id = ? "
                        "ORDER BY attempt", (delivery.id,),
                    )
                ]  # fmt: skip
        return deliveries

    def counts(self) -> dict[str, int]:
        with self.file.guard():
            rows = self.file.db.execute(
                "SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status"
            ).fetchall()
        return {"pending": 0, "delivered": 0, "failed": 0, **dict(rows)}

    def attempt_counts(self) -> dict[str, int]:
        """Attempts by outcome: success (2xx) or failure (anything else, errors included)."""
        with self.file.guard():
            rows = self.file.db.execute(
                "SELECT CASE WHEN status BETWEEN 200 AND 299 THEN 'success' ELSE 'failure' END, "
                "COUNT(*) FROM webhook_attempts GROUP BY 1"
            ).fetchall()
        return {"success": 0, "failure": 0, **dict(rows)}

    def reset(self) -> None:
        with self.file.write() as db:
            db.execute("DELETE FROM webhook_attempts")
            db.execute("DELETE FROM webhook_deliveries")


def _delivery(row: tuple) -> Delivery:
    values = dict(zip(_FIELDS.replace(" ", "").split(","), row, strict=True))
    values["secrets"] = json.loads(values["secrets"])
    values["body"] = bytes(values["body"])
    return Delivery(**values)
