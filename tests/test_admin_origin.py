"""A web page of another site cannot read the admin API's secrets, change its state or aim
its webhooks, even though the sandbox listens on loopback; the API itself stays open to
browsers (CORS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox import create_app, load_settings
from tests.conftest import DEFAULT_SPEC

EVIL = "https://evil.example"


@pytest.fixture
def sandbox(tmp_path: Path):
    settings = load_settings(
        DEFAULT_SPEC, environ={}, overrides={"state": str(tmp_path / "state.sqlite")}
    )
    app = create_app(DEFAULT_SPEC, settings)
    client = app.test_client()
    yield client, app.extensions["sandbox"], settings
    app.extensions["sandbox"].webhooks.worker.stop()


def test_admin_answers_carry_no_cors_headers_for_a_foreign_page(sandbox) -> None:
    client, _, settings = sandbox
    read = client.get("/__sandbox/keys", headers={"Origin": EVIL})
    assert read.status_code == 200  # curl may read it; a browser script of EVIL may not
    assert not [h for h in read.headers if h[0].lower().startswith("access-control-")]
    assert read.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert read.headers["X-Frame-Options"] == "DENY"
    preflight = client.options(
        "/__sandbox/keys",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    assert "Access-Control-Allow-Origin" not in preflight.headers
    docs = client.get("/docs/", headers={"Origin": EVIL})  # the page holds the banner key
    assert settings.default_api_key in docs.get_data(as_text=True)
    assert "Access-Control-Allow-Origin" not in docs.headers


def test_the_api_itself_stays_open_to_browsers(sandbox) -> None:
    client, _, settings = sandbox
    auth = {"Authorization": f"Bearer {settings.default_api_key}", "Origin": EVIL}
    answer = client.get("/v1/users", headers=auth)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        "/v1/users", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204


def test_a_browser_may_read_every_header_the_sandbox_adds_to_an_api_answer(sandbox) -> None:
    """The headers the sandbox itself adds (rate limits, request id, the scenario applied,
    a replay, where a status came from) are listed in Access-Control-Expose-Headers, or a
    front end calling the sandbox could not read them."""
    client, _, settings = sandbox
    auth = {"Authorization": f"Bearer {settings.default_api_key}", "Origin": EVIL}
    answers = [
        client.get("/v1/users", headers=auth),
        client.get("/v1/users", headers={**auth, "X-Sandbox-Scenario": "slow; latency=1ms"}),
        client.post("/v1/users", json={"name": "Ada", "email": "ada@example.com"},
                    headers={**auth, "Idempotency-Key": "k1"}),
        client.post("/v1/users", json={"name": "Ada", "email": "ada@example.com"},
                    headers={**auth, "Idempotency-Key": "k1"}),
    ]  # fmt: skip
    for answer in answers:
        exposed = {
            name.strip().lower()
            for name in answer.headers["Access-Control-Expose-Headers"].split(",")
        }
        ours = {
            name.lower()
            for name, _value in answer.headers  # werkzeug's Headers yields pairs
            if name.lower().startswith(("x-", "idempotent-", "retry-after", "location"))
        }
        assert ours and ours <= exposed, ours - exposed
    assert "Idempotent-Replayed" in answers[-1].headers
    assert "X-Sandbox-Scenario-Applied" in answers[1].headers


@pytest.mark.parametrize(
    ("path", "body"),
    [("/__sandbox/keys", '{"plan": "pro"}'),
     ("/__sandbox/webhooks", '{"url": "http://127.0.0.1:9/x", "events": ["*"]}'),
     ("/__sandbox/reset", ""),
     ("/__sandbox/events", '{"type": "user.created"}'),
     ("/__sandbox/scenarios/active", '{"scenario": "server_error"}')],
)  # fmt: skip
@pytest.mark.parametrize(
    "headers",
    [{"Origin": EVIL, "Content-Type": "text/plain"},  # a fetch() no browser asks about first
     {"Origin": "null", "Content-Type": "application/x-www-form-urlencoded"},  # a sandboxed form
     {"Origin": "http://127.0.0.1:3000", "Content-Type": "application/json"},  # another port
     {"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
     {"Sec-Fetch-Site": "same-site", "Content-Type": "application/json"}],
)  # fmt: skip
def test_writes_from_another_origin_are_refused_and_change_nothing(sandbox, path, body, headers):
    client, box, settings = sandbox
    auth = {"Authorization": f"Bearer {settings.default_api_key}"}
    user = {"name": "Kept", "email": "kept@example.com"}
    made = client.post("/v1/users", json=user, headers=auth)
    assert made.status_code == 201
    keys_before = len(box.keys.all())
    refused = client.post(path, data=body, headers=headers)
    assert refused.status_code == 403, refused.get_data(as_text=True)
    assert refused.json["error"]["code"] == "cross_origin_refused"
    assert len(box.keys.all()) == keys_before
    assert box.webhooks.subscriptions.all() == []
    assert box.webhooks.outbox.find(limit=5) == []
    assert client.get(f"/v1/users/{made.json['data']['id']}", headers=auth).status_code == 200
    assert client.get("/__sandbox/scenarios/active").json["active"] == []


def test_writes_must_be_json_even_without_an_origin(sandbox) -> None:
    client, box, _ = sandbox
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data"):
        refused = client.post("/__sandbox/keys", data='{"plan": "pro"}', content_type=content_type)
        assert refused.status_code == 415, content_type
        assert refused.json["error"]["code"] == "json_required"
    refused = client.put("/__sandbox/chaos", data="error_rate=1", content_type="text/plain")
    assert refused.status_code == 415
    assert box.board.chaos().on is False


def test_the_dashboard_and_scripts_still_write(sandbox) -> None:
    client, _, _ = sandbox
    same_page = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    made = client.post("/__sandbox/keys", json={"plan": "pro"}, headers=same_page)
    assert made.status_code == 201
    assert client.post("/__sandbox/reset", headers=same_page).status_code == 200
    typed = client.post(
        "/__sandbox/keys", json={"plan": "free"}, headers={"Sec-Fetch-Site": "none"}
    )
    assert typed.status_code == 201  # the user's own action (a bookmark, the address bar)
    assert client.post("/__sandbox/keys", json={"plan": "free"}).status_code == 201  # curl


def test_a_rebound_name_cannot_read_the_admin_api_on_loopback(sandbox) -> None:
    """DNS rebinding: evil.example made to resolve to 127.0.0.1 is same-origin with itself."""
    client, _, _ = sandbox
    for path in ("/__sandbox/keys", "/__sandbox/config", "/__sandbox/", "/docs/"):
        rebound = client.get(path, headers={"Host": "evil.example:8000"})
        assert rebound.status_code == 403, path
        assert rebound.json["error"]["code"] == "host_not_allowed"
    for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000", "127.0.0.2"):
        assert client.get("/__sandbox/keys", headers={"Host": host}).status_code == 200, host
    assert client.get("/__sandbox/health", headers={"Host": "evil.example"}).status_code == 200


def test_beyond_loopback_any_host_name_with_the_admin_token(tmp_path: Path) -> None:
    settings = load_settings(
        DEFAULT_SPEC, environ={},
        overrides={"state": str(tmp_path / "s"), "host": "0.0.0.0", "admin_token": "adm_t"},
    )  # fmt: skip
    client = create_app(DEFAULT_SPEC, settings).test_client()
    token = {"X-Sandbox-Admin-Token": "adm_t", "Host": "sandbox.example.com"}
    assert client.get("/__sandbox/keys", headers=token).status_code == 200
    assert client.get("/__sandbox/keys", headers={"Host": "sandbox.example.com"}).status_code == 401
    foreign = client.post("/__sandbox/reset", headers={**token, "Origin": EVIL})
    assert foreign.status_code == 403
