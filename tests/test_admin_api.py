"""The admin API under /__sandbox: its own OpenAPI document (checked against the routes and
against real answers), the request journal, config, metrics, JSON logs and the admin token."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from importlib import resources

import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_spec_validator import validate
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from sandbox import create_app, load_settings
from sandbox.observe.log import JsonLines, configure_logging
from tests.conftest import DEFAULT_SPEC

ADMIN_DOC = yaml.safe_load(
    resources.files("sandbox.admin").joinpath("openapi.yaml").read_text("utf-8")
)


def make(tmp_path, **overrides):
    settings = load_settings(
        DEFAULT_SPEC, environ={}, overrides={"state": str(tmp_path / "s"), **overrides}
    )
    app = create_app(DEFAULT_SPEC, settings)
    client = app.test_client()
    return (
        client,
        app.extensions["sandbox"],
        {"Authorization": f"Bearer {settings.default_api_key}"},
    )


def test_the_admin_document_is_valid_and_describes_every_admin_route(tmp_path) -> None:
    validate(ADMIN_DOC)
    client, _, _ = make(tmp_path)
    app = client.application
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/__sandbox") or rule.endpoint.endswith(".static"):
            continue
        path = rule.rule.removeprefix("/__sandbox").replace("<", "{").replace(">", "}") or "/"
        if path == "/" and rule.rule == "/__sandbox":
            continue  # the redirect to /__sandbox/
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((method.lower(), path))
    documented = {
        (method, path)
        for path, item in ADMIN_DOC["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }
    assert served == documented


def _check(openapi: OpenAPI, response) -> None:
    asked = response.request
    twin = Request(
        EnvironBuilder(
            path=asked.path, method=asked.method, query_string=asked.query_string.decode()
        ).get_environ()
    )
    openapi.validate_response(WerkzeugOpenAPIRequest(twin), WerkzeugOpenAPIResponse(response))


def test_real_admin_answers_match_the_admin_document(tmp_path) -> None:
    client, _sandbox, auth = make(tmp_path)
    openapi = OpenAPI.from_dict({**ADMIN_DOC, "servers": [{"url": "http://localhost/__sandbox"}]})
    client.get("/v1/users", headers=auth)
    client.post("/v1/users", json={"name": "x"}, headers=auth)  # a journaled 400
    key = client.post("/__sandbox/keys", json={"plan": "free"})
    hook = client.post("/__sandbox/webhooks", json={"url": "http://127.0.0.1:9/none"})
    event = client.post("/__sandbox/events", json={"type": "user.created"})
    delivery_id = event.json["deliveries"][0]
    active = client.post("/__sandbox/scenarios/active", json={"scenario": "slow", "count": 2})
    answers = [
        client.get("/__sandbox/health"),
        client.get("/__sandbox/config"),
        client.get("/__sandbox/metrics"),
        client.get("/__sandbox/openapi.yaml"),
        client.get("/__sandbox/requests"),
        client.get("/__sandbox/requests?status=4xx&limit=5"),
        client.get("/__sandbox/requests?since=x"),
        client.get("/__sandbox/usage"),
        client.get("/__sandbox/keys"),
        key,
        client.post("/__sandbox/keys", json={"plan": "gold"}),
        client.get("/__sandbox/scenarios"),
        active,
        client.get("/__sandbox/scenarios/active"),
        client.post("/__sandbox/scenarios/active", json={"scenario": "nope"}),
        client.delete(f"/__sandbox/scenarios/active/{active.json['id']}"),
        client.delete("/__sandbox/scenarios/active/scn_none"),
        client.delete("/__sandbox/scenarios/active"),
        client.put("/__sandbox/chaos", json={"error_rate": 0.5, "latency": "1..2ms"}),
        client.get("/__sandbox/chaos"),
        client.delete("/__sandbox/chaos"),
        client.put("/__sandbox/chaos", json={"error_rate": 5}),
        hook,
        client.get("/__sandbox/webhooks"),
        event,
        client.post(f"/__sandbox/webhooks/{hook.json['id']}/rotate"),
        client.get("/__sandbox/webhooks/deliveries"),
        client.get(f"/__sandbox/webhooks/deliveries/{delivery_id}"),
        client.post(f"/__sandbox/webhooks/deliveries/{delivery_id}/redeliver"),
        client.get("/__sandbox/webhooks/deliveries/dlv_none"),
        client.delete(f"/__sandbox/webhooks/{hook.json['id']}"),
        client.delete(f"/__sandbox/keys/{key.json['key']}"),
        client.delete("/__sandbox/requests"),
        client.post("/__sandbox/reset"),
    ]
    for answer in answers:
        _check(openapi, answer)
    assert {a.status_code for a in answers} >= {200, 201, 202, 204, 400, 404}


def test_the_journal_records_requests_with_their_problems(tmp_path) -> None:
    client, _, auth = make(tmp_path)
    client.get("/v1/users?limit=2", headers=auth)
    client.post("/v1/users", json={"name": "x", "email": "nope"}, headers=auth)
    client.get("/v1/users", headers={**auth, "X-Sandbox-Scenario": "not_found"})
    client.get("/v1/nowhere", headers=auth)
    entries = client.get("/__sandbox/requests").json["requests"]
    assert [e["status"] for e in entries] == [404, 404, 400, 200]
    unmatched, scenario, invalid, listed = entries
    assert unmatched["operation"] is None and unmatched["path"] == "/v1/nowhere"
    assert scenario["scenario"] == "not_found" and scenario["operation"] == "listUsers"
    assert invalid["operation"] == "createUser" and invalid["route"] == "POST /users"
    assert any(p["field"].endswith("email") for p in invalid["problems"])
    assert json.loads(invalid["request"]["body"]) == {"name": "x", "email": "nope"}
    assert listed["query"] == "limit=2" and listed["latency_ms"] > 0
    assert json.loads(listed["response"]["body"])["meta"]["limit"] == 2
    assert listed["response"]["headers"]["X-RateLimit-Limit"]
    # the credential is shortened in the headers: enough to tell keys apart, not to use one
    shown = listed["request"]["headers"]["Authorization"]
    assert shown.endswith("…") and auth["Authorization"] not in shown
    assert listed["request_id"] == listed["response"]["headers"]["X-Request-Id"]


def test_a_journal_entry_is_the_request_and_answer_as_they_were_served(tmp_path) -> None:
    """Entries are made when the journal writes them, from what was taken while serving:
    an unrouted request's body (its stream is gone by then), the answer's headers before
    the CORS ones every answer gets last; and one that cannot be made costs only itself."""
    client, sandbox, auth = make(tmp_path)
    browser = {**auth, "Origin": "https://app.example"}
    client.post("/v1/nowhere", data=b"sent along", headers=browser)
    listed = client.get("/v1/users", headers=browser)
    assert listed.headers["Access-Control-Allow-Origin"] == "*"
    sandbox.journal.record(lambda: 1 / 0)  # type: ignore[arg-type, return-value]
    client.get("/v1/users?limit=1", headers=auth)
    entries = client.get("/__sandbox/requests").json["requests"]
    assert [e["path"] for e in entries] == ["/v1/users", "/v1/users", "/v1/nowhere"]
    assert entries[2]["request"]["body"] == "sent along" and entries[2]["status"] == 404
    assert "Access-Control-Allow-Origin" not in entries[1]["response"]["headers"]
    shown = entries[1]["response"]["body"]  # an excerpt: the first 4096 characters
    assert len(shown) > 1000 and listed.get_data(as_text=True).startswith(shown.removesuffix("…"))


def test_journal_filters(tmp_path) -> None:
    client, _, auth = make(tmp_path)
    for _ in range(3):
        client.get("/v1/users", headers=auth)
    client.get("/v1/orders", headers=auth)
    client.post("/v1/users", json={}, headers=auth)
    client.get("/v1/users", headers={**auth, "X-Sandbox-Scenario": "conflict"})

    def ids(query: str) -> list[int]:
        answer = client.get(f"/__sandbox/requests?{query}")
        assert answer.status_code == 200, answer.json
        return [e["id"] for e in answer.json["requests"]]

    everything = ids("")
    assert len(everything) == 6
    assert len(ids("operation=listUsers")) == 4
    assert len(ids("method=post")) == 1
    assert len(ids("status=4xx")) == 2 and len(ids("status=409")) == 1
    assert len(ids("path=/orders")) == 1
    assert len(ids("scenario=conflict")) == 1
    assert len(ids("problems=true")) == 1 and len(ids("problems=false")) == 5
    assert ids(f"since={everything[2]}") == everything[:2]
    assert ids("limit=2") == everything[:2]
    for bad in ("status=6xx", "since=soon", "problems=maybe"):
        refused = client.get(f"/__sandbox/requests?{bad}")
        assert refused.status_code == 400 and refused.json["error"]["code"] == "invalid_filter"


def test_the_journal_keeps_the_last_n_and_is_shared_by_workers(tmp_path) -> None:
    client, _, auth = make(tmp_path, journal_size=5)
    other = create_app(DEFAULT_SPEC, client.application.extensions["sandbox"].settings)
    for _ in range(4):
        client.get("/v1/users", headers=auth)
        other.test_client().get("/v1/orders", headers=auth)
    other.extensions["sandbox"].journal.flush()  # the other worker's writer runs behind
    entries = client.get("/__sandbox/requests?limit=100").json["requests"]
    assert len(entries) == 5
    assert {e["operation"] for e in entries} == {"listUsers", "listOrders"}


def test_config_shows_the_settings_but_no_secrets(tmp_path) -> None:
    client, sandbox, _ = make(
        tmp_path,
        callback_secret="whsec_hidden",
        oauth_clients=[{"client_id": "c", "client_secret": "s3cr3t"}],
    )
    config = client.get("/__sandbox/config").json
    text = json.dumps(config)
    assert "whsec_hidden" not in text and "s3cr3t" not in text
    assert config["spec"]["base_path"] == "/v1"
    assert {
        "operationId": "listUsers",
        "method": "GET",
        "path": "/users",
        "tags": config["operations"][0]["tags"],
    } in config["operations"]
    assert config["settings"]["journal_size"] == 1000
    assert config["admin_token_required"] is False
    assert config["default_api_key"] == sandbox.settings.default_api_key


def test_metrics_count_requests_latency_rejections_and_deliveries(tmp_path) -> None:
    client, _, auth = make(tmp_path, rate_limits="3/minute")
    for _ in range(4):
        client.get("/v1/users", headers=auth)
    client.post("/__sandbox/webhooks", json={"url": "http://127.0.0.1:9/none"})
    client.post("/__sandbox/events", json={"type": "user.created"})
    text = client.get("/__sandbox/metrics").get_data(as_text=True)
    assert 'sandbox_requests_total{method="GET",operation="listUsers",status="200"} 3.0' in text
    assert 'sandbox_requests_total{method="GET",operation="listUsers",status="429"} 1.0' in text
    assert 'sandbox_request_duration_seconds_count{operation="listUsers"} 4.0' in text
    assert 'sandbox_request_duration_seconds_bucket{le="0.001",operation="listUsers"}' in text
    assert 'sandbox_rate_limit_rejections_total{plan="default"} 1.0' in text
    # the delivery thread may already have tried the (closed) port: one delivery either way
    states = dict(re.findall(r'sandbox_webhook_deliveries\{state="(\w+)"\} ([\d.]+)', text))
    assert sum(float(v) for v in states.values()) == 1.0 and set(states) >= {"pending", "failed"}
    assert re.search(r'sandbox_webhook_attempts_total\{outcome="failure"\} [01]\.0', text)


def test_one_json_log_line_per_request(tmp_path) -> None:
    client, _, auth = make(tmp_path)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("sandbox.requests")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        client.get("/v1/users", headers={**auth, "X-Request-Id": "trace-123"})
        client.get("/v1/users", headers={**auth, "X-Sandbox-Scenario": "conflict"})
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert first["event"] == "request" and first["request_id"] == "trace-123"
    assert first["operation"] == "listUsers" and first["status"] == 200
    assert first["latency_ms"] > 0 and first["level"] == "info" and first["ts"].endswith("Z")
    assert second["status"] == 409 and second["scenario"] == "conflict"


def test_served_request_lines_are_the_same_json_written_the_short_way(tmp_path) -> None:
    """`sandbox serve`'s own JSON handler gets request lines without a LogRecord (11 µs of
    CPU a request that way, 3 this way): the same line, written straight to its stream."""
    client, _, auth = make(tmp_path)
    root = logging.getLogger("sandbox")
    saved = (
        root.handlers[:],
        root.propagate,
        root.level,
        logging.getLogger("sandbox.requests").disabled,
    )
    try:
        configure_logging("json")
        stream = io.StringIO()
        handler = root.handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
        client.get("/v1/users", headers={**auth, "X-Request-Id": "trace-456"})
        logging.getLogger("sandbox").warning("not a request")
    finally:
        root.handlers[:], root.propagate, root.level = saved[0], saved[1], saved[2]
        logging.getLogger("sandbox.requests").disabled = saved[3]
    request, other = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert list(request)[:4] == ["ts", "level", "logger", "pid"]
    assert request["ts"].endswith("Z") and len(request["ts"]) == len("2025-01-01T00:00:00.000Z")
    assert request["level"] == "info" and request["logger"] == "sandbox.requests"
    assert request["pid"] == os.getpid() and request["request_id"] == "trace-456"
    assert request["status"] == 200 and "scenario" not in request  # None fields left out
    assert other["message"] == "not a request" and other["level"] == "warning"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20"])
def test_beyond_loopback_the_admin_api_needs_the_token(tmp_path, host) -> None:
    client, _sandbox, auth = make(tmp_path, host=host, admin_token="adm_test")
    refused = client.get("/__sandbox/requests")
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "admin_token_required"
    assert "Authorization: Bearer" in refused.json["error"]["message"]
    assert (
        client.get("/__sandbox/requests", headers={"Authorization": "Bearer wrong"}).status_code
        == 401
    )
    assert (
        client.get("/__sandbox/requests", headers={"Authorization": "Bearer adm_test"}).status_code
        == 200
    )
    assert (
        client.post("/__sandbox/reset", headers={"X-Sandbox-Admin-Token": "adm_test"}).status_code
        == 200
    )
    assert client.get("/__sandbox/health").status_code == 200  # load balancers need no token
    assert client.get("/v1/users", headers=auth).status_code == 200  # the API is not affected


def test_a_token_is_made_when_none_is_given_and_loopback_stays_open(tmp_path) -> None:
    _, sandbox, _ = make(tmp_path, host="0.0.0.0")
    assert sandbox.admin_token and sandbox.admin_token.startswith("adm_")
    for host in ("127.0.0.1", "localhost", "::1"):
        client, sandbox, _ = make(tmp_path, host=host)
        assert sandbox.admin_token is None
        assert client.get("/__sandbox/requests").status_code == 200
