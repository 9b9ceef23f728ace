"""Webhook subscriptions: who wants which events, where, signed how.

Two sources feed one list. Subscriptions made through ``/__sandbox/webhooks`` live in the
subscription store and hear every tenant's events (a demo receiver sees everything).
Subscriptions a client makes through the spec's own endpoint (``POST /v1/webhooks``) are
that tenant's records in the resource store, and hear that tenant's events only
(``bridge``).
"""

from __future__ import annotations

import secrets
import time

from sandbox.state.protocols import Subscription, SubscriptionStore

__all__ = ["Subscription", "Subscriptions"]


class Subscriptions:
    def __init__(self, store: SubscriptionStore) -> None:
        self.store = store

    def create(self, url: str, events: list[str], secret: str, scheme: str | None) -> Subscription:
        subscription = Subscription(
            "whk_" + secrets.token_hex(6), url, tuple(events), secret, scheme,
            created_at=round(time.time(), 3),
        )  # fmt: skip
        self.store.add(subscription)
        return subscription

    def all(self) -> list[Subscription]:
        return self.store.all()

    def get(self, subscription_id: str) -> Subscription | None:
        return self.store.get(subscription_id)

    def delete(self, subscription_id: str) -> bool:
        return self.store.remove(subscription_id)

    def rotate(self, subscription_id: str, new_secret: str, grace: float) -> Subscription | None:
        """A new secret; the old one keeps signing too for ``grace`` seconds."""
        return self.store.rotate(subscription_id, new_secret, time.time() + grace)
