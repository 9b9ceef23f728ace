"""One operation's cases, generated and sent once, each answer judged at once by every check.

``contract_suite`` gives pytest one test per (operation, check). Were each test to generate
and send its own cases (Schemathesis's ``schema.parametrize()`` crossed with a check
parameter), an operation's cases would go out once per check, and Hypothesis would build the
operation's strategies once per check. Here the first test of an operation to run builds
the operation's Hypothesis test the way Schemathesis's pytest plugin builds it (same phases,
``max_examples``, seed, examples and coverage cases), runs it once, sends each case once and
keeps the (case, response) pairs with what each check said of the answer; the operation's
other tests read that verdict. The cache lives in the process: ``-k`` on one test, any
order, or pytest-xdist (each worker sends at most once per operation) all work.

Every check judges an answer as soon as it arrives, not when its own test runs: our checks
read the server's state at that moment (``identity_and_persistence`` reads a created or
changed item back, which a later case of the run may delete; ``rate_limit_headers`` compares
``Reset`` with the clock and ``Remaining`` with the requests sent before the answer), so a
verdict given later could be a false alarm. ``rate_limit_headers`` judges first, before the
checks that send requests of their own.
"""

from __future__ import annotations

import threading
import unittest
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias

import pytest
from hypothesis.errors import FailedHealthCheck, InvalidArgument, Unsatisfiable
from schemathesis.auths import reauth_and_replay
from schemathesis.core.control import SkipTest
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.failures import FailureGroup, as_reported_failure
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.hypothesis.builder import MissingPathParameters
from schemathesis.generation.hypothesis.reporting import (
    build_health_check_error,
    build_unsatisfiable_error,
    ignore_hypothesis_output,
)

# the builder Schemathesis's own pytest plugin uses: the same cases as ``schema.parametrize()``
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.python._constants.orchestrator import make_constants_value_source

if TYPE_CHECKING:
    from schemathesis import Case, Response
    from schemathesis.schemas import APIOperation, BaseSchema

    Operation: TypeAlias = APIOperation[Any, Any, Any, Any]

# compares an answer with the requests sent before it: judged before any check sends its own
JUDGED_FIRST = ("rate_limit_headers",)


class SendingFailed(Exception):
    """An operation's cases could not all be sent: its tests fail with this, not a crash."""


@dataclass
class Exchange:
    """One case as sent, its answer, and what each check that failed on it raised."""

    case: Case[Any]
    response: Response
    raised: dict[str, BaseException] = field(default_factory=dict)


@dataclass
class Batch:
    """One operation's exchanges, and why generating or sending stopped, if it did."""

    label: str
    exchanges: list[Exchange] = field(default_factory=list)
    stopped: BaseException | None = None  # a case that could not be sent: no more were
    stopped_curl: str = ""
    error: BaseException | None = None  # generation itself failed: every check's test says so
    error_trace: TracebackType | None = None  # as caught: each test's raise would extend it
    skipped: str | None = None

    def fail(self, error: BaseException) -> None:
        self.error, self.error_trace = error, error.__traceback__

    def stop(self, case: Case[Any], error: Exception) -> None:
        """``case`` could not be sent: the request as far as it was made, as a curl command
        (the transport's own note leaves out the run's headers)."""
        self.stopped = error
        request = getattr(error, "request", None)
        headers = getattr(request, "headers", None)
        try:
            self.stopped_curl = case.as_curl_command(headers=dict(headers or {}))
        except Exception:  # the request may be what could not be made
            self.stopped_curl = "(no curl: the request could not be made)"

    def verdict(self, check: str) -> None:
        """Raise what ``check`` found on this operation's answers, or why none were judged."""
        __tracebackhide__ = True
        if self.error is not None:
            raise self.error.with_traceback(self.error_trace)
        if self.skipped is not None:
            pytest.skip(self.skipped)
        failed = [exchange.raised[check] for exchange in self.exchanges if check in exchange.raised]
        if failed:
            raise _reported(failed, check, self)
        if self.stopped is not None:
            raise SendingFailed(
                f"{self.label}: a case could not be sent, so no later one was "
                f"({len(self.exchanges)} answer(s) judged before it).\n"
                f"{type(self.stopped).__name__}: {self.stopped}\n\n"
                f"Reproduce with:\n\n    {self.stopped_curl}"
            ) from None


class Exchanges:
    """The batches of one ``contract_suite``, each operation's made on first demand."""

    def __init__(self, schema: BaseSchema, checks: Sequence[Callable[..., Any]]) -> None:
        self.schema = schema
        first = [check for check in checks if check.__name__ in JUDGED_FIRST]
        self.checks = first + [check for check in checks if check not in first]
        self._batches: dict[str, Batch] = {}
        self._feedback: FeedbackSources | None = None
        self._lock = threading.Lock()

    def of(self, operation: Operation) -> Batch:
        with self._lock:
            batch = self._batches.get(operation.label)
            if batch is None:
                batch = self._batches[operation.label] = self._send(operation)
            return batch

    def _send(self, operation: Operation) -> Batch:
        batch = Batch(operation.label)

        def send_and_judge(case: Case[Any]) -> None:
            # never raises: Hypothesis would replay and shrink, sending more
            if batch.stopped is None:
                self._exchange(case, batch)

        if self._feedback is None:
            self._feedback = FeedbackSources(
                constants_value_source=make_constants_value_source(self.schema)
            )
        try:
            with ignore_hypothesis_output():
                test = build_operation_test(
                    config=self.schema.config, operation=operation, test_func=send_and_judge,
                    given_kwargs={}, feedback=self._feedback,
                )  # fmt: skip
                test()
            missing = MissingPathParameters.get(test)
            if missing is not None:
                batch.fail(missing)
        except (SkipTest, unittest.SkipTest) as exc:
            batch.skipped = str(exc.args[0]) if exc.args else "no cases for this operation"
        except FailedHealthCheck as exc:
            batch.fail(build_health_check_error(operation, exc, with_tip=True))
        except Unsatisfiable:
            tracker = operation.filter_case_tracker
            batch.fail(build_unsatisfiable_error(operation, with_tip=True, filter_tracker=tracker))
        except InvalidArgument as exc:
            batch.fail(InvalidSchema(exc.args[0]))
        except Exception as exc:  # a schema Schemathesis cannot generate from, a hook's error
            batch.fail(exc)
        return batch

    def _exchange(self, case: Case[Any], batch: Batch) -> None:
        """Send ``case`` as ``call_and_validate`` does, then judge the answer by each check
        alone (``validate_response(checks=[check])``), keeping what each raised."""
        try:
            response = case.call()
            response = reauth_and_replay(
                case, response, case.operation.schema.reauth_state, case.call
            )
        except Exception as exc:  # the transport's (refused, reset, timed out), a hook's
            batch.stop(case, exc)
            return
        exchange = Exchange(case, response)
        batch.exchanges.append(exchange)
        for check in self.checks:
            try:
                case.validate_response(response, checks=[check], transport_kwargs={})
            except (FailureGroup, Exception) as exc:  # a failure, or the check's own error
                exchange.raised[check.__name__] = exc


def _reported(failed: list[BaseException], check: str, batch: Batch) -> BaseException:
    """The first answer ``check`` failed on, as Schemathesis reports it (the failures, the
    answer, the curl to reproduce), with how many more there were and any distinct ones.
    A check's own error (not a failure) is raised as it came."""
    first = failed[0]
    if not isinstance(first, FailureGroup):
        return first
    shown = as_reported_failure(first)
    if len(failed) > 1:
        shown.add_note(f"{check} failed on {len(failed)} of the {len(batch.exchanges)} answers "
                       f"to {batch.label}; the first is shown above")  # fmt: skip
    seen = [_kinds(first)]
    for other in failed[1:]:
        if _kinds(other) not in seen:
            seen.append(_kinds(other))
            shown.add_note(f"\nAnother distinct failure of {check}:\n{_message(other)}")
    if batch.stopped is not None:
        shown.add_note(f"\nThen a case could not be sent, so no later one was: "
                       f"{type(batch.stopped).__name__}: {batch.stopped}")  # fmt: skip
    return shown


def _kinds(exc: BaseException) -> object:
    """What a failure is, whatever the case: its failures' kinds and titles."""
    if isinstance(exc, FailureGroup):
        return frozenset((type(failure), failure.title) for failure in exc.exceptions)
    return (type(exc), str(exc))


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, FailureGroup) else f"{type(exc).__name__}: {exc}"
