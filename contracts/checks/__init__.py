"""Our checks, registered with Schemathesis beside its own.

Schemathesis judges each response by its schema. These judge what schemas cannot say: the
spec's envelope and error conventions, what rate-limit headers mean, what a page of results
promises, that a server remembers what it was told, and that it sends the webhooks it
declares. Each is a small function in a module of its own; a failure carries what was
expected, what came, and the JSON pointer of the promise in the spec.
"""

from contracts.checks import envelope, errors, identity, pagination, ratelimits, webhook
from contracts.checks._base import REGISTERED
from contracts.context import ContractFailure

OUR_CHECKS: tuple[str, ...] = tuple(REGISTERED)

__all__ = [
    "OUR_CHECKS",
    "ContractFailure",
    "envelope",
    "errors",
    "identity",
    "pagination",
    "ratelimits",
    "webhook",
]
