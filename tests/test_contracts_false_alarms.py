"""False alarms seen on real applications, as regression tests on a correct server written
the way FastAPI apps answer (tests/contract_corpus/accounts.py), and the auth and
account-safety a team needs to point the runner at such an API."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from contracts.runner import RunOptions, run
from tests.contract_corpus.accounts import (
    ACCOUNTS_SPEC,
    ADMIN_EMAIL,
    ADMIN_ID,
    ADMIN_PASSWORD,
    make_accounts_app,
)
from tests.contract_corpus.teams import TEAMS_SPEC, make_teams_app

OURS = {"envelope_conformance", "error_shape", "rate_limit_headers", "pagination",
        "identity_and_persistence", "webhook_delivery"}  # fmt: skip
QUICK = {"max_examples": 10, "seed": 1}


def admin_of(app) -> dict:
    """The account the run acted as, as the server keeps it now."""
    client = app.test_client()
    form = {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    token = client.post("/login/access-token", data=form).json
    assert token is not None and "access_token" in token, token
    me = client.get("/users/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    return dict(me.json)


@pytest.fixture
def served() -> Iterator:
    servers = []

    def serve(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()


def test_a_correct_fastapi_style_server_gets_no_finding_from_our_checks() -> None:
    """Its 422 is exactly the declared HTTPValidationError; its undeclared 404s and 405s
    carry FastAPI's {"detail": "..."}, which no rule of the spec covers; Spotify's declared
    {"error": {"status", "message"}} has no code to ask for; an OPTIONS probe sent under
    PATCH /users/{user_id} is not a PATCH; the spec has an unquoted YAML date. The login is
    the spec's own password flow, and the account the run acts as survives it."""
    app = make_accounts_app()
    report = run(RunOptions(ACCOUNTS_SPEC, app=app, username=ADMIN_EMAIL,
                            password=ADMIN_PASSWORD, **QUICK))  # fmt: skip
    ours = [f.fingerprint for f in report.failures if f.check in OURS]
    assert ours == []
    # what Schemathesis reports is the spec's own gap: FastAPI declares no 404
    assert {(f.check, f.status) for f in report.failures} <= {("status_code_conformance", 404)}
    assert report.errors == []
    assert report.requests["coverage"] > 30 and report.cases > 100
    assert report.probes, "the coverage phase's undeclared-method probes were sent"
    admin = admin_of(app)
    assert admin["is_active"] and admin["is_superuser"] and admin["id"] == ADMIN_ID
    assert "DELETE /users/me (changes the account the run acts as)" in report.skipped
    assert "PATCH /users/me (changes the account the run acts as)" in report.skipped
    assert ADMIN_ID in report.principal
    # Schemathesis learns u-1 from GET /users and tries DELETE /users/u-1: sent elsewhere
    assert "; 0 write(s)" not in report.principal, report.principal
    assert "SANDBOX_TOKEN" in report.variables


def test_a_schema_violating_body_the_server_coerces_is_not_judged_as_sent() -> None:
    """{"is_superuser": 0} is not a boolean: accepting it is Schemathesis's finding
    (negative data accepted); that the server then keeps false, not 0, is no finding of
    ours."""
    report = run(RunOptions(ACCOUNTS_SPEC, app=make_accounts_app("lenient_booleans"),
                            username=ADMIN_EMAIL, password=ADMIN_PASSWORD, **QUICK))  # fmt: skip
    assert [f.fingerprint for f in report.failures if f.check in OURS] == []


def test_an_echoed_id_is_compared_decoded_and_a_mangled_one_is_reported() -> None:
    """``GET /tracks/%C2%9D`` asks for ``"\x9d"``; echoing it is right, dropping it is not."""
    options = {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "max_examples": 30,
               "seed": 1, "include_path": ("/tracks/{id}",),
               "phases": ("examples", "coverage", "fuzzing")}  # fmt: skip
    correct = run(RunOptions(ACCOUNTS_SPEC, app=make_accounts_app(), **options))
    assert correct.failures == [], [f.fingerprint for f in correct.failures]
    assert list(correct.operations) == ["GET /tracks/{id}"]
    mangled = run(RunOptions(ACCOUNTS_SPEC, app=make_accounts_app("echo_mangles_id"), **options))
    found = [f for f in mangled.failures if f.check == "identity_and_persistence"]
    assert found and found[0].title == "GET returned another resource", mangled.failures


def test_a_token_from_a_command_and_reproductions_that_paste(served, tmp_path) -> None:
    """--auth-command: a login script of the team's own; every curl reads the token from
    $SANDBOX_TOKEN, and the token itself appears nowhere in the report."""
    app = make_accounts_app("echo_mangles_id")
    base = served(app)
    script = tmp_path / "login.py"
    script.write_text(
        "import json, urllib.parse, urllib.request\n"
        f"form = urllib.parse.urlencode({{'username': {ADMIN_EMAIL!r}, "
        f"'password': {ADMIN_PASSWORD!r}}}).encode()\n"
        f"print(urllib.request.urlopen({base + '/login/access-token'!r}, form).read().decode())\n"
    )
    report = run(RunOptions(ACCOUNTS_SPEC, base_url=base,
                            auth_command=f"{shlex.quote(sys.executable)} {script}",
                            include_path=("/tracks/{id}",), max_examples=30, seed=1,
                            phases=("coverage", "fuzzing")))  # fmt: skip
    failures = [f for f in report.failures if f.check == "identity_and_persistence"]
    assert failures, report.failures
    assert all('"$SANDBOX_TOKEN"' in f.curl for f in failures)
    assert "the token printed by" in report.variables["SANDBOX_TOKEN"]
    dumped = json.dumps(report.as_dict())
    issued = list(app.config["ISSUED_TOKENS"])
    assert issued and not any(token in dumped for token in issued)
    # pasted into a shell with the variable set, the reproduction gets the same answer
    pasted = subprocess.run(
        ["bash", "-c", failures[0].curl + " -s -o /dev/null -w '%{http_code}'"],
        capture_output=True, text=True, timeout=30,
        env={"PATH": os.environ["PATH"], "SANDBOX_TOKEN": issued[-1]},
    )  # fmt: skip
    assert pasted.stdout == str(failures[0].status), (failures[0].curl, pasted.stderr)


def test_a_command_token_is_fetched_again_when_it_expires(tmp_path) -> None:
    """The command says its token lives 31 s; fetched 30 s early, it is already due again."""
    from contracts.auth import CommandToken
    from contracts.reproduce import Secrets

    script = tmp_path / "login.py"
    script.write_text(
        "import json, pathlib\n"
        f"counter = pathlib.Path({str(tmp_path / 'count')!r})\n"
        "n = int(counter.read_text()) + 1 if counter.exists() else 1\n"
        "counter.write_text(str(n))\n"
        "print(json.dumps({'access_token': f'token-number-{n}', 'expires_in': 31}))\n"
    )
    secrets = Secrets()
    tokens = CommandToken(secrets, None, command=f"{shlex.quote(sys.executable)} {script}")
    first = tokens.token()
    import time

    time.sleep(1.2)
    assert first == "token-number-1" and tokens.token() == "token-number-2"
    assert secrets.mask("Bearer token-number-2") == "Bearer $SANDBOX_TOKEN"


def test_a_created_thing_is_read_by_the_key_its_reader_names() -> None:
    """``GET /teams/{team_slug}`` reads a created team by its ``slug``, not its ``id``; a
    ``parent`` sent as a number is answered as an object, which no server could show back
    as sent (GitHub's ``/orgs/{org}/teams``, ``milestone``, ``head``). A server that drops
    what it could have kept is still reported."""
    options = {"max_examples": 15, "seed": 1, "phases": ("examples", "fuzzing")}
    correct = run(RunOptions(TEAMS_SPEC, app=make_teams_app(), **options))
    assert [f.fingerprint for f in correct.failures if f.check in OURS] == []
    assert correct.operations["POST /teams"].statuses[201] > 0
    forgets = run(RunOptions(TEAMS_SPEC, app=make_teams_app("forgets_privacy"), **options))
    found = {(f.operation, f.title) for f in forgets.failures if f.check in OURS}
    assert ("POST /teams", "Sent values not kept") in found, forgets.failures


KEYED = """\
openapi: 3.0.3
info: {title: Keyed, version: "1"}
paths:
  /orgs/{org}/memberships/{username}:
    get:
      parameters:
        - {name: org, in: path, required: true, schema: {type: string, enum: [acme]}}
        - {name: username, in: path, required: true, schema: {type: string, enum: [Ada, bob]}}
      responses:
        "200":
          description: it
          content:
            application/json:
              schema:
                type: object
                required: [role, user]
                properties:
                  role: {type: string}
                  user:
                    type: object
                    required: [login, id]
                    properties: {login: {type: string}, id: {type: integer}}
  /licenses/{license}:
    get:
      parameters: [{name: license, in: path, required: true, schema: {type: string, enum: [mit]}}]
      responses:
        "200":
          description: it
          content:
            application/json:
              schema:
                type: object
                required: [key, name]
                properties: {key: {type: string}, name: {type: string}}
"""


def _keyed_app(mangled: bool):
    from flask import Flask, jsonify

    app = Flask("keyed")

    @app.get("/orgs/<org>/memberships/<username>")
    def membership(org: str, username: str):
        login = "someone-else" if mangled else username.lower()  # logins in any case
        return jsonify({"role": "admin", "user": {"login": login, "id": 7}})

    @app.get("/licenses/<license>")
    def license_(license: str):
        return jsonify({"key": license, "name": "MIT License"})

    return app


def test_an_item_is_judged_by_what_its_path_parameter_plainly_names(tmp_path) -> None:
    """A membership's ``{username}`` is its ``user.login`` (in any case: GitHub answers
    ``octocat`` to ``OCTOCAT``), so another login is another resource; a license's
    ``name`` is only a guess at what ``{license}`` names (it is its ``key``), and a name
    that differs is no finding."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(KEYED)
    options = {"max_examples": 5, "seed": 1, "phases": ("examples", "fuzzing")}
    correct = run(RunOptions(spec, app=_keyed_app(False), **options))
    assert [f.fingerprint for f in correct.failures if f.check in OURS] == []
    assert correct.operations["GET /licenses/{license}"].statuses[200] > 0
    mangled = run(RunOptions(spec, app=_keyed_app(True), **options))
    found = {(f.operation, f.title) for f in mangled.failures if f.check in OURS}
    assert found == {("GET /orgs/{org}/memberships/{username}", "GET returned another resource")}
