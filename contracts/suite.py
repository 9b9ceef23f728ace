"""``contract_suite``: the contract run as pytest tests, one per operation and check.

Two lines in a team's own test module::

    from contracts import contract_suite

    test_api = contract_suite("openapi.yaml", base_url="http://127.0.0.1:8000/v1", bearer=KEY)

Each test sends Schemathesis's generated cases for one operation and judges them by one
check (ours and Schemathesis's), so pytest's report says exactly which promise broke.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig

from contracts.context import RunContext
from contracts.facts import ContractFacts
from contracts.reproduce import Secrets
from contracts.runner import RunOptions, build_target, load_contract_spec
from contracts.setup import json_document, schemathesis_config

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
    """A pytest test function, parametrized by operation and check. Without ``base_url``
    the target is ``app`` (any WSGI app), or the sandbox serving ``spec``."""
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
    chosen = [
        check
        for check in CHECKS.get_all()
        if callable(check) and not isinstance(check, type) and check.__name__ not in _ENGINE_ONLY
    ]

    @pytest.mark.parametrize("check", chosen, ids=[check.__name__ for check in chosen])
    @schema.parametrize()
    def test_contract(case: Any, check: Any) -> None:
        case.call_and_validate(checks=[check])

    test_contract._contracts_keep_alive = keep_alive
    return test_contract
