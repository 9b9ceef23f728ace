"""The planted-violation corpus: `contracts run` must flag every variant, each by the kind of
check that should see it, and pass the correct server clean."""

from __future__ import annotations

import pytest

from contracts.runner import RunOptions, run
from tests.contract_corpus import EXPECTED, SPEC_PATH, TOKEN, VARIANTS, make_app

KIND_OF_CHECK = {
    "envelope_conformance": "envelope",
    "error_shape": "error_shape",
    "rate_limit_headers": "rate_limit",
    "pagination": "pagination",
    "identity_and_persistence": "identity",
}


def contract_run(variant: str):
    return run(RunOptions(SPEC_PATH, app=make_app(variant), bearer=TOKEN, max_examples=10, seed=1))


def test_the_correct_server_passes_clean() -> None:
    report = contract_run("correct")
    assert report.failures == [], [f.fingerprint for f in report.failures]
    assert report.errors == []
    assert report.cases > 100 and len(report.operations) >= 6


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_planted_violation_is_detected(variant: str) -> None:
    report = contract_run(variant)
    assert report.failures, f"{variant} ({VARIANTS[variant]}) went unnoticed"
    kinds = {KIND_OF_CHECK.get(f.check, "schemathesis") for f in report.failures}
    assert kinds & EXPECTED[variant], (variant, sorted(f.fingerprint for f in report.failures))
    assert report.exit_code == 1
