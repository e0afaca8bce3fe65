"""Browser fixtures for the end-to-end tests: Debian's Chromium driven by Playwright's sync API
against pytest-django's `live_server`.

Playwright's sync API keeps an event loop in the test thread, so Django's "async unsafe" guard
would refuse every ORM call made from the test body or fixtures; turning it off is the standard
workaround (the live server itself runs in its own, ordinary thread).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000

try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None  # type: ignore[assignment]


_reference_rows: dict[str, list[object]] = {}


@pytest.fixture
def geo(db: None) -> None:
    """The reference data of `tests.conftest.geo`, restored faster: every live-server test
    starts from a flushed database, so the rows the real loaders produced the first time are
    kept and bulk-inserted again (same primary keys) instead of re-running the loaders."""
    from aman.geo.models import Country, Place
    from tests.conftest import load_reference_data

    if not Country.objects.exists():
        if _reference_rows:
            Country.objects.bulk_create(_reference_rows["countries"])
            Place.objects.bulk_create(_reference_rows["places"])
        else:
            load_reference_data()
    if not _reference_rows:
        _reference_rows["countries"] = list(Country.objects.order_by("pk"))
        _reference_rows["places"] = list(Place.objects.order_by("pk"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        pytest.skip("the playwright Python package is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        pytest.skip(
            f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        )
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser: Browser, live_server: object) -> Iterator[Callable[[], Page]]:
    """Opens a page in a fresh context (own cookies, so its own session) per call."""
    contexts: list[BrowserContext] = []

    def make() -> Page:
        context = browser.new_context(base_url=live_server.url, locale="en-GB")  # type: ignore[attr-defined]
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


@pytest.fixture
def sign_in() -> Callable[..., None]:
    """Signs a user in through the real login form."""
    from tests.factories import PASSWORD

    def do(
        page: Page, username: str, password: str = PASSWORD, *, expect_success: bool = True
    ) -> None:
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.get_by_role("button", name="Sign in").click()
        if expect_success:
            expect(page.get_by_role("button", name="Log out")).to_be_visible()

    return do
