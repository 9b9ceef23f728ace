"""Official vendor SDKs against their vendors' specs under `sandbox serve` (issue 18).

One test per call that passes today, parametrized from the scenarios' ``passing`` sets in
tests/vendor_sdks.py: a call joins the suite by being listed there once the bench
(bench/vendor_sdks.py) shows it passing. The calls of a scenario share state (what one
creates, the next reads), so each SDK's whole scenario runs once, in order, against one
server, and each test reports its own call's outcome. Running the whole sequence (failing
calls included) keeps the state each call meets the same as in the bench, and under
pytest-xdist a worker that gets any call of an SDK runs that SDK's scenario itself.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.vendor_sdks import SCENARIOS, Outcome, run_scenario

pytestmark = pytest.mark.slow

CASES = [
    pytest.param(scenario.name, call.name, id=f"{scenario.name}-{call.name}")
    for scenario in SCENARIOS.values()
    for call in scenario.calls
    if call.name in scenario.passing
]


@pytest.fixture(scope="session")
def scenario_outcomes() -> Callable[[str], dict[str, Outcome]]:
    """Each SDK's scenario run once per session (one server per SDK), on first demand."""
    ran: dict[str, dict[str, Outcome]] = {}

    def outcomes(name: str) -> dict[str, Outcome]:
        if name not in ran:
            ran[name] = {o.call: o for o in run_scenario(SCENARIOS[name], journal=True)}
        return ran[name]

    return outcomes


@pytest.mark.parametrize(("sdk", "call"), CASES)
def test_vendor_sdk_call(
    sdk: str, call: str, scenario_outcomes: Callable[[str], dict[str, Outcome]]
) -> None:
    outcome = scenario_outcomes(sdk)[call]
    exchanges = "\n".join(
        f"  {x['method']} {x['path']} -> {x['status']}: {x['response'][:300]}"
        for x in outcome.exchanges
    )
    assert outcome.passed, f"{sdk} {call}: {outcome.error}\n{exchanges}"
