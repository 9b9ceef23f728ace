"""Two sandbox apps on one Redis act as one sandbox (two ``create_app`` stand in for two
machines behind a load balancer): records, rate limits, API keys, OAuth codes and JWTs,
idempotency keys, scoped scenarios, webhooks and the journal are shared, and a reset clears
only its own prefix. Redis going away is a clean 503, never a 500."""

from __future__ import annotations

import re
import secrets
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from flask import Flask

from sandbox import create_app, load_settings
from sandbox.errors import ConfigError, StorageError
from sandbox.state.redis.connection import spec_prefix
from sandbox.webhooks.signing import verify
from tests.conftest import DEFAULT_SPEC, REDIS_SERVER
from tests.webhook_receiver import start_receiver


def make_apps(url: str, count: int = 2, spec: Path = DEFAULT_SPEC, **overrides) -> list[Flask]:
    settings = load_settings(
        spec, environ={}, overrides={"state": ":memory:", "redis": url, **overrides}
    )
    return [create_app(spec, settings) for _ in range(count)]


@pytest.fixture
def apps(redis_url: str) -> list[Flask]:
    return make_apps(redis_url)


def auth_for(app: Flask) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.extensions['sandbox'].settings.default_api_key}"}


def test_a_record_made_on_one_is_read_listed_updated_and_deleted_on_the_other(apps) -> None:
    one, two = (app.test_client() for app in apps)
    auth = auth_for(apps[0])
    created = one.post("/v1/users", json={"name": "Ada Lovelace", "email": "ada@example.com"},
                       headers=auth)  # fmt: skip
    assert created.status_code == 201, created.json
    user_id = created.json["data"]["id"]

    assert two.get(f"/v1/users/{user_id}", headers=auth).json["data"]["name"] == "Ada Lovelace"
    listed = two.get("/v1/users?email=ada@example.com", headers=auth).json
    assert [u["id"] for u in listed["data"]] == [user_id]
    assert two.get("/v1/users?limit=1", headers=auth).json["meta"]["total"] == 26  # 25 seeded
    # the unique email is taken for both
    again = two.post("/v1/users", json={"name": "Ada", "email": "ADA@example.com"}, headers=auth)
    assert again.status_code == 409

    patched = two.patch(f"/v1/users/{user_id}", json={"name": "Ada King"}, headers=auth)
    assert patched.status_code == 200
    assert one.get(f"/v1/users/{user_id}", headers=auth).json["data"]["name"] == "Ada King"

    assert one.delete(f"/v1/users/{user_id}", headers=auth).status_code == 204
    assert two.get(f"/v1/users/{user_id}", headers=auth).status_code == 404
    assert two.get("/v1/users?limit=1", headers=auth).json["meta"]["total"] == 25


def test_a_plan_lets_exactly_n_through_across_both(redis_url: str) -> None:
    """16 threads, half on each app, race for 30 slots of a two-window plan: exactly 30 get
    through, each Remaining value is handed out once, and refused requests count nowhere."""
    apps = make_apps(redis_url, rate_limits="30/minute;45/hour")
    auth = auth_for(apps[0])
    statuses: list[int] = []
    remaining: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def hammer(app: Flask) -> None:
        client = app.test_client()
        barrier.wait()
        for _ in range(8):
            response = client.get("/v1/items", headers=auth)
            with lock:
                statuses.append(response.status_code)
                if response.status_code == 200:
                    remaining.append(response.headers["X-RateLimit-Remaining"])

    threads = [threading.Thread(target=hammer, args=(apps[i % 2],)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(200) == 30 and statuses.count(429) == 128 - 30
    assert sorted(map(int, remaining)) == list(range(30))  # 29 … 0, each once
    # the hourly window counted the 30 that passed, none of the 98 refused
    sandbox = apps[1].extensions["sandbox"]
    hour = next(i for i in sandbox.limiter.plans["default"] if i.get_expiry() == 3600)
    key = hour.key_for(sandbox.settings.default_api_key)
    assert sandbox.limiter._storage.get_sliding_window(key, hour.get_expiry())[2] == 30


def test_a_reset_on_one_is_seen_by_the_other(redis_url: str) -> None:
    """The other app saw the tenant seeded before the reset: it must seed it again, with the
    same records (seeded generation is deterministic with --seed)."""
    one, two = (app.test_client() for app in make_apps(redis_url, seed=3))
    auth = auth_for(one.application)
    made = one.post("/v1/users", json={"name": "Gone Soon", "email": "gone@example.com"},
                    headers=auth).json["data"]["id"]  # fmt: skip
    seeded = two.get("/v1/users?limit=100", headers=auth).json["data"]
    assert len(seeded) == 26
    assert one.post("/__sandbox/reset").status_code == 200
    assert two.get(f"/v1/users/{made}", headers=auth).status_code == 404
    victim = seeded[0]["id"]  # a seed record: the same id again after the reset
    assert two.delete(f"/v1/users/{victim}", headers=auth).status_code == 204
    assert one.get("/v1/users?limit=1", headers=auth).json["meta"]["total"] == 24


def test_an_api_key_issued_on_one_works_on_the_other(apps) -> None:
    one, two = (app.test_client() for app in apps)
    made = one.post("/__sandbox/keys", json={"plan": "free", "label": "shared"})
    assert made.status_code == 201
    key = made.json["key"]
    answer = two.get("/v1/users", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200
    assert answer.headers["X-RateLimit-Limit"] == "10"  # the free plan's per-second burst
    assert key in [k["key"] for k in two.get("/__sandbox/keys").json["keys"]]
    assert two.delete(f"/__sandbox/keys/{key}").status_code == 204
    assert one.get("/v1/users", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_an_oauth_code_from_one_is_redeemed_at_the_other_and_jwts_verify_anywhere(apps) -> None:
    one, two = (app.test_client() for app in apps)
    client_id, client_secret = apps[0].extensions["sandbox"].settings.default_oauth_client
    redirect = "https://client.example/callback"
    authorized = one.get("/v1/oauth/authorize", query_string={
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect,
        "scope": "users:read", "state": "s1",
    })  # fmt: skip
    assert authorized.status_code == 302, authorized.data
    code = parse_qs(urlsplit(authorized.headers["Location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
            "client_id": client_id, "client_secret": client_secret}  # fmt: skip
    issued = two.post("/v1/oauth/token", data=form)
    assert issued.status_code == 200, issued.json
    tokens = issued.json
    # the code was used at two: using it again at one fails, and revokes what it gave
    replay = one.post("/v1/oauth/token", data=form)
    assert replay.status_code == 400 and replay.json["error"] == "invalid_grant"
    refreshed = two.post("/v1/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": client_id, "client_secret": client_secret,
    })  # fmt: skip
    assert refreshed.status_code == 400  # its family was revoked by the replay

    # a JWT signed by two is accepted by one, and verifies against one's JWKS
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert one.get("/v1/users", headers=bearer).status_code == 200
    jwks = one.get("/.well-known/jwks.json").json
    assert jwks == two.get("/.well-known/jwks.json").json
    header = jwt.get_unverified_header(tokens["access_token"])
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(tokens["access_token"], jwt.PyJWK(key).key, algorithms=["RS256"],
                        audience="http://localhost:8000/v1")  # fmt: skip
    assert claims["scope"] == "users:read"

    # client credentials from one, used at two
    minted = one.post("/v1/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id,
        "client_secret": client_secret,
    }).json["access_token"]  # fmt: skip
    assert two.get("/v1/users", headers={"Authorization": f"Bearer {minted}"}).status_code == 200


def test_an_idempotency_key_replays_across_them(apps) -> None:
    one, two = (app.test_client() for app in apps)
    auth = auth_for(apps[0])
    key = {"Idempotency-Key": "order-" + secrets.token_hex(6)}
    body = {"name": "Grace Hopper", "email": "grace@example.com"}
    first = one.post("/v1/users", json=body, headers={**auth, **key})
    assert first.status_code == 201
    replayed = two.post("/v1/users", json=body, headers={**auth, **key})
    assert replayed.status_code == 201
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json["data"]["id"] == first.json["data"]["id"]
    reused = two.post("/v1/users", json={**body, "name": "Other"}, headers={**auth, **key})
    assert reused.status_code == 409
    assert reused.json["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    listed = one.get("/v1/users?email=grace@example.com", headers=auth).json["data"]
    assert len(listed) == 1  # it ran once


def test_a_scoped_scenario_with_count_1_fires_exactly_once_across_both(apps) -> None:
    one = apps[0].test_client()
    auth = auth_for(apps[0])
    made = one.post("/__sandbox/scenarios/active", json={
        "scenario": "server_error", "key": apps[0].extensions["sandbox"].settings.default_api_key,
        "operation": "GET /users", "count": 1,
    })  # fmt: skip
    assert made.status_code == 201, made.json
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def call(app: Flask) -> None:
        client = app.test_client()
        barrier.wait()
        for _ in range(5):
            status = client.get("/v1/users", headers=auth).status_code
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=call, args=(apps[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(500) == 1 and statuses.count(200) == 39, statuses
    assert apps[1].test_client().get("/__sandbox/scenarios/active").json["active"] == []


def test_chaos_set_on_one_applies_on_the_other(apps) -> None:
    one, two = (app.test_client() for app in apps)
    assert one.put("/__sandbox/chaos", json={"error_rate": 1.0}).status_code == 200
    assert two.get("/v1/items", headers=auth_for(apps[1])).status_code in (500, 502, 503)
    assert two.delete("/__sandbox/chaos").status_code in (200, 204)
    assert one.get("/v1/items", headers=auth_for(apps[0])).status_code == 200


def test_webhooks_subscribed_on_one_hear_changes_made_on_the_other_exactly_once(apps) -> None:
    """Both apps run delivery workers that compete for the one outbox: every event arrives
    once, signed with the subscription's secret, whichever app caused it."""
    receiver = start_receiver()
    one, two = (app.test_client() for app in apps)
    auth = auth_for(apps[0])
    workers = [app.extensions["sandbox"].webhooks for app in apps]
    try:
        for hub in workers:
            hub.start()
        made = one.post("/__sandbox/webhooks", json={"url": receiver.url,
                                                     "events": ["user.created"]})  # fmt: skip
        assert made.status_code == 201
        secret = made.json["secret"]
        first = two.post("/v1/users", json={"name": "Alan Turing", "email": "alan@example.com"},
                         headers=auth)  # fmt: skip
        assert first.status_code == 201
        (delivery,) = receiver.wait_for(1)
        event = verify(delivery.body, delivery.headers, [secret])
        assert event["type"] == "user.created"
        assert event["data"]["id"] == first.json["data"]["id"]

        # twenty more, made on both; twenty more deliveries, none twice
        for n in range(20):
            client = one if n % 2 else two
            response = client.post("/v1/users", json={"name": f"User {n}",
                                                      "email": f"u{n}@example.com"},
                                   headers=auth)  # fmt: skip
            assert response.status_code == 201
        received = receiver.wait_for(21, timeout=20)
        time.sleep(1.5)  # time for a duplicate to show up, were there one
        events = [verify(r.body, r.headers, [secret])["id"] for r in receiver.received]
        assert len(events) == 21 and len(set(events)) == 21, len(received)
        log = one.get("/__sandbox/webhooks/deliveries?limit=100").json["deliveries"]
        assert len(log) == 21
        assert all(d["status"] == "delivered" and d["attempts"] == 1 for d in log)
        assert two.get("/__sandbox/webhooks").json["deliveries"]["delivered"] == 21
    finally:
        for hub in workers:
            hub.worker.stop()
        receiver.close()


def test_a_subscription_made_through_the_api_on_one_hears_the_other(apps) -> None:
    receiver = start_receiver()
    one, two = (app.test_client() for app in apps)
    auth = auth_for(apps[0])
    workers = [app.extensions["sandbox"].webhooks for app in apps]
    try:
        for hub in workers:
            hub.start()
        subscription = {"url": receiver.url, "events": ["user.created"], "secret": "whsec_0123456"}
        made = one.post("/v1/webhooks", json=subscription, headers=auth)
        assert made.status_code == 201, made.json
        assert two.post("/v1/users", json={"name": "Kay", "email": "kay@example.com"},
                        headers=auth).status_code == 201  # fmt: skip
        (delivery,) = receiver.wait_for(1)
        assert b"user.created" in delivery.body
        time.sleep(1.0)
        assert len(receiver.received) == 1
    finally:
        for hub in workers:
            hub.worker.stop()
        receiver.close()


def test_the_journal_on_one_shows_requests_served_by_the_other(apps) -> None:
    one, two = (app.test_client() for app in apps)
    request_id = "req-" + uuid.uuid4().hex
    two.get("/v1/items", headers={**auth_for(apps[1]), "X-Request-Id": request_id})
    deadline = time.monotonic() + 5
    seen: list[dict] = []
    while time.monotonic() < deadline and not seen:
        entries = one.get("/__sandbox/requests?path=/v1/items&limit=50").json["requests"]
        seen = [e for e in entries if e["request_id"] == request_id]
        time.sleep(0.1)
    assert seen and seen[0]["status"] == 200 and seen[0]["operation"]
    newest = seen[0]["id"]
    # live polling by id works across processes too
    two.get("/v1/items", headers=auth_for(apps[1]))
    later: list[dict] = []
    deadline = time.monotonic() + 5  # the other worker writes its entries once a second
    while time.monotonic() < deadline and not later:
        later = one.get(f"/__sandbox/requests?since={newest}").json["requests"]
        time.sleep(0.1)
    assert later and all(e["id"] > newest for e in later)


def test_reset_clears_only_its_own_prefix(redis_server, tmp_path: Path) -> None:
    """Two specs on one Redis, each under the prefix derived from its name and title."""
    other = tmp_path / f"other-{uuid.uuid4().hex[:8]}.yaml"
    other.write_text(DEFAULT_SPEC.read_text().replace("title: ", "title: Other ", 1))
    mine_spec = tmp_path / f"mine-{uuid.uuid4().hex[:8]}.yaml"
    mine_spec.write_text(DEFAULT_SPEC.read_text())
    (mine,) = make_apps(redis_server.url(), 1, spec=mine_spec)
    (theirs,) = make_apps(redis_server.url(), 1, spec=other)
    prefixes = [app.extensions["sandbox"].backend.redis.prefix for app in (mine, theirs)]
    assert prefixes[0] != prefixes[1] and all(p.startswith("sandbox:") for p in prefixes)
    made = {}
    for app in (mine, theirs):
        client = app.test_client()
        response = client.post("/v1/users", json={"name": "Reset Me", "email": "r@example.com"},
                               headers=auth_for(app))  # fmt: skip
        made[app] = response.json["data"]["id"]
        client.post("/__sandbox/keys", json={"plan": "free"})
    redis = redis_server.client()
    before = sorted(redis.scan_iter(match=prefixes[1] + ":*"))

    assert mine.test_client().post("/__sandbox/reset").status_code == 200
    mine_client = mine.test_client()
    assert mine_client.get(f"/v1/users/{made[mine]}", headers=auth_for(mine)).status_code == 404
    assert len(mine_client.get("/__sandbox/keys").json["keys"]) == 2  # keys survive a reset
    their_client = theirs.test_client()
    assert (
        their_client.get(f"/v1/users/{made[theirs]}", headers=auth_for(theirs)).status_code == 200
    )
    # not one of the other spec's keys was touched (the GET above added none either)
    assert sorted(redis.scan_iter(match=prefixes[1] + ":*")) == before


def test_the_prefix_follows_the_spec_not_the_machine() -> None:
    assert spec_prefix(Path("/srv/a/openapi.yaml"), "Platform API") == spec_prefix(
        Path("/home/b/openapi.yaml"), "Platform API"
    )
    assert spec_prefix(Path("openapi.yaml"), "Platform API") != spec_prefix(
        Path("openapi.yaml"), "Billing API"
    )
    assert re.fullmatch(r"sandbox:openapi-[0-9a-f]{8}", spec_prefix(Path("openapi.yaml"), "X"))


def test_redis_is_a_setting_like_any_other(tmp_path: Path) -> None:
    url = "redis://127.0.0.1:6379/3"
    assert load_settings(DEFAULT_SPEC, environ={"SANDBOX_REDIS": url}).redis == url
    assert load_settings(DEFAULT_SPEC, environ={}, spec_extension={"redis": url}).redis == url
    assert load_settings(DEFAULT_SPEC, environ={}).redis == ""


def test_unreachable_redis_at_start_is_a_clear_error() -> None:
    with pytest.raises(StorageError, match=r"cannot reach Redis at redis://127\.0\.0\.1:1/0: "
                                           r"is redis-server running\?"):  # fmt: skip
        make_apps("redis://127.0.0.1:1/0", 1)
    with pytest.raises(ConfigError, match="not a Redis URL"):
        make_apps("http://127.0.0.1:1/0", 1)
    with pytest.raises(ConfigError, match="prefix"):
        make_apps("redis://127.0.0.1:1/0?prefix=a*b", 1)


def test_a_missing_redis_package_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "redis", None)  # as if not installed
    with pytest.raises(ConfigError, match=re.escape("pip install 'openapi-sandbox[redis]'")):
        make_apps("redis://127.0.0.1:1/0", 1)


def test_passwords_stay_out_of_messages() -> None:
    with pytest.raises(StorageError) as failed:
        make_apps("redis://user:hunter2@127.0.0.1:1/0", 1)
    assert "hunter2" not in str(failed.value) and "user:***@127.0.0.1:1" in str(failed.value)


def test_redis_killed_mid_run_answers_503_and_recovers(dedicated_redis, tmp_path: Path) -> None:
    (app,) = make_apps(dedicated_redis.url(prefix="killed"), 1)
    client = app.test_client()
    auth = auth_for(app)
    assert client.get("/v1/users", headers=auth).status_code == 200
    dedicated_redis.stop()

    calls = [
        ("get", "/v1/users", None), ("post", "/v1/users", {"name": "N", "email": "n@x.io"}),
        ("get", "/v1/users/usr_8kPq2ZxW4mNc", None), ("get", "/v1/items", None),
    ]  # fmt: skip
    for method, path, body in calls:
        response = getattr(client, method)(path, json=body, headers=auth)
        assert response.status_code == 503, (path, response.data)
        assert response.headers["Retry-After"] == "5"
        error = response.json["error"]
        assert error["code"] == "STORAGE_UNAVAILABLE"
        assert (
            f"cannot reach Redis at redis://127.0.0.1:{dedicated_redis.port}/0" in error["message"]
        )
    for method, path in [("get", "/__sandbox/keys"), ("post", "/__sandbox/keys"),
                         ("get", "/__sandbox/requests"), ("post", "/__sandbox/reset"),
                         ("get", "/__sandbox/scenarios"), ("get", "/__sandbox/webhooks"),
                         ("get", "/__sandbox/usage")]:  # fmt: skip
        response = getattr(client, method)(path, json={} if method == "post" else None)
        assert response.status_code == 503, (path, response.data)
        assert response.json["error"]["code"] == "STORAGE_UNAVAILABLE"

    # back on the same port (empty: no persistence): the sandbox reconnects by itself
    again = subprocess.Popen(
        [str(REDIS_SERVER), "--port", str(dedicated_redis.port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        status = None
        while time.monotonic() < deadline and status != 200:
            status = client.get("/v1/users", headers=auth).status_code
            time.sleep(0.05)
        assert status == 200
        assert client.get("/v1/users?limit=1", headers=auth).json["meta"]["total"] == 25
    finally:
        again.terminate()
        again.wait(timeout=10)
