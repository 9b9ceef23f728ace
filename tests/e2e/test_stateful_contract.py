"""The whole Schemathesis suite, stateful phase included, against `sandbox serve` on openapi.yaml.

This is the run the stateful-resources work is judged by: every check Schemathesis has
(use_after_free and ensure_resource_availability need stored state to pass) over all four
phases, and the stateful phase must follow every link the spec declares. Schemathesis's own
link inference is switched off here so that the covered/total figure counts the spec's links
and nothing else; with inference on the run passes too, it just cannot prove coverage.
"""

from __future__ import annotations

import re
from pathlib import Path

from sandbox import load_spec
from tests.conftest import DEFAULT_SPEC
from tests.e2e.server import start
from tests.schemathesis_cli import run_schemathesis

SCHEMATHESIS_CONFIG = """
[phases.stateful]
max-steps = 20

[phases.stateful.inference]
algorithms = []

# A schema-valid OAuth request can still be refused rightly: a made-up authorization code or
# refresh token is `400 invalid_grant`, an unregistered client_id `400 unauthorized_client`.
# No schema can say which codes exist, so 400 counts as an answer here (and only here).
[[operations]]
include-operation-id = ["issueToken", "authorize"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401"]
"""

# the client the spec's own examples name, so the examples reach the real grants
SANDBOX_CONFIG = """
oauth_clients:
  - client_id: your_client_id
    client_secret: your_client_secret
# subscriptions point at hosts Schemathesis makes up: never look them up, never send there
webhook_dns: false
"""


def declared_links(spec_path: Path) -> int:
    spec = load_spec(spec_path)
    return sum(
        len(spec.deref(response).get("links", {}))
        for operation in spec.operations
        for response in operation.responses.values()
    )


def test_every_check_and_every_link_pass_against_the_served_spec(tmp_path: Path) -> None:
    links = declared_links(DEFAULT_SPEC)
    assert links >= 21
    (tmp_path / "sandbox.yaml").write_text(SANDBOX_CONFIG)
    process, origin, log = start(
        tmp_path, "--state", str(tmp_path / "state.sqlite"), "--rate-limits", "1000000/minute"
    )
    try:
        key = re.search(r"sk_test_[0-9a-f]+", log.read_text()).group(0)
        config = tmp_path / "schemathesis.toml"
        config.write_text(SCHEMATHESIS_CONFIG)
        # Two runs against one server: a shared --max-time let slow coverage and fuzzing
        # phases (a loaded machine) eat the stateful phase's time, so it covered 19 of 21.
        stateless = run_schemathesis(
            DEFAULT_SPEC, origin + "/v1", key,
            "--checks", "all", "--phases", "examples,coverage,fuzzing", "--max-time", "40",
            config=config,
        )  # fmt: skip
        stateful = run_schemathesis(
            DEFAULT_SPEC, origin + "/v1", key,
            "--checks", "all", "--phases", "stateful", "--max-time", "45", config=config,
        )  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=15)
    for output in (stateless, stateful):
        assert re.search(r"\d+ generated, \d+ passed", output), output[-3000:]
    assert f"{links} covered / {links} selected / {links} total" in stateful, stateful[-3000:]
    assert "Traceback" not in log.read_text()
