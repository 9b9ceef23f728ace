"""The admin API keeps its own OpenAPI document: routed and validated by it, as
Schemathesis (`st run --checks all`) confirms against a real server."""

from __future__ import annotations

import pytest
import yaml

from tests.schemathesis_cli import run_schemathesis


@pytest.fixture
def admin(client):
    return client


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/__sandbox/health", "GET"), ("/__sandbox/keys", "GET, POST"),
     ("/__sandbox/keys/sk_test_x", "DELETE"), ("/__sandbox/chaos", "DELETE, GET, PUT"),
     ("/__sandbox/webhooks/whk_1/rotate", "POST"), ("/__sandbox/", "GET")],
)  # fmt: skip
def test_undeclared_methods_are_405_with_the_declared_ones(admin, path, allowed) -> None:
    for method in ("TRACE", "OPTIONS", "PATCH"):
        answer = admin.open(path, method=method)
        assert answer.status_code == 405, (method, path, answer.status_code)
        assert answer.headers["Allow"] == allowed
        assert answer.json["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [("GET", "/__sandbox/webhooks/deliveries?status=AAA", None, "status"),
     ("GET", "/__sandbox/requests?limit=-2", None, "limit"),
     ("PUT", "/__sandbox/chaos", None, "body"),
     ("POST", "/__sandbox/events", {"type": "user.created", "tenant": False}, "tenant"),
     ("POST", "/__sandbox/events", {"type": "user.created", "surprise": 1}, "surprise"),
     ("POST", "/__sandbox/keys", {"plan": "gold"}, "plan"),
     ("POST", "/__sandbox/webhooks", {"url": "http://127.0.0.1:9/x", "events": [""]}, "events"),
     ("POST", "/__sandbox/scenarios/active", {"scenario": "slow", "params": {"fails": "2"}},
      "params.fails")],  # the branch the value was meant for (scenario: slow) speaks
)  # fmt: skip
def test_requests_that_break_the_document_are_400s_naming_the_field(
    admin, method, path, body, field
) -> None:
    answer = admin.open(path, method=method, json=body)
    assert answer.status_code == 400, answer.json
    error = answer.json["error"]
    assert field in error["message"] or any(field in d["field"] for d in error["details"])


def test_the_served_document_names_this_sandboxs_plans_and_scenarios(admin) -> None:
    document = yaml.safe_load(admin.get("/__sandbox/openapi.yaml").get_data(as_text=True))
    create_key = document["paths"]["/keys"]["post"]["requestBody"]["content"]
    plans = create_key["application/json"]["schema"]["properties"]["plan"]["enum"]
    assert {"free", "pro", "default"} <= set(plans)
    activate = document["paths"]["/scenarios/active"]["post"]["requestBody"]["content"]
    branches = activate["application/json"]["schema"]["oneOf"]
    flaky = next(b for b in branches if b["title"] == "flaky")
    assert set(flaky["properties"]["params"]["properties"]) == {"fails", "status"}


def test_schemathesis_finds_nothing_in_the_admin_api(live_server_factory, tmp_path) -> None:
    """Every check, every phase, against a real server: the document and the handlers agree.
    Rate limits are off so the run is about the admin API, not the plan. A 422 is the
    document's own answer to a well-formed request refused on meaning (a webhook URL the
    SSRF policy refuses, a latency over the limit), so it counts as accepting valid data."""
    live = live_server_factory(rate_limits="")
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[checks.positive_data_acceptance]\n"
        'expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]\n'
    )
    output = run_schemathesis(
        live.origin + "/__sandbox/openapi.yaml", live.origin + "/__sandbox", live.api_key,
        "--checks", "all", "--max-examples", "20", config=config,
    )  # fmt: skip
    assert "No issues found" in output or "passed" in output, output[-3000:]
