"""``Idempotency-Key`` on POST, as payment APIs keep it.

The first request with a key runs and, when it succeeds, its response is kept for a day: a
retry with the same key and the same body gets that response again (``Idempotent-Replayed:
true``) and nothing runs twice. The same key with another body is a 409, and so is a retry
while the first is still running. Failures (4xx, 5xx) are not kept, so a retry after a 503
runs for real: that is what makes retrying safe.
"""

from __future__ import annotations

import hashlib
import json

from sandbox.jsonio import loads
from sandbox.state.protocols import Claim, IdempotencyStore, Kept

HEADER = "Idempotency-Key"
KEEP_SECONDS = 24 * 3600
ABANDONED_AFTER = 60.0  # a request still "running" this long ago died with its worker


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The same JSON in another key order is the same request."""
    try:
        canonical = json.dumps(loads(body), sort_keys=True).encode() if body.strip() else b""
    except ValueError:
        canonical = body
    return hashlib.sha256(b"%s %s\n%s" % (method.encode(), path.encode(), canonical)).hexdigest()


class IdempotencyKeys:
    def __init__(self, store: IdempotencyStore) -> None:
        self.store = store

    def claim(self, tenant: str, key: str, print_: str) -> Claim:
        return self.store.claim(
            tenant, key, print_, keep_for=KEEP_SECONDS, abandoned_after=ABANDONED_AFTER
        )

    def finish(self, tenant: str, key: str, kept: Kept) -> None:
        """Keep a success for replays; forget anything else so a retry runs again."""
        if 200 <= kept.status < 300:
            self.store.keep(tenant, key, kept)
        else:
            self.store.forget(tenant, key)

    def reset(self) -> None:
        self.store.clear()


__all__ = ["HEADER", "Claim", "IdempotencyKeys", "Kept", "fingerprint"]
