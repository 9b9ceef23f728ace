"""Webhook subscriptions: who wants which events, where, signed how.

Two sources feed one list. Subscriptions made through ``/__sandbox/webhooks`` live in their
own table and hear every tenant's events (a demo receiver sees everything). Subscriptions a
client makes through the spec's own endpoint (``POST /v1/webhooks``) are that tenant's
records in the resource store, and hear that tenant's events only.
"""

from __future__ import annotations

import fnmatch
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.state.sqlite.file import SQLiteFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL,
    previous_secret TEXT, previous_until REAL NOT NULL DEFAULT 0, scheme TEXT,
    active INTEGER NOT NULL DEFAULT 1, created_at REAL NOT NULL
);
"""


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


class SubscriptionTable:
    def __init__(self, location: str | Path) -> None:
        self.file = SQLiteFile(location, _SCHEMA)

    def create(self, url: str, events: list[str], secret: str, scheme: str | None) -> Subscription:
        subscription = Subscription(
            "whk_" + secrets.token_hex(6), url, tuple(events), secret, scheme,
            created_at=round(time.time(), 3),
        )  # fmt: skip
        with self.file.write() as db:
            db.execute(
                "INSERT INTO webhook_subscriptions (id, url, events, secret, scheme, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (subscription.id, url, json.dumps(events), secret, scheme, subscription.created_at),
            )
        return subscription

    def all(self) -> list[Subscription]:
        with self.file.guard():
            rows = self.file.db.execute(
                "SELECT id, url, events, secret, scheme, active, previous_secret, previous_until, "
                "created_at FROM webhook_subscriptions ORDER BY created_at, id"
            ).fetchall()
        return [
            Subscription(
                row[0], row[1], tuple(json.loads(row[2])), row[3], row[4], bool(row[5]), *row[6:]
            )
            for row in rows
        ]

    def get(self, subscription_id: str) -> Subscription | None:
        return next((s for s in self.all() if s.id == subscription_id), None)

    def delete(self, subscription_id: str) -> bool:
        with self.file.write() as db:
            return (
                db.execute(
                    "DELETE FROM webhook_subscriptions WHERE id = ?", (subscription_id,)
                ).rowcount
                > 0
            )

    def rotate(self, subscription_id: str, new_secret: str, grace: float) -> Subscription | None:
        """A new secret; the old one keeps signing too for ``grace`` seconds."""
        with self.file.write() as db:
            changed = db.execute(
                "UPDATE webhook_subscriptions SET previous_secret = secret, secret = ?, "
                "previous_until = ? WHERE id = ?",
                (new_secret, time.time() + grace, subscription_id),
            ).rowcount
        return self.get(subscription_id) if changed else None
