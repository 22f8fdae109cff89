"""Browser fixtures: Debian's Chromium driven by Python Playwright against pytest-django's live server.

Skips with the reason when Chromium or the playwright package is missing, except on CI
(GREENESG_REQUIRE_SERVICES=1), where a missing browser fails instead of hiding the suite.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reports.conftest import _fresh_cache, ledger, make_entry  # noqa: F401  (fixtures reused)
from tests.site_map import SitePage, demo_url_values, html_pages

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
DEMO_LOGINS = ("officer", "engineer", "auditor")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _unavailable() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _unavailable()
    if reason:
        if os.environ.get("GREENESG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"browser tests required on CI: {reason}")
        pytest.skip(reason)
    # Playwright's sync API runs an event loop in this thread; the ORM calls of fixtures and the live
    # server are still plain synchronous code, so Django's async-safety guard must be told.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            yield instance
            instance.close()
    finally:
        # Only for the browser tests: left set, it would leak into subprocesses of later tests.
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class PageWatch:
    """Console errors and any request that leaves the live server, collected for one page."""

    def __init__(self, page: Any, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(self.origin) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.outside == [], self.outside


def _logged_in(browser: Any, origin: str, username: str, password: str, viewport: dict[str, int]) -> PageWatch:
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch = PageWatch(page, origin)
    page.goto(origin + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()
    return watch


@pytest.fixture
def open_as(browser: Any, live_server: Any) -> Iterator[Any]:
    """A logged-in page for a test persona (tests/conftest.py: password "pw-<username>")."""
    watches: list[PageWatch] = []

    def login(username: str) -> PageWatch:
        watches.append(_logged_in(browser, live_server.url, username, "pw-" + username, {"width": 1280, "height": 900}))
        return watches[-1]

    yield login
    for watch in watches:
        watch.page.context.close()


@pytest.fixture
def demo_site(transactional_db: None) -> Callable[[str], list[SitePage]]:
    """The demo loaded into the live server's database; called with a demo login, the pages it can open."""
    import datetime as dt

    from django.contrib.auth.models import User
    from django.test import Client

    from demo.loader import demo_load

    demo_load(today=dt.date.today())  # noqa: DTZ011 - the demo is laid out by calendar day
    values = demo_url_values()

    def pages(username: str) -> list[SitePage]:
        client = Client()
        client.force_login(User.objects.get(username=username))
        return html_pages(client, values)

    return pages


@pytest.fixture
def open_demo(browser: Any, live_server: Any) -> Iterator[Callable[..., PageWatch]]:
    """A logged-in page for a demo login (password "demo") at a viewport size (DESKTOP or PHONE)."""
    watches: list[PageWatch] = []

    def login(username: str, viewport: dict[str, int] = DESKTOP) -> PageWatch:
        watches.append(_logged_in(browser, live_server.url, username, "demo", viewport))
        return watches[-1]

    yield login
    for watch in watches:
        watch.page.context.close()
