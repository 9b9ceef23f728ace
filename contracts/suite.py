"""``contract_suite``: the contract run as pytest tests, one per operation and check.

Two lines in a team's own test module::

    from contracts import contract_suite

    test_api = contract_suite("openapi.yaml", base_url="http://127.0.0.1:8000/v1", bearer=KEY)

Each test judges one operation's answers by one check (ours and Schemathesis's), so
pytest's report says exactly which promise broke where, and a failing test shows
Schemathesis's failure with the curl command to reproduce it. The operation's cases
(examples, coverage, fuzzing; ``max_examples``, ``seed``) are generated and sent once, by
the first of its tests to run, and every check judges each answer as it arrives
(``contracts/exchanges.py``); the operation's other tests read their check's verdict.

Why: with N checks, generating and sending per test sent every case N times and built the
operation's Hypothesis strategies N times. On the corpus spec (6 operations, 18 checks,
``max_examples=3``, the corpus server in-process) a suite sent 5,770 requests (697 cases,
those of the examples and coverage phases 18 times each) in 29 s; it now sends 415 (391
cases once each, and 24 read-backs of our checks) in 6 s. The two original tests of
``tests/e2e/test_contract_suite.py`` (each a pytest run of its own) took 55 s, now 20 s.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok, Result

from contracts.context import RunContext
from contracts.exchanges import Exchanges
from contracts.facts import ContractFacts
from contracts.reproduce import Secrets
from contracts.runner import RunOptions, build_target, load_contract_spec
from contracts.setup import json_document, schemathesis_config

if TYPE_CHECKING:
    from contracts.exchanges import Operation

# judged only across a stateful run or by the engine itself, not case by case
_ENGINE_ONLY = {"max_response_time", "use_after_free", "ensure_resource_availability"}


def contract_suite(
    spec: str | Path,
    *,
    base_url: str | None = None,
    app: Any = None,
    headers: dict[str, str] | None = None,
    bearer: str | None = None,
    api_key: str | None = None,
    max_examples: int = 10,
    seed: int | None = None,
) -> Any:
    """A pytest test function, parametrized by operation and check (checks registered with
    ``schemathesis.check`` before the call included). Without ``base_url`` the target is
    ``app`` (any WSGI app), or the sandbox serving ``spec``. Nothing is sent at collection:
    an operation's cases go out once per process, when the first of its tests runs (with
    pytest-xdist, at most once per worker); a case that cannot be sent (a refused or dropped
    connection) fails that operation's tests, saying so, with its curl command."""
    options = RunOptions(
        spec=Path(spec), base_url=base_url, app=app, headers=dict(headers or {}),
        bearer=bearer, api_key=api_key, max_examples=max_examples, seed=seed,
        phases=("examples", "coverage", "fuzzing"),
    )  # fmt: skip
    loaded = load_contract_spec(options.spec)
    secrets = Secrets()
    target, keep_alive = build_target(loaded, options, secrets)
    # this suite's own run: its checks find it in the configuration, no global is set
    context = RunContext(ContractFacts(loaded), target, secrets=secrets, gather=False)
    config = SchemathesisConfig.from_dict(schemathesis_config(loaded, options, context))
    schema = schemathesis.openapi.from_dict(json_document(loaded.document), config=config)
    load_all_checks()
    chosen = [
        check
        for check in CHECKS.get_all()
        if callable(check) and not isinstance(check, type) and check.__name__ not in _ENGINE_ONLY
    ]

    exchanges = Exchanges(schema, chosen)
    targets = [
        pytest.param(found, check, id=f"{_label(found)}][{check.__name__}")
        for found in schema.get_all_operations()
        for check in chosen
    ]

    @pytest.mark.parametrize(("operation", "check"), targets)
    def test_contract(operation: Result[Operation, InvalidSchema], check: Any) -> None:
        __tracebackhide__ = True
        if isinstance(operation, Err):
            raise operation.err()
        exchanges.of(operation.ok()).verdict(check.__name__)

    test_contract._contracts_keep_alive = keep_alive
    return test_contract


def _label(found: Result[Operation, InvalidSchema]) -> str:
    """``GET /items/{id}``: with the check, the test's id is what ``schema.parametrize()``
    crossed with a check parameter gave (``test_api[GET /items/{id}][pagination]``)."""
    return found.ok().label if isinstance(found, Ok) else found.err().label
