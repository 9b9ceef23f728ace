"""Signed webhooks: subscriptions, events, a durable outbox and its delivery worker.

``verify`` is public: receivers can check deliveries with the code the sandbox trusts.
"""

from sandbox.errors import WebhookVerificationError
from sandbox.webhooks.signing import SCHEMES, new_secret, sign, verify

__all__ = ["SCHEMES", "WebhookVerificationError", "new_secret", "sign", "verify"]
