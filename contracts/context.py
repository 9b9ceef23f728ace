"""One run's state, handed to our checks through Schemathesis's own configuration.

Schemathesis gives a check function ``(ctx, response, case)`` and nothing else; what one
run knows (the spec's conventions, the target, the rate-limit ledger, the findings so far)
travels in the run's configuration, ``checks.<name>.run``, and a check reads it from
``ctx.config``. Nothing lives in a module global, so two runs in one process never mix.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from schemathesis.core.failures import Failure

from contracts.facts import ContractFacts
from contracts.ratelimit_ledger import RateLimitLedger
from contracts.reproduce import Secrets
from contracts.target import Target

if TYPE_CHECKING:
    from schemathesis.checks import CheckContext

    from contracts.principal import Principal
    from contracts.webhooks import WebhookWatch

CONFIG_KEY = "run"


class ContractFailure(Failure):
    """A broken convention, with the JSON pointer of the spec's promise."""

    code: ClassVar[str] = "CT100"
    kind_title: ClassVar[str] = "Contract convention broken"
    __slots__ = ("pointer",)

    def __init__(self, *, operation: str, title: str, message: str, pointer: str = "") -> None:
        super().__init__(operation=operation, title=title, message=message)
        self.pointer = pointer


@dataclass
class Finding:
    """One of our checks' failures, as seen on one request."""

    check: str
    failure: ContractFailure
    label: str  # the request actually sent: "TRACE /users" for a probe of "POST /users"
    curl: str
    status: int | None
    excerpt: str


@dataclass
class RunContext:
    """What our checks share during one run."""

    facts: ContractFacts
    target: Target
    webhooks: WebhookWatch | None = None
    principal: Principal | None = None
    workers: int = 1
    # a run gathers our failures itself (Schemathesis must not stop exploring on them); a
    # contract_suite raises them, so that pytest reports them
    gather: bool = True
    secrets: Secrets = field(default_factory=Secrets)
    ledger: RateLimitLedger = field(init=False)
    walked: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)  # operations left out, and why
    findings: list[Finding] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.ledger = RateLimitLedger(self.facts, slack=max(self.workers - 1, 0))
        self.target.observers.append(self.ledger.observe)

    def record(self, finding: Finding) -> None:
        with self.lock:
            self.findings.append(finding)

    def drain(self) -> list[Finding]:
        """The findings since the last drain, oldest first."""
        with self.lock:
            found, self.findings = self.findings, []
        return found

    def config_for(self, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        """The ``checks`` section that hands this context to each of our checks."""
        return {name: {CONFIG_KEY: self, "enabled": True} for name in names}


def run_of(ctx: CheckContext, name: str) -> RunContext | None:
    """The run this check belongs to; None outside a contracts run (e.g. a plain ``st``)."""
    found = ctx.config.custom_kwargs.get(name, {}).get(CONFIG_KEY)
    return found if isinstance(found, RunContext) else None
