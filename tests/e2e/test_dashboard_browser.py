"""The dashboard in a real Chromium, as someone demoing failures uses it: traffic appears
live, a scenario switched on in the page changes what the client gets, and webhook deliveries
can be watched and redelivered. The page never reaches beyond the sandbox."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import requests

from tests.browser import screenshot, stay_local
from tests.webhook_receiver import start_receiver

if TYPE_CHECKING:  # without Playwright the `page` fixture fails, saying how to install it
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow

LOCAL = "127.0.0.1"


def assert_stayed_local(requested: list[str]) -> None:
    assert requested, "the page made no requests at all"
    elsewhere = [url for url in requested if urlsplit(url).hostname != LOCAL]
    assert not elsewhere, f"the dashboard reached beyond the sandbox: {elsewhere}"


def open_dashboard(page: Page, origin: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{origin}/__sandbox/")
    expect(page.get_by_test_id("live-status")).to_have_class("live is-live")


def bearer(live) -> dict[str, str]:
    return {"Authorization": f"Bearer {live.api_key}"}


def test_requests_appear_live_with_their_problems(live_server_factory, page: Page) -> None:
    from playwright.sync_api import expect

    live = live_server_factory()
    requested = stay_local(page)
    open_dashboard(page, live.origin)
    expect(page.get_by_test_id("credentials")).to_contain_text(live.api_key)
    entries = page.get_by_test_id("request")
    expect(entries).to_have_count(0)

    # made after the page loaded: only the page's polling can show them
    marker = uuid.uuid4().hex
    listed = requests.get(
        f"{live.base_url}/users", headers={**bearer(live), "X-Request-Id": marker}, timeout=10
    )
    assert listed.status_code == 200
    invalid = requests.post(
        f"{live.base_url}/users", json={"bogus": 1}, headers=bearer(live), timeout=10
    )
    assert invalid.status_code == 400

    expect(entries).to_have_count(2)
    newest, oldest = entries.nth(0), entries.nth(1)
    expect(newest.get_by_test_id("request-status")).to_have_text("400")
    expect(newest).to_have_class(re.compile(r"\bis-error\b.*\bhas-problems\b"))
    expect(newest.get_by_test_id("request-problems")).to_contain_text("bogus")
    expect(newest.get_by_test_id("request-problems")).to_contain_text("is not a known field")
    expect(oldest.get_by_test_id("request-status")).to_have_text("200")
    expect(oldest).to_contain_text("GET")
    expect(oldest).to_contain_text("/v1/users")
    expect(oldest).to_contain_text("listUsers")

    # a click shows the whole exchange
    exchange = oldest.locator(".exchange")
    expect(exchange).to_be_hidden()
    oldest.locator("summary").click()
    expect(exchange).to_be_visible()
    expect(exchange).to_contain_text(marker)
    expect(exchange).to_contain_text("X-RateLimit-Remaining")
    expect(exchange).to_contain_text('"success"')

    # the filter keeps the entries with validation problems
    page.get_by_test_id("request-filter-problems").check()
    expect(oldest).to_be_hidden()
    expect(newest).to_be_visible()
    page.get_by_test_id("request-filter-problems").uncheck()
    screenshot(page, "dashboard-loaded")
    assert_stayed_local(requested)


def test_a_scenario_switched_in_the_page_reaches_the_client(live_server_factory, page) -> None:
    from playwright.sync_api import expect

    live = live_server_factory()
    requested = stay_local(page)
    open_dashboard(page, live.origin)
    switch = page.locator(f'[data-testid="scenario-form"][data-key="{live.api_key}"]')
    active = page.get_by_test_id("active-scenario")

    switch.get_by_test_id("scenario-select").select_option("not_found")
    switch.get_by_test_id("scenario-count").fill("1")
    switch.get_by_test_id("scenario-activate").click()
    expect(active).to_have_count(1)
    expect(active).to_contain_text("not_found")
    expect(active).to_contain_text("1 left")

    users = f"{live.base_url}/users"
    assert requests.get(users, headers=bearer(live), timeout=10).status_code == 404
    assert requests.get(users, headers=bearer(live), timeout=10).status_code == 200  # used up
    expect(active).to_have_count(0)

    switch.get_by_test_id("scenario-select").select_option("rate_limited")
    switch.get_by_test_id("scenario-operation").select_option("listUsers")
    switch.get_by_test_id("scenario-params").fill("retry_after=7")
    switch.get_by_test_id("scenario-count").fill("")  # until cleared
    switch.get_by_test_id("scenario-activate").click()
    expect(active).to_contain_text("rate_limited")
    expect(active).to_contain_text("until cleared")
    limited = requests.get(users, headers=bearer(live), timeout=10)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"  # the parameter typed in the page
    other = requests.get(f"{live.base_url}/orders", headers=bearer(live), timeout=10)
    assert other.status_code == 200  # only listUsers was switched

    entries = page.get_by_test_id("request")
    expect(entries.first.get_by_test_id("request-status")).to_have_text("200")
    expect(entries.nth(1).get_by_test_id("request-status")).to_have_text("429")
    expect(entries.nth(1)).to_contain_text("rate_limited")
    expect(entries.nth(3)).to_contain_text("not_found")
    screenshot(page, "dashboard-scenario")

    active.get_by_test_id("clear-scenario").click()
    expect(active).to_have_count(0)
    assert requests.get(users, headers=bearer(live), timeout=10).status_code == 200
    assert_stayed_local(requested)


def test_a_delivery_and_its_redelivery_appear(live_server_factory, page: Page) -> None:
    from playwright.sync_api import expect

    live = live_server_factory()
    receiver = start_receiver()
    try:
        requested = stay_local(page)
        open_dashboard(page, live.origin)
        admin = f"{live.origin}/__sandbox"
        subscribed = requests.post(
            f"{admin}/webhooks", json={"url": receiver.url, "events": ["*"]}, timeout=10
        )
        assert subscribed.status_code == 201
        sent = requests.post(f"{admin}/events", json={"type": "user.created"}, timeout=10)
        assert sent.status_code == 202
        [delivery_id] = sent.json()["deliveries"]
        first = receiver.wait_for(1)[0]

        delivery = page.locator(f'[data-testid="delivery"][data-id="{delivery_id}"]')
        expect(delivery.get_by_test_id("delivery-status")).to_have_text("delivered")
        expect(delivery.get_by_test_id("delivery-attempts")).to_have_text("attempt 1 of 3")
        expect(delivery).to_contain_text("user.created")
        expect(delivery).to_contain_text(receiver.url)
        signature = delivery.locator('[data-attempt="1"]').get_by_test_id("signature")
        expect(signature).to_contain_text("X-Signature")
        expect(signature).to_contain_text(first.headers["X-Signature"])
        expect(signature).to_contain_text("X-Webhook-Timestamp")

        delivery.get_by_test_id("redeliver").click()
        second = delivery.locator('[data-testid="attempt"][data-attempt="2"]')
        expect(second).to_be_visible()
        expect(second).to_contain_text("200")
        expect(second.get_by_test_id("signature")).to_contain_text("X-Signature")
        expect(delivery.get_by_test_id("delivery-attempts")).to_have_text("attempt 2 of 4")
        expect(delivery.get_by_test_id("delivery-status")).to_have_text("delivered")
        assert len(receiver.wait_for(2)) == 2
        expect(page.get_by_test_id("subscription")).to_contain_text(receiver.url)
        screenshot(page, "dashboard-webhooks")
        assert_stayed_local(requested)
    finally:
        receiver.close()


def test_the_admin_token_link_opens_a_live_page(live_server_factory, page: Page) -> None:
    """Beyond loopback the page needs the token: the link the banner prints sets a cookie
    that the page's own API calls carry."""
    from playwright.sync_api import expect

    live = live_server_factory(host="0.0.0.0", admin_token="adm_e2e")
    requested = stay_local(page)
    refused = page.goto(f"{live.origin}/__sandbox/")
    assert refused is not None and refused.status == 401

    page.goto(f"{live.origin}/__sandbox/?token=adm_e2e")
    assert urlsplit(page.url).path == "/__sandbox/" and not urlsplit(page.url).query
    expect(page.get_by_test_id("live-status")).to_have_class("live is-live")
    requests.get(f"{live.base_url}/users", headers=bearer(live), timeout=10)
    expect(page.get_by_test_id("request")).to_have_count(1)
    assert_stayed_local(requested)
