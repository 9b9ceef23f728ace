"""Every root spec of the real-world corpus boots and serves, checked by Schemathesis.

tests/test_conformance.py runs every Schemathesis check over the small OpenAPI 3.0/3.1
examples; this runs the rest of the corpus's INDEX.tsv (Swagger 2.0, OpenAPI 3.2 and the
big real APIs) with valid requests and a small example budget, checking what a client of the
sandbox relies on: no server errors, documented status codes, content types and headers, and
bodies that match the response schemas. Schemathesis reads the document the sandbox serves
at /docs/openapi.json, i.e. the bundled (and, for Swagger 2.0, converted) spec.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from sandbox import SpecError, load_spec
from sandbox.spec.links import link_form_conflicts
from sandbox.spec.model import Spec
from sandbox.spec.notes import discriminator_conflicts
from tests.conftest import LiveServer, corpus_path

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)
CORPUS = corpus_path()  # unpacked from tests/data/corpus.tar.xz; fails if missing
COVERED_ELSEWHERE = ("oai/v3.0/", "oai/v3.1/")  # tests/test_conformance.py
ROWS = [
    line.split("\t")[0]
    for line in (CORPUS / "INDEX.tsv").read_text().splitlines()[1:]
    if line and not line.startswith(COVERED_ELSEWHERE)
]


def authorization(live: LiveServer) -> str:
    """The banner key, sent the way the spec's schemes ask for it (any half of Basic works)."""
    schemes = live.app.extensions["sandbox"].spec.security_schemes.values()
    if any(str(s.get("scheme", "")).lower() == "basic" for s in schemes):
        return "Basic " + base64.b64encode(f"{live.api_key}:x".encode()).decode()
    return f"Bearer {live.api_key}"


def test_the_corpus_index_is_there() -> None:
    """The parametrised run below would silently shrink with a corpus short of specs."""
    assert len(ROWS) >= 20, f"expected the real-world specs under {CORPUS}"


@pytest.mark.slow
@pytest.mark.parametrize("relative", ROWS)
def test_the_spec_boots_and_schemathesis_finds_no_failures(
    relative: str, live_server_factory, tmp_path: Path
) -> None:
    path = CORPUS / relative
    try:
        load_spec(path)
        lenient = False
    except SpecError as refused:  # an invalid spec is refused with its problem, or served leniently
        assert "invalid OpenAPI" in str(refused) or "invalid Swagger" in str(refused)
        assert load_spec(path, lenient=True).warnings
        lenient = True
    live = live_server_factory(
        path, lenient=lenient, seed=3, rate_limits="1000000/minute",
        webhook_allowed_hosts=["127.0.0.1"],  # callbacks go to made-up hosts: no DNS lookups
    )  # fmt: skip
    with urllib.request.urlopen(live.origin + "/__sandbox/health") as response:
        operations = json.load(response)["operations"]
    assert operations == len(live.app.extensions["sandbox"].spec.operations)
    spec = live.app.extensions["sandbox"].spec
    # no status can be "documented" for an operation that declares no responses (the
    # OpenAPI 3.2 tags example has only those): they must answer, without a server error
    silent = [op for op in spec.operations if not op.responses]
    for operation in silent:
        if "{" not in operation.path:
            request = urllib.request.Request(
                live.base_url + operation.path, method=operation.method,
                headers={"Authorization": authorization(live)},
            )  # fmt: skip
            with urllib.request.urlopen(request) as response:
                assert response.status < 300
    if len(silent) == operations:
        return
    st = Path(sys.executable).parent / "st"
    command = [
        str(st), "run", live.origin + "/docs/openapi.json", "--url", live.base_url,
        "--header", f"Authorization: {authorization(live)}", "--checks", CHECKS,
        "--mode", "positive", "--phases", "examples,fuzzing", "--max-examples", "2",
        "--seed", "1", "--no-color",
    ]  # fmt: skip
    for operation in silent:
        command += ["--exclude-operation-id", operation.operation_id]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert " generated, " in output, output[-6000:]
    if done.returncode != 0:
        assert not unexplained_failures(output, spec), output[-6000:]
    tail = output.split("\nErrors:")[-1] if "\nErrors:" in output else ""
    errors = dict(re.findall(r"🚫 ([\w ]+?): (\d+)", tail))
    if lenient:  # Schemathesis cannot read some schemas of an invalid spec; nothing else
        errors.pop("Schema Error", None)
    assert not errors, output[-6000:]


def unexplained_failures(output: str, spec: Spec) -> list[str]:
    """Failures not down to the spec itself. Two kinds are: a discriminator the spec makes
    impossible to satisfy (``sandbox check`` reports each), and a 400 from the sandbox's
    request validation where the operation declares no 400 (Schemathesis sent what the
    sandbox judged invalid, e.g. ``null`` for a 3.1 schema that says ``nullable``; the sandbox
    refuses invalid requests whatever the spec documents; its body is in the spec's own error
    shape, so it is known by our code or by our message), a 404 for an id no stored
    record has (the real API answers so where its spec forgot to say; issue 18), a 409 for
    an id the client chose that a stored record already has (records always carry their
    ids, and Schemathesis sent back ids the sandbox had answered: OpenAI's project groups),
    and a link answered as a path where the spec's examples show paths but its schema says
    ``format: uri`` (Twilio's; ``sandbox check`` notes each). Everything else is ours."""
    allowed_values = {
        str(value) for conflict in discriminator_conflicts(spec) for value in conflict.allowed
    }
    shown_as_paths = {name for conflict in link_form_conflicts(spec) for name in conflict.fields}
    left = []
    for case in re.split(r"\n(?=\d+\. Test Case ID: )", output)[1:]:
        codes = set(re.findall(r"^- (ST\d+) ", case, re.M))
        values = re.findall(r"discriminator property '[^']+' with value '([^']*)'", case)
        if values and set(values) <= allowed_values:
            codes.discard("ST111")
        if re.search(r"\[400\] Bad Request:\s+`\{[^`]*(VALIDATION_ERROR|Invalid request: )", case):
            codes.discard("ST103")
        if re.search(r"\[404\] Not Found:\s+`[^`]*with id ", case):
            codes.discard("ST103")  # an unknown id of a stored resource is a 404 (issue 18)
        if re.search(r"\[409\] Conflict:\s+`[^`]*already exists", case):
            codes.discard("ST103")  # an id the client chose that a stored record has
        if _paths_where_the_examples_show_paths(case, shown_as_paths):
            codes.discard("ST108")
        if codes:
            left.append(f"{sorted(codes)}: {case[:400]}")
    return left


def _paths_where_the_examples_show_paths(case: str, fields: set[str]) -> bool:
    """Every schema violation of the case is a path in a link field whose examples show
    paths (``sandbox.spec.links``): each ``Schema at /properties/<field>`` is one of
    ``fields`` and each value shown starts with ``/``."""
    places = re.findall(r"Schema at (\S+):", case)
    paths = re.findall(r'^ +Value:\n\n +"/', case, re.M)
    return (
        bool(places)
        and len(paths) == len(places)
        and all(place.rsplit("/", 1)[-1] in fields for place in places)
    )
