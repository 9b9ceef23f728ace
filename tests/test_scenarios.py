"""Error scenarios: every preset by header, scoped scenarios through the admin API, chaos, and
each error body checked against the spec's schema for its status."""

from __future__ import annotations

import json
import time

import pytest
from jsonschema import Draft4Validator
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from referencing import Registry, Resource
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from sandbox import create_app, load_settings, load_spec
from sandbox.http.held import HOLDS_ANSWERS, WAIT
from sandbox.scenarios.presets import PRESETS
from tests.conftest import DEFAULT_SPEC

SPEC = load_spec(DEFAULT_SPEC)
OPENAPI = OpenAPI.from_dict({**SPEC.document, "servers": [{"url": "http://localhost/v1"}]})
_REGISTRY = Registry().with_resource("spec", Resource.opaque(SPEC.document))


def conforms(response, schema_ref: str = "#/components/schemas/ErrorResponse") -> None:
    """Declared status: openapi-core's own response validation (body, headers). Undeclared
    (503 and 504 on openapi.yaml): the spec's common error schema."""
    try:
        asked = response.request  # its body is spent: a bodiless twin finds the operation
        twin = Request(EnvironBuilder(path=asked.path, method=asked.method).get_environ())
        OPENAPI.validate_response(WerkzeugOpenAPIRequest(twin), WerkzeugOpenAPIResponse(response))
    except Exception as exc:
        if "Unknown response http status" not in str(exc):
            raise AssertionError(f"{response.status_code} breaks the spec: {exc!r}") from exc
        schema = {"$ref": "spec" + schema_ref}
        errors = list(Draft4Validator(schema, registry=_REGISTRY).iter_errors(response.get_json()))
        assert not errors, errors


@pytest.fixture
def made(tmp_path):
    settings = load_settings(
        DEFAULT_SPEC,
        environ={},
        overrides={"state": str(tmp_path / "s"), "rate_limits": "100000/minute"},
    )
    app = create_app(DEFAULT_SPEC, settings)
    sandbox = app.extensions["sandbox"]
    waits: list[float] = []
    sandbox.sleep = waits.append  # long waits are recorded, not slept
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {settings.default_api_key}"
    return client, sandbox, waits


def with_scenario(client, value: str, path: str = "/v1/users", method: str = "get", **kw):
    return client.open(path, method=method, headers={"X-Sandbox-Scenario": value}, **kw)


ERRORS = {
    "unauthorized": (401, "invalid_api_key"),
    "forbidden": (403, "insufficient_scope"),
    "not_found": (404, "NOT_FOUND"),
    "validation_error": (400, "VALIDATION_ERROR"),
    "conflict": (409, "CONFLICT"),
    "server_error": (500, "INTERNAL_ERROR"),
    "unavailable": (503, "SERVICE_UNAVAILABLE"),
    "timeout": (504, "GATEWAY_TIMEOUT"),
    "rate_limited": (429, "rate_limit_exceeded"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_each_error_preset_answers_its_status_in_the_spec_error_shape(made, name) -> None:
    client, _, _ = made
    path = "/v1/users/usr_1" if name == "not_found" else "/v1/users"
    response = with_scenario(client, name, path)
    status, code = ERRORS[name]
    assert response.status_code == status
    assert response.json["status"] == "error"
    assert response.json["error"]["code"] == code
    assert "sandbox scenario" in response.json["error"]["message"]
    assert response.headers["X-Sandbox-Scenario-Applied"] == name
    conforms(response)


def test_rate_limited_is_a_real_429_with_the_plan_figures(made) -> None:
    client, sandbox, _ = made
    response = with_scenario(client, "rate_limited")
    limit = sandbox.limiter.peek(sandbox.settings.default_api_key, "default").limit
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60  # the plan's window is a minute
    assert abs(int(response.headers["X-RateLimit-Reset"]) - (time.time() + wait)) <= 2
    chosen = with_scenario(client, "rate_limited; retry_after=7")
    assert chosen.headers["Retry-After"] == "7"


def test_unavailable_and_server_error_take_parameters(made) -> None:
    client, _, _ = made
    assert with_scenario(client, "unavailable").headers["Retry-After"] == "30"
    assert with_scenario(client, "unavailable; retry_after=5").headers["Retry-After"] == "5"
    assert with_scenario(client, "server_error; status=502").status_code == 502


def test_validation_error_uses_the_operations_client_error_with_a_field_detail(made) -> None:
    client, _, _ = made
    response = with_scenario(
        client,
        "validation_error; field=email",
        "/v1/users",
        "post",
        json={"name": "Ann", "email": "ann@example.com"},
    )
    assert response.status_code == 400
    assert response.json["error"]["details"][0]["field"] == "email"
    conforms(response)


def test_timeout_holds_the_connection_then_answers_504(made) -> None:
    client, _, waits = made
    assert with_scenario(client, "timeout").status_code == 504
    assert waits == [10.0]  # the default hold
    with_scenario(client, "timeout; after=250ms")
    assert waits[-1] == 0.25


def test_timeout_really_waits(tmp_path) -> None:
    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"state": str(tmp_path / "s")})
    client = create_app(DEFAULT_SPEC, settings).test_client()
    started = time.perf_counter()
    response = client.get(
        "/v1/users",
        headers={
            "Authorization": f"Bearer {settings.default_api_key}",
            "X-Sandbox-Scenario": "timeout; after=300ms",
        },
    )
    assert response.status_code == 504
    assert time.perf_counter() - started >= 0.3


def test_slow_answers_normally_after_the_latency(made) -> None:
    client, _, waits = made
    response = with_scenario(client, "slow")
    assert response.status_code == 200 and response.json["data"]
    assert waits == [0.8]
    with_scenario(client, "slow; latency=2s")
    assert waits[-1] == 2.0


def test_flaky_fails_n_times_per_idempotency_key_then_succeeds(made) -> None:
    client, _, _ = made
    body = {"name": "Ann Lee", "email": "ann.flaky@example.com"}

    def attempt(key: str):
        return client.post(
            "/v1/users",
            json=body,
            headers={"X-Sandbox-Scenario": "flaky; fails=2", "Idempotency-Key": key},
        )

    first, second, third = attempt("k1"), attempt("k1"), attempt("k1")
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 201]
    assert first.headers["Retry-After"] == "1"
    conforms(first)
    # another logical request (another key) fails again, from its own count
    assert attempt("k2").status_code == 503
    # a retry of the one that succeeded is replayed, not run again
    replay = attempt("k1")
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == third.json


def test_flaky_without_a_key_counts_per_client_method_and_path(made) -> None:
    client, _, _ = made
    statuses = [with_scenario(client, "flaky; fails=1; status=500").status_code for _ in range(4)]
    assert statuses == [500, 200, 500, 200]


def test_malformed_cuts_the_json_body(made) -> None:
    client, _, _ = made
    response = with_scenario(client, "malformed")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    with pytest.raises(ValueError):
        json.loads(response.get_data())
    whole = client.get("/v1/users").get_data()
    assert 0 < len(response.get_data()) < len(whole)


def test_empty_empties_lists_and_answers_204_elsewhere(made) -> None:
    client, _, _ = made
    listed = with_scenario(client, "empty")
    assert listed.status_code == 200
    assert listed.json["data"] == [] and listed.json["meta"]["total"] == 0
    conforms(listed, "#/components/schemas/UserListResponse")
    before = client.get("/v1/users").json["meta"]["total"]
    created = with_scenario(
        client, "empty", "/v1/users", "post", json={"name": "Ann", "email": "ann.empty@example.com"}
    )
    assert created.status_code == 204 and created.get_data() == b""
    assert client.get("/v1/users").json["meta"]["total"] == before  # nothing written


def test_a_bad_scenario_header_is_a_400_naming_the_choices(made) -> None:
    client, _, _ = made
    unknown = with_scenario(client, "explode")
    assert unknown.status_code == 400
    assert unknown.json["error"]["code"] == "INVALID_SCENARIO"
    assert "rate_limited" in unknown.json["error"]["message"]
    conforms(unknown)
    for value, hint in [
        ("slow; latency=soon", "duration"),
        ("flaky; fails=0", "fails"),
        ("slow; speed=2", "takes latency"),
        ("slow; latency", "needs a value"),
        ("server_error; status=404", "5xx"),
    ]:
        response = with_scenario(client, value)
        assert response.status_code == 400, value
        assert hint in response.json["error"]["message"], value


def test_scenarios_are_listed_with_descriptions(made) -> None:
    client, _, _ = made
    listed = client.get("/__sandbox/scenarios").json
    assert listed["header"] == "X-Sandbox-Scenario"
    names = [s["name"] for s in listed["scenarios"]]
    assert names == list(PRESETS)
    assert {"rate_limited", "flaky", "timeout", "empty", "malformed"} <= set(names)
    assert all(s["description"] for s in listed["scenarios"])
    flaky = next(s for s in listed["scenarios"] if s["name"] == "flaky")
    assert flaky["params"] == {"fails": "2", "status": "503"}


def test_the_flat_error_form_gets_flat_scenario_errors(tmp_path) -> None:
    spec = tmp_path / "flat.yaml"
    spec.write_text("""
openapi: 3.0.3
info: {title: Flat, version: "1"}
paths:
  /things:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: array}}}}
        "503":
          description: down
          content:
            application/json:
              schema:
                type: object
                required: [error, message, retry_after]
                additionalProperties: false
                properties:
                  error: {type: string}
                  message: {type: string}
                  retry_after: {type: integer}
""")
    settings = load_settings(spec, environ={}, overrides={"state": str(tmp_path / "s")})
    client = create_app(spec, settings).test_client()
    response = client.get("/things", headers={"X-Sandbox-Scenario": "unavailable; retry_after=9"})
    assert response.status_code == 503
    assert response.json == {
        "error": "SERVICE_UNAVAILABLE",
        "message": response.json["message"],
        "retry_after": 9,
    }
    assert "sandbox scenario" in response.json["message"]


# -- scoped scenarios through the admin API ---------------------------------------------
def activate(client, **body):
    return client.post("/__sandbox/scenarios/active", json=body)


def test_a_scoped_scenario_hits_only_its_key_and_operation_for_count_requests(made) -> None:
    client, sandbox, _ = made
    other = client.post("/__sandbox/keys", json={"plan": "pro"}).json["key"]
    made_ = activate(
        client,
        scenario="rate_limited",
        key=sandbox.settings.default_api_key,
        operation="listUsers",
        count=3,
    )
    assert made_.status_code == 201 and made_.json["remaining"] == 3
    # another operation, another key: untouched
    assert client.get("/v1/orders").status_code == 200
    assert client.get("/v1/users", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    statuses = [client.get("/v1/users").status_code for _ in range(4)]
    assert statuses == [429, 429, 429, 200]
    assert client.get("/__sandbox/scenarios/active").json["active"] == []


def test_an_operation_can_be_named_by_method_and_path(made) -> None:
    client, _, _ = made
    activate(client, scenario="not_found", operation="GET /users/{id}", count=1)
    assert client.get("/v1/users/usr_x").status_code == 404
    assert client.get("/v1/users").status_code == 200


def test_a_scenario_without_count_lasts_until_cleared(made) -> None:
    client, _, _ = made
    made_ = activate(client, scenario="server_error", params={"status": "502"}).json
    assert [client.get("/v1/users").status_code for _ in range(3)] == [502] * 3
    assert client.delete(f"/__sandbox/scenarios/active/{made_['id']}").status_code == 204
    assert client.get("/v1/users").status_code == 200
    assert client.delete(f"/__sandbox/scenarios/active/{made_['id']}").status_code == 404
    activate(client, scenario="forbidden")
    activate(client, scenario="conflict")
    assert client.delete("/__sandbox/scenarios/active").json == {"cleared": 2}
    assert client.get("/v1/users").status_code == 200


def test_the_more_specific_scenario_wins_and_the_header_beats_both(made) -> None:
    client, sandbox, _ = made
    activate(client, scenario="server_error")
    activate(
        client, scenario="not_found", key=sandbox.settings.default_api_key, operation="listUsers"
    )
    assert client.get("/v1/users").status_code == 404
    assert client.get("/v1/orders").status_code == 500
    assert with_scenario(client, "conflict").status_code == 409


def test_activation_errors_say_what_to_send(made) -> None:
    client, _, _ = made
    for body, status, code in [
        ({}, 400, "invalid_scenario"),
        ({"scenario": "nope"}, 400, "invalid_scenario"),
        ({"scenario": "slow", "count": 0}, 400, "invalid_scenario"),
        ({"scenario": "slow", "params": {"latency": "x"}}, 400, "invalid_scenario"),
        ({"scenario": "slow", "params": {"latency": "10m"}}, 422, "invalid_scenario"),
        ({"scenario": "flaky", "params": {"fails": "\u00b2"}}, 400, "invalid_scenario"),
        ({"scenario": "slow", "params": {"fails": "2"}}, 400, "invalid_scenario"),
        ({"scenario": "slow", "tenant": False}, 400, "invalid_scenario"),
        # a well-formed request naming something that does not exist
        ({"scenario": "slow", "key": "sk_test_unknown"}, 404, "unknown_key"),
        ({"scenario": "slow", "operation": "listUserz"}, 404, "unknown_operation"),
    ]:
        response = activate(client, **body)
        assert response.status_code == status, body
        assert response.json["error"]["code"] == code, body
        assert response.json["error"]["message"]


def test_scoped_scenarios_are_shared_by_apps_on_the_same_state_file(tmp_path) -> None:
    """Two apps on one state file stand in for two gunicorn workers."""
    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"state": str(tmp_path / "s")})
    first = create_app(DEFAULT_SPEC, settings).test_client()
    second = create_app(DEFAULT_SPEC, settings).test_client()
    auth = {"Authorization": f"Bearer {settings.default_api_key}"}
    activate(first, scenario="conflict", count=4)
    statuses = [
        (first if i % 2 else second).get("/v1/users", headers=auth).status_code for i in range(6)
    ]
    assert statuses == [409, 409, 409, 409, 200, 200]


# -- chaos ------------------------------------------------------------------------------
def test_chaos_error_rate_holds_over_2000_requests(made) -> None:
    client, _, waits = made
    configured = client.put("/__sandbox/chaos", json={"error_rate": 0.1, "latency": "5..20ms"})
    assert configured.status_code == 200 and configured.json["enabled"] is True
    statuses = [client.get("/v1/items").status_code for _ in range(2000)]
    failed = [s for s in statuses if s != 200]
    # binomial(2000, 0.1): mean 200, sd 13.4; +/- 4.5 sd is wrong once in ~150,000 runs
    assert 140 <= len(failed) <= 260, len(failed)
    assert set(failed) <= {500, 502, 503}
    assert len(waits) == 2000 and all(0.005 <= w <= 0.020 for w in waits)
    assert max(waits) - min(waits) > 0.01  # spread over the range, not one value
    client.delete("/__sandbox/chaos")
    assert all(client.get("/v1/items").status_code == 200 for _ in range(50))


def test_chaos_errors_follow_the_spec_and_are_counted(made) -> None:
    client, _, _ = made
    client.put("/__sandbox/chaos", json={"error_rate": 1, "statuses": [503]})
    response = client.get("/v1/users")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.headers["X-Sandbox-Scenario-Applied"] == "chaos"
    conforms(response)
    metrics = client.get("/__sandbox/metrics").get_data(as_text=True)
    assert 'sandbox_scenarios_applied_total{scenario="chaos"} 1.0' in metrics


def test_chaos_from_settings_and_bad_chaos(tmp_path) -> None:
    settings = load_settings(
        DEFAULT_SPEC,
        environ={},
        overrides={"state": str(tmp_path / "s"), "chaos": "error_rate=1,latency=0..0ms"},
    )
    client = create_app(DEFAULT_SPEC, settings).test_client()
    auth = {"Authorization": f"Bearer {settings.default_api_key}"}
    assert client.get("/v1/users", headers=auth).status_code in (500, 502, 503)
    assert client.get("/__sandbox/chaos").json["error_rate"] == 1
    for body, status in [
        ({"error_rate": 2}, 400),
        ({"latency": "1..90s"}, 422),
        ({"statuses": [200]}, 400),
        ({"x": 1}, 400),
        (None, 400),
    ]:
        refused = client.put("/__sandbox/chaos", json=body)
        assert refused.status_code == status, body
        assert refused.json["error"]["code"] == "invalid_chaos"
    reversed_range = client.put("/__sandbox/chaos", json={"latency": "300..50ms"})
    assert reversed_range.json["latency_ms"] == [50, 300]
    from sandbox.errors import ConfigError

    with pytest.raises(ConfigError, match="error_rate"):
        bad = load_settings(
            DEFAULT_SPEC, environ={}, overrides={"state": ":memory:", "chaos": "error_rate=lots"}
        )
        create_app(DEFAULT_SPEC, bad)


def test_reset_clears_scenarios_and_chaos(made) -> None:
    client, _, _ = made
    activate(client, scenario="forbidden")
    client.put("/__sandbox/chaos", json={"error_rate": 1})
    client.post("/__sandbox/reset")
    assert client.get("/v1/users").status_code == 200
    assert client.get("/__sandbox/chaos").json["enabled"] is False


# -- a server that holds answers (sandbox.http.held) -----------------------------------------
def _held(client, path: str, method: str = "GET", **kw) -> tuple[int, dict]:
    """One request the way the granian bridge sends it: the environ says the server holds
    answers, and the app's reply to that is read back from the same environ."""
    environ = EnvironBuilder(path=path, method=method, **kw).get_environ()
    environ["HTTP_AUTHORIZATION"] = client.environ_base["HTTP_AUTHORIZATION"]
    environ[HOLDS_ANSWERS] = True
    statuses: list[str] = []
    body = b"".join(client.application(environ, lambda s, h, e=None: statuses.append(s)))
    assert body
    return int(statuses[0][:3]), environ


def test_a_server_that_holds_answers_is_given_the_wait_and_no_thread_sleeps(made) -> None:
    """The answer is made at once and the whole wait (latency, chaos's delay) goes back to
    the server to hold; nothing sleeps in the app's thread."""
    client, _, waits = made
    status, environ = _held(client, "/v1/users", headers={"X-Sandbox-Scenario": "slow; latency=2s"})
    assert (status, environ[WAIT], waits) == (200, 2.0, [])
    status, environ = _held(
        client, "/v1/users", headers={"X-Sandbox-Scenario": "timeout; after=3s"}
    )
    assert (status, environ[WAIT], waits) == (504, 3.0, [])
    status, environ = _held(client, "/v1/users")
    assert (status, WAIT in environ) == (200, False)
    # the journal's latency is the client's: the wait included
    entries = client.get("/__sandbox/requests").json["requests"]
    assert [e["latency_ms"] >= 2000 for e in entries[:3]] == [False, True, True]


def test_chaos_delay_is_held_by_the_server_too(made) -> None:
    client, _, waits = made
    assert client.put("/__sandbox/chaos", json={"latency_ms": [700, 700]}).status_code == 200
    status, environ = _held(client, "/v1/users")
    assert (status, environ[WAIT], waits) == (200, 0.7, [])


def test_an_idempotent_create_waits_with_its_key_in_progress_whatever_the_server(made) -> None:
    """A POST with an Idempotency-Key keeps the key in progress for its whole wait (a retry
    meanwhile is told the first still runs), so the wait is slept in the thread even where
    the server could hold it."""
    client, _, waits = made
    status, environ = _held(
        client, "/v1/users", method="POST",
        json={"name": "Ann Lee", "email": "ann.held@example.com"},
        headers={"X-Sandbox-Scenario": "slow; latency=1s", "Idempotency-Key": "held-1"},
    )  # fmt: skip
    assert (status, WAIT in environ, waits) == (201, False, [1.0])
