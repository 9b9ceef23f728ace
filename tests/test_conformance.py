"""Schemathesis, run as a user runs it (`st run`), against the sandbox serving real specs.

Two runs per corpus spec (openapi.yaml gets the fuller stateful run in
tests/e2e/test_stateful_contract.py):

A. every check Schemathesis has (negative testing included: invalid input must be rejected,
   missing auth must be refused, undeclared methods get 405 with Allow), except the two that
   judge stateful behaviour (use_after_free, ensure_resource_availability): the corpus specs
   carry no links and often no item paths, so those checks have nothing sound to follow;
B. valid requests only, checking that each status the sandbox returns is documented.

Why split: when an operation documents no 4xx response, the sandbox still answers invalid
input with 400 (accepting it would hide bugs in the user's client), which run A's
status_code_conformance would call undocumented. So that check runs in A only where every
operation documents its client errors, and in B for everything else. An operation that
declares no responses at all cannot pass status_code_conformance whatever it returns, so B
leaves those out (non-oauth-scopes.yaml has one).
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from sandbox import load_spec
from sandbox.spec.model import Spec
from tests.conftest import corpus_path
from tests.schemathesis_cli import run_schemathesis

CORPUS = corpus_path()  # unpacked from tests/data/corpus.tar.xz; fails if missing
SPECS = [
    *sorted((CORPUS / "oai" / "v3.0").glob("*.yaml")),
    *sorted((CORPUS / "oai" / "v3.0").glob("*.json")),
    *sorted((CORPUS / "oai" / "v3.1").glob("*.yaml")),
    *sorted((CORPUS / "oai" / "v3.1").glob("*.json")),
]


def documents_client_errors(spec: Spec) -> bool:
    return all(op.response_for(400) for op in spec.operations)


def without_responses(spec: Spec) -> list[str]:
    return sorted({op.path for op in spec.operations if not op.responses})


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_schemathesis_finds_no_failures(spec_path: Path, live_server_factory) -> None:
    spec = load_spec(spec_path)
    # callbacks go to URLs Schemathesis makes up: refuse them here, before any DNS lookup
    live = live_server_factory(
        spec_path, seed=3, rate_limits="1000000/minute", webhook_allowed_hosts=["127.0.0.1"]
    )
    if not spec.operations:  # webhooks only: nothing to call, but it must boot and answer
        with urllib.request.urlopen(live.origin + "/__sandbox/health") as response:
            assert json.load(response)["operations"] == 0
        return
    args = ["--checks", "all"]
    if not documents_client_errors(spec):
        args += ["--exclude-checks", "status_code_conformance"]
    output = run_schemathesis(spec_path, live.base_url, live.api_key, *args)
    assert re.search(r"\d+ generated, \d+ passed", output), output[-3000:]
    if documents_client_errors(spec):
        return
    args = ["--mode", "positive", "--checks", "status_code_conformance"]
    for path in without_responses(spec):
        args += ["--exclude-path", path]
    if len(without_responses(spec)) < len({op.path for op in spec.operations}):
        run_schemathesis(spec_path, live.base_url, live.api_key, *args)


def test_the_corpus_is_there() -> None:
    """The parametrised runs above would silently shrink with a corpus short of examples."""
    assert len(SPECS) >= 18, f"expected the oai examples under {CORPUS}"
