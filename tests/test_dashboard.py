"""The dashboard at ``/__sandbox/``: rendered by the server with what is there to see, served
from this process only, escaped, and behind the admin token when the sandbox is reachable."""

from __future__ import annotations

import re
import time
import uuid
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sandbox import create_app, load_settings
from sandbox.admin.token import COOKIE
from sandbox.scenarios.presets import PRESETS
from tests.conftest import DEFAULT_SPEC
from tests.webhook_receiver import Receiver, start_receiver

CONTENT_TYPES = {".css": ("text/css",), ".js": ("text/javascript", "application/javascript")}


class _Page(HTMLParser):
    """The URLs a page loads or links to, and the ``data-testid`` elements it has."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.testids: dict[str, list[dict[str, str | None]]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href", "action", "formaction"):
            if found.get(name):
                self.urls.append(str(found[name]))
        testid = found.get("data-testid")
        if testid:
            self.testids.setdefault(testid, []).append(found)


def read_page(client: FlaskClient) -> tuple[str, _Page]:
    response = client.get("/__sandbox/")
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    page = _Page()
    page.feed(html)
    return html, page


def make_app(**overrides: object) -> Flask:
    settings = load_settings(DEFAULT_SPEC, environ={}, overrides={"state": ":memory:", **overrides})
    return create_app(DEFAULT_SPEC, settings)


@pytest.fixture
def receiver() -> Receiver:
    started = start_receiver()
    yield started
    started.close()


def test_the_page_shows_credentials_presets_and_requests(client, auth, api_key) -> None:
    marker = uuid.uuid4().hex
    listed = client.get("/v1/users", headers={**auth, "X-Request-Id": marker})
    assert listed.status_code == 200
    invalid = client.post("/v1/users", json={"bogus": 1}, headers=auth)
    assert invalid.status_code == 400

    html, page = read_page(client)
    keys = [found["data-id"] for found in page.testids["key"]]
    assert api_key in keys
    assert api_key in html
    sandbox = client.application.extensions["sandbox"]
    client_id, secret = sandbox.settings.default_oauth_client
    assert client_id in html and secret in html
    assert f"http://localhost{sandbox.oauth.surface.token_path}" in html  # the token URL
    assert [found["data-id"] for found in page.testids["preset"]] == list(PRESETS)
    forms = [found["data-key"] for found in page.testids["scenario-form"]]
    assert api_key in forms and "" in forms  # a switch for the key, and one for every key

    requests = {found["data-id"]: found for found in page.testids["request"]}
    assert marker in html  # the request id, in the entry's details
    statuses = {found["data-status"] for found in requests.values()}
    assert {"200", "400"} <= statuses
    flagged = [found for found in requests.values() if found["data-problems"] != "0"]
    assert flagged and "has-problems" in str(flagged[0]["class"])
    assert "is not a known field" in html


def test_the_page_loads_nothing_from_elsewhere(client) -> None:
    html, page = read_page(client)
    for url in page.urls:
        parts = urlsplit(url)
        assert not parts.netloc or parts.netloc == "localhost", f"{url} is not this sandbox"
    # nothing the page ships names another host: only data from the sandbox's traffic could
    fresh = make_app().test_client()
    html, _ = read_page(fresh)
    for script in ("dashboard.js", "dashboard.css"):
        html += fresh.get(f"/__sandbox/static/{script}").get_data(as_text=True)
    urls = re.findall(r"[a-z][a-z0-9+.-]*://[^\s\"'<>)]*", html)
    assert urls, "the page names its own URLs (the API's, the token URL)"
    hosts = {urlsplit(url).hostname for url in urls}
    assert hosts == {"localhost"}, hosts


def test_assets_are_served_with_their_content_type(client) -> None:
    _html, page = read_page(client)
    assets = [url for url in page.urls if url.startswith("/__sandbox/static/")]
    assert {url.rsplit(".", 1)[1] for url in assets} == {"css", "js"}
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.mimetype in CONTENT_TYPES["." + asset.rsplit(".", 1)[1]], asset


def test_the_page_says_where_it_may_load_from(client) -> None:
    response = client.get("/__sandbox/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert response.headers["Cache-Control"] == "no-store"  # it shows credentials


def test_without_the_slash_it_redirects(client) -> None:
    response = client.get("/__sandbox")
    assert response.status_code in (301, 302, 303, 307, 308)
    assert urlsplit(response.headers["Location"]).path == "/__sandbox/"


def test_what_callers_sent_is_escaped(client, auth) -> None:
    client.get("/v1/users/<img src=x onerror=alert(1)>", headers=auth)
    client.post(
        "/v1/users", data='{"name": "</script><script>alert(2)</script>"}', headers=auth,
        content_type="application/json",
    )  # fmt: skip
    html, _page = read_page(client)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert(2)" not in html
    assert html.count("<script") == 2  # the page's own script and its JSON config


def test_deliveries_show_signatures_and_retry_state(receiver: Receiver) -> None:
    receiver.answer = lambda n: (500, {}, 0.0)
    app = make_app(webhook_backoff=60.0)
    client = app.test_client()
    made = client.post("/__sandbox/webhooks", json={"url": receiver.url, "events": ["*"]})
    assert made.status_code == 201
    sent = client.post("/__sandbox/events", json={"type": "user.created"})
    [delivery_id] = sent.json["deliveries"]
    received = receiver.wait_for(1)
    outbox = app.extensions["sandbox"].webhooks.outbox
    deadline = time.monotonic() + 10
    while not outbox.get(delivery_id).attempts and time.monotonic() < deadline:
        time.sleep(0.02)

    html, page = read_page(client)
    [delivery] = page.testids["delivery"]
    assert delivery["data-id"] == delivery_id and delivery["data-status"] == "pending"
    assert "attempt 1 of 3" in html
    assert "next try" in html  # when the retry is due
    assert received[0].headers["X-Signature"] in html
    assert "X-Webhook-Timestamp" in html
    assert [found["data-attempt"] for found in page.testids["attempt"]] == ["1"]
    assert page.testids["redeliver"][0]["data-id"] == delivery_id


# -- the admin token -----------------------------------------------------------------------
@pytest.fixture
def guarded() -> FlaskClient:
    app = make_app(host="0.0.0.0", admin_token="adm_test")
    assert app.extensions["sandbox"].admin_token == "adm_test"
    return app.test_client()


def test_a_reachable_sandbox_needs_the_token(guarded: FlaskClient) -> None:
    assert guarded.get("/__sandbox/").status_code == 401
    assert guarded.get("/__sandbox/?token=wrong").status_code == 401
    assert guarded.get_cookie(COOKIE) is None
    assert guarded.get("/__sandbox/requests").status_code == 401


def test_the_token_link_sets_a_cookie_the_page_and_api_accept(guarded: FlaskClient) -> None:
    response = guarded.get("/__sandbox/?token=adm_test")
    assert response.status_code == 302
    assert response.headers["Location"] == "/__sandbox/"  # the token leaves the address bar
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=adm_test;")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/__sandbox" in cookie

    assert guarded.get("/__sandbox/").status_code == 200
    assert guarded.get("/__sandbox/requests").json == {"requests": []}
    switched = guarded.post("/__sandbox/scenarios/active", json={"scenario": "not_found"})
    assert switched.status_code == 201
    assert guarded.get("/__sandbox/static/dashboard.js").status_code == 200


def test_the_bare_path_keeps_the_token(guarded: FlaskClient) -> None:
    response = guarded.get("/__sandbox?token=adm_test", follow_redirects=True)
    assert response.status_code == 200
    assert guarded.get_cookie(COOKIE, path="/__sandbox").value == "adm_test"


def test_a_wrong_token_beside_a_good_credential_is_not_kept(guarded: FlaskClient) -> None:
    response = guarded.get("/__sandbox/?token=nope", headers={"X-Sandbox-Admin-Token": "adm_test"})
    assert response.status_code == 302
    assert "Set-Cookie" not in response.headers


def test_a_stale_cookie_does_not_hide_a_fresh_token(tmp_path) -> None:
    settings = load_settings(
        DEFAULT_SPEC, environ={},
        overrides={"state": str(tmp_path / "s"), "host": "0.0.0.0", "admin_token": "adm_new"},
    )  # fmt: skip
    client = create_app(DEFAULT_SPEC, settings).test_client()
    client.set_cookie("sandbox_admin_token", "adm_from_an_earlier_run", path="/__sandbox")
    assert client.get("/__sandbox/requests").status_code == 401
    welcomed = client.get("/__sandbox/?token=adm_new")
    assert welcomed.status_code == 302
    assert client.get("/__sandbox/requests").status_code == 200  # the cookie was replaced


def test_a_browser_without_the_token_gets_a_page_that_asks_for_it(tmp_path) -> None:
    settings = load_settings(
        DEFAULT_SPEC, environ={},
        overrides={"state": str(tmp_path / "s"), "host": "0.0.0.0", "admin_token": "adm_x"},
    )  # fmt: skip
    client = create_app(DEFAULT_SPEC, settings).test_client()
    page = client.get("/__sandbox/", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 401 and page.mimetype == "text/html"
    assert 'name="token"' in page.get_data(as_text=True)
    api = client.get("/__sandbox/requests", headers={"Accept": "application/json"})
    assert api.status_code == 401 and api.json["error"]["code"] == "admin_token_required"
