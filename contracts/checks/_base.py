"""How our checks are registered and what each is handed.

A check here is a small function of one ``Seen`` (the response, its case, the spec's
operation and the run) registered with Schemathesis like its own checks. The wrapper does
what all of them need: find the run (none: not a contracts run, nothing to do) and the
operation, and decide what a failure does. Inside a Schemathesis run a failure is recorded,
not raised: Schemathesis stops an operation's scenario at its first failing check, and a
convention of ours must not cut its exploration short (its coverage phase would then send
fewer requests and miss what it alone finds). A ``contract_suite`` (pytest: each answer
judged by one check at a time as it arrives, ``contracts/exchanges.py``) has its failures
raised, so each (operation, check) test reports its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import schemathesis
from schemathesis.generation.meta import CONTENT_TYPE_PROBES, coverage_scenario

from contracts.context import ContractFailure, Finding, RunContext, run_of
from contracts.facts import pointer_of
from contracts.reproduce import curl
from sandbox.jsonio import loads

if TYPE_CHECKING:
    from schemathesis import Case, Response
    from schemathesis.checks import CheckContext

    from sandbox.spec.model import Operation

EXCERPT = 600
REGISTERED: list[str] = []  # our checks' names, in registration order


@dataclass
class Seen:
    """One response to judge, with what the run knows."""

    run: RunContext
    ctx: CheckContext
    response: Response
    case: Case[Any]
    operation: Operation

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def ordinary(self) -> bool:
        """The request is the operation itself: not an undeclared-method probe (``OPTIONS``
        sent under ``PUT /users/{id}``) nor a malformed-content-type one."""
        return (
            self.case.method.upper() == self.operation.method
            and coverage_scenario(self.case) not in CONTENT_TYPE_PROBES
        )

    def body(self) -> Any:
        try:
            return loads(self.response.content) if self.response.content else None
        except ValueError:
            return None

    def header(self, name: str) -> str | None:
        values = self.response.headers.get(name.lower())
        return values[0] if values else None

    def pointer(self, status: int | None = None) -> str:
        base = pointer_of(self.operation)
        if status is None:
            return base
        found = self.operation.response_for(status)
        return f"{base}/responses/{found[0]}" if found else f"{base}/responses"

    def fail(self, title: str, message: str, pointer: str | None = None) -> NoReturn:
        raise ContractFailure(
            operation=self.case.operation.label, title=title, message=message,
            pointer=pointer if pointer is not None else self.pointer(self.status),
        )  # fmt: skip


CheckBody = Callable[[Seen], bool | None]


def contract_check(body: CheckBody) -> Callable[[Any, Any, Any], bool | None]:
    """Register ``body`` with Schemathesis under its own name."""
    name = body.__name__

    def check(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
        run = run_of(ctx, name)
        if run is None:
            return None
        operation = run.facts.operation(case.operation.method, case.operation.path)
        if operation is None:
            return None
        seen = Seen(run, ctx, response, case, operation)
        try:
            return body(seen)
        except ContractFailure as failure:
            if not run.gather:
                raise
            run.record(finding(name, failure, seen))
            return True

    check.__name__ = check.__qualname__ = name
    check.__doc__ = body.__doc__
    check.__module__ = body.__module__
    REGISTERED.append(name)
    return schemathesis.check(check)


def finding(name: str, failure: ContractFailure, seen: Seen) -> Finding:
    """The failure with the request as sent, ready to paste, and the start of the answer."""
    request = seen.response.request
    body = request.body
    sent = curl(
        seen.run.secrets, str(request.method), str(request.url), dict(request.headers),
        body.encode() if isinstance(body, str) else body,
    )  # fmt: skip
    excerpt = seen.run.secrets.mask(
        seen.response.content[:EXCERPT].decode("utf-8", "replace") if seen.response.content else ""
    )
    return Finding(name, failure, request_label(seen.case), sent, seen.status, excerpt)


def request_label(case: Case[Any]) -> str:
    """``TRACE /users`` for a probe sent under ``POST /users``: a finding belongs to the
    request that was sent."""
    if case.method.upper() != case.operation.method.upper():
        return f"{case.method.upper()} {case.operation.path}"
    return str(case.operation.label)
