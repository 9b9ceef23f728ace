"""A real headless Chromium for tests that look at pages as a person would.

The browser is Debian's ``chromium`` package, which ``make test`` installs; Playwright only
drives it, and never downloads a browser of its own. Without it the tests that ask for a
``browser`` or ``page`` fail, rather than skip, so a green run always means they ran.

Loaded for every test as a plugin by ``tests/conftest.py``. Screenshots go to
``test-artifacts/`` at the repository root, and every failed test that used ``page`` leaves
one there too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path(os.environ.get("SANDBOX_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
MISSING = (
    "{what} is missing, so the browser tests cannot run. Run `make test`, which installs "
    "Debian's chromium package (as root) and the test dependencies, or set SANDBOX_CHROMIUM "
    "to another Chromium. Do not run `playwright install`."
)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test process (each xdist worker has its own)."""
    if not CHROMIUM.is_file():
        pytest.fail(MISSING.format(what=f"Chromium ({CHROMIUM})"), pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(MISSING.format(what="Playwright (the test extra)"), pytrace=False)
    # Chromium refuses its sandbox to root, and CI runs as root
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=args
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page in its own context: no cookies or storage shared between tests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    opened = context.new_page()
    yield opened
    report = getattr(request.node, "browser_call_report", None)
    if report is not None and report.failed:
        screenshot(opened, f"{request.node.name}-failed")
    context.close()


def stay_local(page: Page) -> list[str]:
    """Every URL the page asks for; anything off 127.0.0.1 is also refused, so a mistake
    fails the test's assertion instead of leaving the machine."""
    from urllib.parse import urlsplit

    requested: list[str] = []
    page.on("request", lambda sent: requested.append(sent.url))

    def local_only(route, sent) -> None:
        if urlsplit(sent.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    page.route("**/*", local_only)
    return requested


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as ``test-artifacts/<name>.png`` and return the file."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    report = yield
    if report.when == "call":
        item.browser_call_report = report  # type: ignore[attr-defined]
    return report
