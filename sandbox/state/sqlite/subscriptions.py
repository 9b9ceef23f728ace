"""Webhook subscriptions made through the admin API, in the state file.

Every stored change of a record is an event, and the hub reads who listens inside the
change's write transaction; subscriptions change rarely, so each process keeps a copy
(``versions``) and reads the table again only after one has changed."""

from __future__ import annotations

import json

from sandbox.state.protocols import Subscription
from sandbox.state.sqlite.file import SQLiteFile
from sandbox.state.sqlite.versions import Copy, Versions

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL,
    previous_secret TEXT, previous_until REAL NOT NULL DEFAULT 0, scheme TEXT,
    active INTEGER NOT NULL DEFAULT 1, created_at REAL NOT NULL
);
"""
_SELECT = (
    "SELECT id, url, events, secret, scheme, active, previous_secret, previous_until, "
    "created_at FROM webhook_subscriptions"
)


class SQLiteSubscriptions:
    def __init__(self, file: SQLiteFile) -> None:
        self.file = file
        file.adopt(SCHEMA)
        self._slot = Versions.slot("webhook_subscriptions")
        self._all = Copy(lambda: file.versions.read(self._slot), self._read_all)

    def add(self, subscription: Subscription) -> None:
        with self.file.write() as db:
            db.execute(
                "INSERT INTO webhook_subscriptions (id, url, events, secret, scheme, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (subscription.id, subscription.url, json.dumps(list(subscription.events)),
                 subscription.secret, subscription.scheme, subscription.created_at),
            )  # fmt: skip
            self.file.changed(self._slot)

    def all(self) -> list[Subscription]:
        return list(self._all.get())

    def _read_all(self) -> list[Subscription]:
        return self._select(" ORDER BY created_at, id", ())

    def get(self, subscription_id: str) -> Subscription | None:
        found = self._select(" WHERE id = ?", (subscription_id,))
        return found[0] if found else None

    def remove(self, subscription_id: str) -> bool:
        with self.file.write() as db:
            deleted = db.execute(
                "DELETE FROM webhook_subscriptions WHERE id = ?", (subscription_id,)
            ).rowcount
            self.file.changed(self._slot)
        return deleted > 0

    def rotate(self, subscription_id: str, new_secret: str, until: float) -> Subscription | None:
        with self.file.write() as db:
            changed = db.execute(
                "UPDATE webhook_subscriptions SET previous_secret = secret, secret = ?, "
                "previous_until = ? WHERE id = ?",
                (new_secret, until, subscription_id),
            ).rowcount
            self.file.changed(self._slot)
        return self.get(subscription_id) if changed else None

    def _select(self, rest: str, values: tuple[str, ...]) -> list[Subscription]:
        with self.file.guard():
            rows = self.file.db.execute(_SELECT + rest, values).fetchall()
        return [
            Subscription(
                row[0], row[1], tuple(json.loads(row[2])), row[3], row[4], bool(row[5]), *row[6:]
            )
            for row in rows
        ]
