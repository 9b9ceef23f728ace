"""Schemathesis, run as a user runs it, against the sandbox serving real specs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, DEFAULT_SPEC

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
SPECS = [
    DEFAULT_SPEC,
    *sorted((CORPUS / "oai" / "v3.0").glob("*.yaml")),
    *sorted((CORPUS / "oai" / "v3.0").glob("*.json")),
    *sorted((CORPUS / "oai" / "v3.1").glob("*.yaml")),
    *sorted((CORPUS / "oai" / "v3.1").glob("*.json")),
]


def schemathesis(
    spec: Path, base_url: str, api_key: str, *extra: str
) -> subprocess.CompletedProcess:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis's `st` command is not installed in this environment"
    command = [
        st,
        "run",
        str(spec),
        "--url",
        base_url,
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {api_key}",
        "--header",
        f"X-API-Key: {api_key}",
        "--max-examples",
        "25",
        "--seed",
        "1",
        "--no-color",
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_schemathesis_finds_no_conformance_failures(spec: Path, live_server_factory) -> None:
    live = live_server_factory(spec, seed=3)
    result = schemathesis(spec, live.base_url, live.api_key)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "No issues found" in output or "passed" in output, output[-3000:]
