"""`contract_suite`: two lines in a team's own test module give one pytest test per operation
and check. Run here as a team would run it: pytest on a test file of its own.

Each operation's cases are generated and sent once, whatever the number of checks: the
target below logs Schemathesis's case id (``X-Schemathesis-TestCaseId``) of each request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from tests.conftest import ROOT

TWO_LINES = """
from contracts import contract_suite
from tests.contract_corpus import SPEC_PATH, TOKEN, make_app

test_api = contract_suite(SPEC_PATH, app=make_app("{variant}"), bearer=TOKEN, max_examples=3)
"""

# the corpus server behind a WSGI wrapper that logs each request; and a check of the team's
# own failing on one answer, or (DROP) the connection of each DELETE of an item dropped
WRAPPED = """
import json
import socket

import schemathesis

from contracts import contract_suite
from tests.contract_corpus import SPEC_PATH, TOKEN, make_app

DROP = {drop!r}
served = make_app("correct")
planted = []


def target(environ, start_response):
    with open({log!r}, "a") as log:
        log.write(json.dumps([environ["REQUEST_METHOD"], environ["PATH_INFO"],
                              environ.get("HTTP_X_SCHEMATHESIS_TESTCASEID")]) + "\\n")
    if DROP and environ["REQUEST_METHOD"] == "DELETE" and environ["PATH_INFO"] != "/items":
        environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
    return served(environ, start_response)


@schemathesis.check
def first_created_only(ctx, response, case):  # fails on one answer: the first item created
    if DROP or planted or case.operation.label != "POST /items" or response.status_code != 201:
        return None
    planted.append(case.id)
    raise AssertionError("planted: the first item created fails this check")


test_api = contract_suite(SPEC_PATH, app=target, bearer=TOKEN, max_examples=3)
"""

OPERATIONS = ["GET /items", "POST /items", "GET /items/{id}", "PUT /items/{id}",
              "PATCH /items/{id}", "DELETE /items/{id}"]  # fmt: skip

REVERSED = """
def pytest_collection_modifyitems(items):
    items.reverse()  # the last check of the last operation first
"""


def pytest_on(tmp_path, source: str, *args: str) -> subprocess.CompletedProcess:
    module = tmp_path / "test_our_api.py"
    module.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(module), "-q", "-rf", "-p", "no:cacheprovider",
         "-p", "no:randomly", "--rootdir", str(tmp_path), *args],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def failed_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("FAILED")]


def failed_tests(out: str) -> list[str]:
    """``test_api[GET /items][pagination]`` for each failed test, sorted."""
    return sorted(line.split("::")[1].split(" - ")[0] for line in failed_lines(out))


def count(out: str, outcome: str) -> int:
    counts = out.strip().splitlines()[-1]
    return int(counts.split(f" {outcome}")[0].split()[-1]) if f" {outcome}" in counts else 0


@pytest.mark.parametrize(
    ("variant", "failing"),
    [("correct", None), ("remaining_above_limit", "rate_limit_headers")],
)
def test_one_test_per_operation_and_check(tmp_path, variant, failing) -> None:
    done = pytest_on(tmp_path, TWO_LINES.format(variant=variant))
    out = done.stdout
    counts = out.strip().splitlines()[-1]
    if failing is None:
        assert done.returncode == 0, out[-3000:]
        assert " passed" in counts and "failed" not in counts
        passed = int(counts.split(" passed")[0].split()[-1])
        assert passed >= 7 * 12  # 7 operations, a dozen checks or more each
        return
    assert done.returncode == 1, out[-3000:]
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert any(failing in line and "GET /items/{id}" in line for line in failed), failed
    assert len(failed) >= 6  # every operation sends the header
    assert all(failing in line for line in failed), failed  # one broken promise, one check


BROKEN = {
    "accepts_invalid": ["POST /items][negative_data_rejection"],
    "rejects_valid": [f"{label}][positive_data_acceptance"
                      for label in ("POST /items", "PUT /items/{id}", "PATCH /items/{id}")],
    "remaining_ignores_requests": [f"{label}][rate_limit_headers" for label in OPERATIONS],
}  # fmt: skip


def test_each_broken_promise_fails_its_own_tests(tmp_path) -> None:
    """Three suites in one module, each on a server breaking one promise: the coverage
    phase's invalid cases are judged as invalid (each stored case says what it was meant to
    be), valid ones as valid; and every request a suite sends is counted against
    ``Remaining`` (before, each check's test sent its own cases, those of the other checks'
    tests went uncounted, and a server claiming a few more left than it had passed)."""
    source = "".join(TWO_LINES.replace("test_api =", f"test_{variant} =").format(variant=variant)
                     for variant in BROKEN)  # fmt: skip
    done = pytest_on(tmp_path, source)
    out = done.stdout
    assert done.returncode == 1, out[-3000:]
    expected = sorted(f"test_{variant}[{label}]"
                      for variant, labels in BROKEN.items() for label in labels)  # fmt: skip
    assert failed_tests(out) == expected, out[-3000:]


def test_each_case_is_sent_once_and_judged_by_every_check(tmp_path) -> None:
    """Six operations, a check of the team's own beside ours and Schemathesis's: every
    case reaches the server once (before, once per check: 18 times with 18 checks); the one
    answer the team's check fails on fails that (operation, check) test alone, with the
    request to reproduce; the tests run in reverse order."""
    log = tmp_path / "sent.jsonl"
    (tmp_path / "conftest.py").write_text(REVERSED)
    done = pytest_on(tmp_path, WRAPPED.format(log=str(log), drop=False))
    out = done.stdout
    assert done.returncode == 1, out[-3000:]
    assert failed_tests(out) == ["test_api[POST /items][first_created_only]"], out[-3000:]
    assert "planted: the first item created fails this check" in out
    assert "Reproduce with:" in out and "curl -X POST" in out
    assert count(out, "failed") == 1 and count(out, "passed") >= 6 * 13 - 1

    sent = [json.loads(line) for line in log.read_text().splitlines()]
    cases = Counter(case_id for _, _, case_id in sent if case_id)
    assert cases and max(cases.values()) == 1, cases.most_common(3)
    reached = {f"{method} {'/items' if path == '/items' else '/items/{id}'}"
               for method, path, _ in sent}  # fmt: skip
    assert set(OPERATIONS) <= reached


def test_a_connection_lost_fails_that_operations_tests_clearly(tmp_path) -> None:
    """The server drops each ``DELETE /items/{id}`` unanswered: every test of that operation
    fails saying so, with the request; collection and the other operations are untouched."""
    done = pytest_on(tmp_path, WRAPPED.format(log=str(tmp_path / "sent.jsonl"), drop=True))
    out = done.stdout
    assert done.returncode == 1, out[-3000:]
    failed = failed_lines(out)
    assert count(out, "failed") == len(failed) >= 13, out[-3000:]
    assert all("[DELETE /items/{id}]" in line for line in failed), failed
    assert count(out, "passed") == 5 * len(failed), out[-3000:]
    assert "DELETE /items/{id}: a case could not be sent, so no later one was" in out
    assert "Remote end closed connection without response" in out
    assert "Reproduce with:" in out and "curl -X DELETE" in out


@pytest.mark.parametrize(
    ("args", "failing"),
    [
        # one test alone: its operation's cases are sent for it
        (("-k", "DELETE and rate_limit_headers"), ["DELETE /items/{id}"]),
        # two processes, each sending an operation's cases at most once
        (("-n", "2"), OPERATIONS),
    ],
    ids=["one-test", "xdist"],
)
def test_any_test_alone_or_on_any_worker(tmp_path, args, failing) -> None:
    done = pytest_on(tmp_path, TWO_LINES.format(variant="remaining_above_limit"), *args)
    out = done.stdout
    assert done.returncode == 1, out[-3000:]
    expected = sorted(f"test_api[{label}][rate_limit_headers]" for label in failing)
    assert failed_tests(out) == expected, out[-3000:]
