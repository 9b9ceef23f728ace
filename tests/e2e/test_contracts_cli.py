"""`contracts run` as CI runs it: a real process, exit codes, report files, a baseline, a
real `sandbox serve` behind --base-url with a bearer key or OAuth client credentials, and
politeness toward a target that rate-limits."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from xml.etree import ElementTree

import pytest
from werkzeug.serving import make_server

from contracts.runner import RunOptions, run
from tests.conftest import DEFAULT_SPEC, ROOT
from tests.contract_corpus import SPEC_PATH, TOKEN, make_app
from tests.e2e.server import start

QUICK = ["--max-examples", "3", "--seed", "1"]


def contracts(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "contracts", "run", *args],
        capture_output=True, text=True, timeout=600, cwd=cwd,
    )  # fmt: skip


@pytest.fixture
def corpus_server():
    """A corpus variant on a real socket: `serve("update_does_not_update")` -> base URL."""
    servers = []

    def serve(variant: str, **kwargs) -> str:
        server = make_server("127.0.0.1", 0, make_app(variant, **kwargs), threaded=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()


def test_the_default_spec_passes_in_process(tmp_path) -> None:
    done = contracts(
        str(DEFAULT_SPEC), *QUICK, "--phases", "examples,coverage,fuzzing",
        "--junit", str(tmp_path / "junit.xml"), "--report", "json", str(tmp_path / "r.json"),
        "--markdown", str(tmp_path / "r.md"),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "0 failure(s)" in done.stdout
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot()
    assert suite.get("failures") == "0" and int(suite.get("tests")) > 28 * 10
    names = {case.get("name") for case in suite.iter("testcase")}
    assert {"pagination", "identity_and_persistence", "response_schema_conformance"} <= names
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["passed"] is True and report["cases"] > 500
    assert (tmp_path / "r.md").read_text().startswith("## Contract tests passed")


def test_a_broken_server_fails_with_a_report_a_person_can_act_on(tmp_path, corpus_server) -> None:
    base = corpus_server("update_does_not_update")
    done = contracts(
        str(SPEC_PATH), "--base-url", base, "--bearer", TOKEN, *QUICK,
        "--report", "markdown", str(tmp_path / "pr.md"), "--junit", str(tmp_path / "j.xml"),
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:]
    out = done.stdout
    assert "Sent values not kept" in out and "identity_and_persistence" in out
    assert "curl -X PATCH" in out  # the request, ready to paste
    assert "spec: #/paths/~1items~1{id}/patch" in out
    markdown = (tmp_path / "pr.md").read_text()
    assert markdown.startswith("## Contract tests failed") and "Sent values not kept" in markdown
    failures = ElementTree.parse(tmp_path / "j.xml").getroot().findall(".//failure")
    assert failures and failures[0].get("message") == "Sent values not kept"


def test_a_baseline_accepts_known_failures_and_only_those(tmp_path, corpus_server) -> None:
    base = corpus_server("reset_in_past")
    baseline = tmp_path / "baseline.json"
    args = [str(SPEC_PATH), "--base-url", base, "--bearer", TOKEN, *QUICK]
    written = contracts(*args, "--baseline", str(baseline), "--baseline-update")
    assert written.returncode == 0, written.stdout[-2000:]
    assert "X-RateLimit-Reset is in the past" in baseline.read_text()
    accepted = contracts(*args, "--baseline", str(baseline))
    assert accepted.returncode == 0, accepted.stdout[-2000:]
    assert "accepted by the baseline" in accepted.stdout
    other = corpus_server("page_not_echoed")
    still = contracts(str(SPEC_PATH), "--base-url", other, "--bearer", TOKEN, *QUICK,
                      "--baseline", str(baseline))  # fmt: skip
    assert still.returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.yaml"], "file not found"),
        ([str(DEFAULT_SPEC), "--phases", "everything"], "unknown phase"),
        ([str(DEFAULT_SPEC), "--oauth-token-url", "http://127.0.0.1:9/t"], "--client-id"),
        ([str(DEFAULT_SPEC), "--baseline", "/nonexistent/b.json"], "no baseline"),
        ([str(DEFAULT_SPEC), "-H", "no colon"], "Name: value"),
        ([str(DEFAULT_SPEC), "--base-url", "http://127.0.0.1:9/v1"], "cannot reach"),
    ],
)
def test_usage_and_spec_errors_exit_2(args, message) -> None:
    done = contracts(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr


def test_against_a_real_sandbox_with_a_bearer_key_and_with_oauth(tmp_path) -> None:
    process, base, _log = start(tmp_path, "--workers", "2", "--rate-limits", "100000/minute")
    try:
        config = json.loads(
            subprocess.run(["curl", "-s", base + "/__sandbox/config"], capture_output=True,
                           text=True, check=True).stdout
        )  # fmt: skip
        key = config["default_api_key"]
        phases = ["--phases", "examples,coverage,fuzzing"]
        with_key = contracts(str(DEFAULT_SPEC), "--base-url", base + "/v1", "--bearer", key,
                             *QUICK, *phases)  # fmt: skip
        assert with_key.returncode == 0, with_key.stdout[-3000:]
        keys = json.loads(
            subprocess.run(["curl", "-s", base + "/__sandbox/keys"], capture_output=True,
                           text=True, check=True).stdout
        )  # fmt: skip
        client = keys["oauth_clients"][0]
        with_oauth = contracts(
            str(DEFAULT_SPEC), "--base-url", base + "/v1", *QUICK, *phases,
            "--include-path", "/users", "--include-path", "/users/{id}",
            "--oauth-token-url", base + "/v1/oauth/token",
            "--client-id", client["client_id"], "--client-secret", client["client_secret"],
        )  # fmt: skip
        assert with_oauth.returncode == 0, with_oauth.stdout[-3000:]
        assert "7 operations" not in with_oauth.stdout and "operations" in with_oauth.stdout
    finally:
        process.terminate()
        process.wait(10)


def test_a_429_with_retry_after_is_waited_out_not_reported(corpus_server) -> None:
    base = corpus_server("correct", rate_limit=15, window=1)
    report = run(RunOptions(SPEC_PATH, base_url=base, bearer=TOKEN, max_examples=5, seed=1,
                            phases=("examples", "coverage")))  # fmt: skip
    assert report.failures == [] and report.errors == []
    assert report.cases > 30  # far more than 15 a second: the limit was met and waited out


INVALID_SPEC = """\
openapi: 3.0.3
info: {title: Invalid on purpose, version: '1'}
paths:
  /things:
    post:
      operationId: createThing
      not-an-openapi-field: true
      responses:
        '201':
          description: Created.
          content:
            application/json:
              schema:
                type: object
                required: [id, id]
                properties: {id: {type: string}}
"""


def test_an_invalid_spec_is_refused_with_a_way_on_and_run_with_lenient(tmp_path) -> None:
    spec = tmp_path / "invalid.yaml"
    spec.write_text(INVALID_SPEC)
    refused = contracts(str(spec), *QUICK)
    assert refused.returncode == 2 and "--lenient" in refused.stderr, refused.stderr
    done = contracts(str(spec), *QUICK, "--lenient", "--phases", "examples,coverage,fuzzing")
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "error:" not in done.stdout, done.stdout[-3000:]


PROBED_SPEC = """\
openapi: 3.0.3
info: {title: Probed, version: '1'}
paths:
  /things:
    post:
      responses:
        '201':
          description: Created.
          content:
            application/json:
              schema: {type: object, properties: {id: {type: string}}}
"""


def test_a_probe_finding_is_listed_under_the_probe_and_stateful_is_no_operation(
    tmp_path,
) -> None:
    """A TRACE answered 405 without `Allow` is the TRACE's finding, not POST /things's."""
    from flask import Flask, Response

    app = Flask("probed")

    @app.route("/things", methods=["POST", "TRACE"])
    def things():  # a TRACE refused without saying what is allowed
        from flask import request

        if request.method == "TRACE":
            return Response('{"detail": "no"}', 405, mimetype="application/json")
        return Response('{"id": "t1"}', 201, mimetype="application/json")

    spec = tmp_path / "probed.yaml"
    spec.write_text(PROBED_SPEC)
    report = run(RunOptions(spec, app=app, max_examples=3, seed=1))
    labels = {f.operation for f in report.failures}
    assert "TRACE /things" in labels, [f.fingerprint for f in report.failures]
    assert all(not label.startswith("POST") or f.check != "unsupported_method"
               for f in report.failures for label in [f.operation])  # fmt: skip
    assert list(report.operations) == ["POST /things"]  # "Stateful tests" is not one
