"""The webhook outbox in the state file, beside the records: a change and the deliveries it
causes are written in one transaction (``SQLiteBackend.transaction``), both or neither."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

from sandbox.state.protocols import Attempt, Delivery, NewDelivery
from sandbox.state.sqlite.file import SQLiteFile

SCHEMA = """
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
# ordered: a subscription gets its next delivery only once the one before it is done
_IN_ORDER = (
    " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS earlier WHERE "
    "earlier.subscription_id = webhook_deliveries.subscription_id AND "
    "earlier.status = 'pending' AND earlier.rowid < webhook_deliveries.rowid)"
)


class SQLiteOutbox:
    def __init__(self, file: SQLiteFile, *, ordered: bool = False) -> None:
        self.file = file
        file.adopt(SCHEMA)
        self.ordered = ordered

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
        now = time.time()
        order = _IN_ORDER if self.ordered else ""
        with self.file.write() as db:
            rows = db.execute(
                f"SELECT {_FIELDS} FROM webhook_deliveries WHERE status = 'pending' "
                f"AND next_at <= ? AND lease_until <= ?{order} ORDER BY next_at LIMIT ?",
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
        now = time.time()
        with self.file.write() as db:
            changed = db.execute(
                "UPDATE webhook_deliveries SET status = 'pending', next_at = ?, lease_until = 0, "
                "max_attempts = attempts + ?, updated_at = ? WHERE id = ?",
                (now, max_attempts, now, delivery_id),
            ).rowcount
        return self.get(delivery_id) if changed else None

    def get(self, delivery_id: str) -> Delivery | None:
        found = self.find(delivery_id=delivery_id, limit=1)
        return found[0] if found else None

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
        clauses: list[str] = []
        values: list[Any] = []
        for column, value in (("id", delivery_id), ("status", status),
                              ("event_type", event_type), ("subscription_id", subscription_id),
                              ("event_id", event_id)):  # fmt: skip
            if value is not None:
                clauses.append(f"{column} = ?")
                values.append(value)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        with self.file.guard():
            db = self.file.db
            rows = db.execute(
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
                    for n, started, sent, status_code, excerpt, latency, error in db.execute(
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
        with self.file.guard():
            rows = self.file.db.execute(
                "SELECT CASE WHEN status BETWEEN 200 AND 299 THEN 'success' ELSE 'failure' END, "
                "COUNT(*) FROM webhook_attempts GROUP BY 1"
            ).fetchall()
        return {"success": 0, "failure": 0, **dict(rows)}

    def clear(self) -> None:
        with self.file.write() as db:
            db.execute("DELETE FROM webhook_attempts")
            db.execute("DELETE FROM webhook_deliveries")


def _delivery(row: tuple[Any, ...]) -> Delivery:
    values = dict(zip(_FIELDS.replace(" ", "").split(","), row, strict=True))
    values["secrets"] = json.loads(values["secrets"])
    values["body"] = bytes(values["body"])
    return Delivery(**values)
