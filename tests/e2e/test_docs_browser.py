"""The docs page in a real Chromium: Swagger UI renders the spec and "Try it out" works."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.browser import screenshot, stay_local

if TYPE_CHECKING:  # without Playwright the `page` fixture fails, saying how to install it
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow

LOCAL = "127.0.0.1"


def test_try_it_out_calls_the_sandbox_with_the_banner_key(live_server_factory, page: Page) -> None:
    from playwright.sync_api import expect

    live = live_server_factory()
    requested = stay_local(page)
    page.goto(f"{live.origin}/docs")

    listing = page.locator("#operations-Users-listUsers")
    expect(listing).to_be_visible()
    assert rendered_operations(page) >= declared_operations(live)
    listing.locator(".opblock-summary-control").click()
    listing.get_by_role("button", name="Try it out").click()
    listing.get_by_role("button", name="Execute").click()

    live_response = listing.locator(".live-responses-table .response")
    expect(live_response.locator(".response-col_status")).to_have_text("200")
    expect(listing.locator(".request-url")).to_contain_text(f"{live.base_url}/users")
    expect(listing.locator(".curl")).to_contain_text(f"Authorization: Bearer {live.api_key}")
    expect(live_response.locator(".response-col_description")).to_contain_text('"success"')
    screenshot(page, "docs-try-it-out")

    schemes = {urlsplit(url).scheme for url in requested}
    assert schemes <= {"http", "data", "blob"}, requested
    elsewhere = [url for url in requested if urlsplit(url).scheme == "http"]
    elsewhere = [url for url in elsewhere if urlsplit(url).hostname != LOCAL]
    assert not elsewhere, f"the docs page reached beyond the sandbox: {elsewhere}"
    assert any(re.search(r"/v1/users(\?|$)", url) for url in requested)


def declared_operations(live) -> set[tuple[str, str]]:
    spec = live.app.extensions["sandbox"].spec
    return {(operation.method, operation.path) for operation in spec.operations}


def rendered_operations(page: Page) -> set[tuple[str, str]]:
    """Method and path of every operation Swagger UI shows (webhooks show no path)."""
    found = page.locator(".opblock-summary").evaluate_all(
        """summaries => summaries.map(summary => [
            summary.querySelector(".opblock-summary-method")?.textContent ?? "",
            summary.querySelector(".opblock-summary-path")?.dataset.path ?? "",
        ])"""
    )
    return {(method.upper(), path) for method, path in found}
