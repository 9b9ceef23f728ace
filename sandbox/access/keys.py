"""Test API keys and their plans.

Keys come from two places: the settings (the banner's default key, ``api_keys``, ``keys``),
and keys created at runtime through ``POST /__sandbox/keys`` or ``sandbox keys create``,
kept in the state (the state file, or Redis), so every worker process and the CLI see them.
"""

from __future__ import annotations

import secrets
import time

from sandbox.state.protocols import ApiKey, KeyStore

__all__ = ["ApiKey", "KeyRing"]


class KeyRing:
    def __init__(self, fixed: dict[str, str], store: KeyStore) -> None:
        self.fixed = dict(fixed)
        self.store = store

    def plan_of(self, key: str) -> str | None:
        """The key's plan, or None when the sandbox does not know the key."""
        plan = self.fixed.get(key)
        if plan is not None:
            return plan
        if not key.startswith("sk_test_"):
            return None  # not one of ours: skip the lookup
        return self.store.plan_of(key)

    def create(self, plan: str, label: str = "") -> ApiKey:
        key = ApiKey("sk_test_" + secrets.token_hex(12), plan, label, int(time.time()))
        self.store.add(key)
        return key

    def revoke(self, key: str) -> bool:
        return self.store.remove(key)

    def all(self) -> list[ApiKey]:
        listed = [ApiKey(key, plan, source="settings") for key, plan in self.fixed.items()]
        return listed + self.store.all()
