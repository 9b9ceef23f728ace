"""Test API keys and their plans.

Keys come from two places: the settings (the banner's default key, ``api_keys``, ``keys``),
and keys created at runtime through ``POST /__sandbox/keys`` or ``sandbox keys create``,
kept in the state (the state file, or Redis), so every worker process and the CLI see them.

A key in the settings may be a pattern (``sk_test_*``, fnmatch-style: ``*``, ``?``, ``[...]``),
as stripe-mock accepts any ``sk_test_`` key: every key it matches is accepted on its plan.
Any other string is a key as it stands, whatever shape a vendor gives its keys.
"""

from __future__ import annotations

import re
import secrets
import time
from fnmatch import translate

from sandbox.state.protocols import ApiKey, KeyStore

__all__ = ["ApiKey", "KeyRing"]


class KeyRing:
    def __init__(self, fixed: dict[str, str], store: KeyStore) -> None:
        self.fixed = dict(fixed)
        self.store = store
        # patterns compiled once: matching costs a regex per pattern, only for unknown keys
        self.patterns = [
            (re.compile(translate(key)), plan) for key, plan in fixed.items() if _is_pattern(key)
        ]

    def plan_of(self, key: str) -> str | None:
        """The key's plan, or None when the sandbox does not know the key."""
        plan = self.fixed.get(key)
        if plan is not None:
            return plan
        for pattern, plan in self.patterns:
            if pattern.match(key):
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


def _is_pattern(key: str) -> bool:
    """Whether a configured key is an fnmatch pattern rather than one literal key."""
    return any(mark in key for mark in "*?[")
