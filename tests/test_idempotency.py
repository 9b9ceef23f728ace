"""Idempotency-Key on POST: a retry replays the first answer, a reuse with another body is a
409, and failures are not kept so a retry runs for real."""

from __future__ import annotations

import threading

import pytest
from limits.storage import MemoryStorage

from sandbox import create_app, load_settings
from sandbox.http.idempotency import IdempotencyKeys, fingerprint
from sandbox.state.sqlite import SQLiteBackend
from tests.conftest import DEFAULT_SPEC, signed_in_client

BODY = {"name": "Ann Lee", "email": "ann.idem@example.com"}


@pytest.fixture
def client(tmp_path):
    return signed_in_client(tmp_path)


def post(client, key: str, body=BODY, **headers):
    return client.post("/v1/users", json=body, headers={"Idempotency-Key": key, **headers})


def total(client) -> int:
    return client.get("/v1/users").json["meta"]["total"]


def test_a_retry_replays_the_first_response_and_creates_nothing_more(client) -> None:
    before = total(client)
    first = post(client, "order-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = post(client, "order-1")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["X-RateLimit-Remaining"] != first.headers["X-RateLimit-Remaining"]
    assert total(client) == before + 1


def test_the_same_json_in_another_key_order_is_the_same_request(client) -> None:
    post(client, "order-2")
    reordered = client.post(
        "/v1/users",
        data='{"email": "ann.idem@example.com", "name": "Ann Lee"}',
        content_type="application/json",
        headers={"Idempotency-Key": "order-2"},
    )
    assert reordered.headers.get("Idempotent-Replayed") == "true"


def test_reusing_a_key_with_another_body_is_a_409(client) -> None:
    post(client, "order-3")
    reused = post(client, "order-3", {**BODY, "name": "Someone Else"})
    assert reused.status_code == 409
    assert reused.json["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert "Idempotency-Key" in reused.json["error"]["message"]


def test_keys_belong_to_one_client(client, tmp_path) -> None:
    post(client, "shared")
    other = client.post("/__sandbox/keys", json={"plan": "pro"}).json["key"]
    theirs = post(
        client, "shared", {**BODY, "email": "b@example.com"}, Authorization=f"Bearer {other}"
    )
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers


def test_failures_are_not_kept_so_the_retry_runs(client) -> None:
    invalid = post(client, "order-4", {"name": "No Email"})
    assert invalid.status_code == 400
    fixed_body = post(client, "order-4", {"name": "No Email"})
    assert "Idempotent-Replayed" not in fixed_body.headers  # ran again, failed again
    down = post(client, "order-5", **{"X-Sandbox-Scenario": "unavailable"})
    assert down.status_code == 503
    retried = post(client, "order-5")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers


def test_a_retry_while_the_first_still_runs_is_a_409_with_retry_after(tmp_path) -> None:
    keys = IdempotencyKeys(SQLiteBackend(str(tmp_path / "s"), MemoryStorage).idempotency())
    printed = fingerprint("POST", "/v1/users", b"{}")
    assert keys.claim("t", "k", printed).conflict is None  # the first: runs
    busy = keys.claim("t", "k", printed)
    assert busy.conflict == "in_progress"
    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"state": str(tmp_path / "s")})
    app = create_app(DEFAULT_SPEC, settings)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {settings.default_api_key}"}
    release = threading.Event()
    entered = threading.Event()
    sandbox = app.extensions["sandbox"]
    sandbox.sleep = lambda _s: (entered.set(), release.wait(5))  # hold the first request
    results: dict[str, int] = {}

    def slow_first() -> None:
        response = client.post(
            "/v1/users",
            json=BODY,
            headers={**auth, "Idempotency-Key": "busy", "X-Sandbox-Scenario": "slow"},
        )
        results["first"] = response.status_code

    worker = threading.Thread(target=slow_first)
    worker.start()
    assert entered.wait(5)
    second = client.post("/v1/users", json=BODY, headers={**auth, "Idempotency-Key": "busy"})
    release.set()
    worker.join(5)
    assert second.status_code == 409
    assert second.json["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
    assert second.headers["Retry-After"] == "1"
    assert results["first"] == 201
    third = client.post("/v1/users", json=BODY, headers={**auth, "Idempotency-Key": "busy"})
    assert third.headers["Idempotent-Replayed"] == "true"


def test_only_post_is_idempotent_by_key(client) -> None:
    user = post(client, "order-6").json["data"]
    patched = client.patch(
        f"/v1/users/{user['id']}", json={"name": "New Name"}, headers={"Idempotency-Key": "order-6"}
    )
    assert patched.status_code == 200 and "Idempotent-Replayed" not in patched.headers
