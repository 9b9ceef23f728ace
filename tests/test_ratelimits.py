"""Plans, windows and X-RateLimit-* headers, keys created at runtime, and the auth switch."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sandbox import create_app, load_settings
from sandbox.errors import ConfigError
from tests.conftest import DEFAULT_SPEC

# hour-long windows: a test never straddles a window boundary by accident
PLANS = {"tiny": "5/hour", "layered": "3/hour;100/hour", "blink": "2/hour"}


def make(tmp_path: Path, **overrides):
    settings = load_settings(
        DEFAULT_SPEC,
        environ={},
        overrides={"state": str(tmp_path / "state.sqlite"), "plans": PLANS, **overrides},
    )
    app = create_app(DEFAULT_SPEC, settings)
    return app.test_client(), settings


def key_for(client, plan: str) -> dict[str, str]:
    made = client.post("/__sandbox/keys", json={"plan": plan, "label": "test"})
    assert made.status_code == 201, made.data
    assert made.get_json()["plan"] == plan
    return {"Authorization": f"Bearer {made.get_json()['key']}"}


def test_remaining_counts_down_by_one_then_429_with_an_honest_retry_after(tmp_path) -> None:
    client, _ = make(tmp_path)
    auth = key_for(client, "tiny")
    remaining = []
    for _ in range(5):
        response = client.get("/v1/users?limit=1", headers=auth)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "5"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
        reset = int(response.headers["X-RateLimit-Reset"])
        assert time.time() <= reset <= time.time() + 3600
    assert remaining == [4, 3, 2, 1, 0]
    refused = client.get("/v1/users?limit=1", headers=auth)
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 3600
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert abs(int(refused.headers["X-RateLimit-Reset"]) - (time.time() + retry_after)) <= 2
    body = refused.get_json()
    assert body["status"] == "error" and body["error"]["code"] == "rate_limit_exceeded"
    assert str(retry_after) in body["error"]["message"]


def test_every_window_of_a_plan_counts_and_the_tightest_is_reported(tmp_path) -> None:
    client, _ = make(tmp_path)
    auth = key_for(client, "layered")
    first = client.get("/v1/users?limit=1", headers=auth)
    assert first.headers["X-RateLimit-Limit"] == "3"
    for _ in range(2):
        client.get("/v1/users?limit=1", headers=auth)
    assert client.get("/v1/users?limit=1", headers=auth).status_code == 429


def test_keys_have_separate_counters_and_reset_clears_them(tmp_path) -> None:
    client, _ = make(tmp_path)
    one, two = key_for(client, "blink"), key_for(client, "blink")
    for _ in range(2):
        assert client.get("/v1/users?limit=1", headers=one).status_code == 200
    assert client.get("/v1/users?limit=1", headers=one).status_code == 429
    assert client.get("/v1/users?limit=1", headers=two).status_code == 200
    assert client.post("/__sandbox/reset").status_code == 200
    assert client.get("/v1/users?limit=1", headers=one).status_code == 200


def test_scale_turns_an_hour_into_seconds(tmp_path) -> None:
    client, _ = make(tmp_path, rate_limit_scale=1200)  # an hour lasts 3 seconds
    auth = key_for(client, "blink")
    # start at the top of a fixed window so a slow machine cannot straddle two
    time.sleep(3 - time.time() % 3 + 0.01)
    assert [client.get("/v1/users?limit=1", headers=auth).status_code for _ in range(3)] == [
        200, 200, 429,
    ]  # fmt: skip
    refused = client.get("/v1/users?limit=1", headers=auth)
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 3
    time.sleep(wait + 0.05)
    assert client.get("/v1/users?limit=1", headers=auth).status_code == 200


def test_the_seed_guides_plans_are_there(tmp_path) -> None:
    client, _ = make(tmp_path)
    plans = client.get("/__sandbox/keys").get_json()["plans"]
    assert plans["free"] == "100/hour;10/second"
    assert plans["starter"] == "1000/hour;50/second"
    assert plans["pro"] == "10000/hour;200/second"
    assert plans["enterprise"] == ""
    assert plans["default"] == "1000/minute;10000/hour"
    free = key_for(client, "free")
    response = client.get("/v1/users?limit=1", headers=free)
    assert response.headers["X-RateLimit-Limit"] == "10"  # the burst window is the tightest
    unlimited = key_for(client, "enterprise")
    assert "X-RateLimit-Limit" not in client.get("/v1/users?limit=1", headers=unlimited).headers


def test_ietf_headers_on_request(tmp_path) -> None:
    client, _ = make(tmp_path, ietf_rate_limit_headers=True)
    response = client.get("/v1/users?limit=1", headers=key_for(client, "layered"))
    assert response.headers["RateLimit-Policy"] == "3;w=3600, 100;w=3600"
    limit, remaining, reset = (p.split("=")[1] for p in response.headers["RateLimit"].split(", "))
    assert (limit, remaining) == ("3", "2") and 0 <= int(reset) <= 3600


def test_created_keys_work_until_revoked(tmp_path) -> None:
    client, settings = make(tmp_path)
    auth = key_for(client, "tiny")
    key = auth["Authorization"].split()[1]
    listed = client.get("/__sandbox/keys").get_json()["keys"]
    assert {k["key"]: k["plan"] for k in listed}[key] == "tiny"
    assert client.delete(f"/__sandbox/keys/{key}").status_code == 204
    gone = client.get("/v1/users", headers=auth)
    assert gone.status_code == 401 and gone.get_json()["error"]["code"] == "invalid_api_key"
    assert client.delete(f"/__sandbox/keys/{key}").status_code == 404
    assert client.delete(f"/__sandbox/keys/{settings.default_api_key}").status_code == 409


def test_bad_key_requests_get_clear_errors(tmp_path) -> None:
    client, _ = make(tmp_path)
    unknown = client.post("/__sandbox/keys", json={"plan": "gold"})
    assert unknown.status_code == 400
    assert "free" in unknown.get_json()["error"]["message"]
    assert client.post("/__sandbox/keys", json=[1]).status_code == 400
    assert client.post("/__sandbox/keys", data="[1]", content_type="text/plain").status_code == 415


def test_keys_declared_in_settings_carry_their_plan(tmp_path) -> None:
    client, _ = make(tmp_path, keys=[{"key": "sk_test_fixed_free", "plan": "blink"}])
    auth = {"Authorization": "Bearer sk_test_fixed_free"}
    statuses = [client.get("/v1/users?limit=1", headers=auth).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_auth_off_serves_everyone_as_the_banner_key(tmp_path) -> None:
    client, settings = make(tmp_path, auth=False)
    open_door = client.get("/v1/users?limit=1")
    assert open_door.status_code == 200
    banner = {"Authorization": f"Bearer {settings.default_api_key}"}
    made = client.post("/v1/data", json={"name": "d", "values": [1]}).get_json()["data"]
    assert client.get(f"/v1/data/{made['id']}", headers=banner).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"default_plan": "gold"}, "default_plan 'gold' is not a plan"),
        ({"plans": {"odd": "lots/hour"}}, "plan 'odd'"),
        ({"rate_limit_storage": "nosuch://x"}, "rate_limit_storage"),
    ],
)
def test_bad_rate_limit_settings_are_config_errors(tmp_path, overrides, message) -> None:
    with pytest.raises(ConfigError, match=message):
        make(tmp_path, **overrides)


FLAT = """
openapi: 3.0.3
info: {title: Flat, version: "1"}
security: [{key: []}]
paths:
  /things:
    get:
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {type: object}}}
        "429":
          description: slow down
          content:
            application/json:
              schema:
                type: object
                required: [error, message, retry_after]
                properties:
                  error: {type: string}
                  message: {type: string}
                  retry_after: {type: integer}
components:
  securitySchemes:
    key: {type: http, scheme: bearer}
"""


def test_a_flat_429_schema_gets_the_flat_body(tmp_path) -> None:
    spec = tmp_path / "flat.yaml"
    spec.write_text(FLAT)
    settings = load_settings(
        spec, environ={}, overrides={"state": ":memory:", "rate_limits": "1/hour"}
    )
    client = create_app(spec, settings).test_client()
    auth = {"Authorization": f"Bearer {settings.default_api_key}"}
    assert client.get("/things", headers=auth).status_code == 200
    refused = client.get("/things", headers=auth)
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["error"] == "rate_limit_exceeded"
    assert body["retry_after"] == int(refused.headers["Retry-After"])
    assert 1 <= body["retry_after"] <= 3600


def test_a_key_needs_a_json_body_which_no_html_form_can_send(tmp_path) -> None:
    client, _ = make(tmp_path)
    form = client.post(  # what curl -d (and an HTML form on any web page) sends
        "/__sandbox/keys",
        data='{"plan": "pro"}',
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 415
    assert "Content-Type: application/json" in form.get_json()["error"]["message"]
    made = client.post("/__sandbox/keys", data='{"plan": "pro"}', content_type="application/json")
    assert made.status_code == 201 and made.get_json()["plan"] == "pro"
