"""axe-core on every page each demo login can open, plus the login and 404 pages (issue 14 item 18).

Each page is checked with axe's WCAG 2.0/2.1/2.2 A and AA rules and its best practices once its charts have
drawn; a serious or critical violation fails the test with the page, rule, impact and offending selectors.
Moderate and minor findings do not fail it but are written, with everything else axe found, to
test-artifacts/accessibility/<login>.json, with the pages checked, so they can be read and fixed when cheap.

axe-core comes from the axe-playwright-python package (requirements-dev.txt), which bundles axe.min.js: nothing
is fetched at run time. No rule and no part of a page is excluded, Plotly's markup included: a chart's container
is role="figure" (not "img", whose children are hidden from assistive technology while Plotly's mode-bar
buttons stay focusable, axe's nested-interactive).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DEMO_LOGINS, PageWatch
from tests.site_map import SitePage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "accessibility"
BLOCKING = ("serious", "critical")
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
REQUIRED_TEXT = ":is(input:not([type]), input[type=text], input[type=number], input[type=date], textarea)[required]"
# Every chart container is drawn by its page script; a page is read once each one holds Plotly's SVG.
CHARTS_DRAWN = "() => [...document.querySelectorAll('.chart[data-figure]')].every(el => el.querySelector('svg'))"


def _axe() -> Any:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        reason = "axe-playwright-python is not installed (pip install -r requirements-dev.txt)"
        if os.environ.get("GREENESG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"accessibility checks required on CI: {reason}")  # as the browser fixture does
        pytest.skip(reason)
    return Axe()


def _settle(page: Any) -> None:
    """Wait for the page's scripts: network quiet, every chart drawn, fonts laid out."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(CHARTS_DRAWN, timeout=15_000)
    page.evaluate("document.fonts.ready.then(() => true)")


def _violations(axe: Any, page: Any, name: str) -> list[dict[str, Any]]:
    """axe's violations on the open page, each reduced to what a person needs to find and fix it."""
    _settle(page)
    found = axe.run(page, options=AXE_OPTIONS).response["violations"]
    return [
        {
            "page": name,
            "url": page.url,
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [" ".join(map(str, node["target"])) for node in violation["nodes"]],
            "why": sorted({node.get("failureSummary", "") for node in violation["nodes"]}),
        }
        for violation in found
    ]


def _check(login: str, checked: list[str], found: list[dict[str, Any]]) -> None:
    """Write what was checked and found for a person to read, then fail on the serious and critical findings."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = {"pages": checked, "violations": found}
    (REPORTS / f"{login}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    blocking = [v for v in found if v["impact"] in BLOCKING]
    lines = [f"{v['page']} ({v['url']}): {v['rule']} [{v['impact']}] {v['help']} → {v['targets']}" for v in blocking]
    assert not blocking, f"{len(blocking)} serious or critical axe violations for {login}:\n" + "\n".join(lines)


@pytest.mark.parametrize("login", DEMO_LOGINS)
def test_every_page_of_a_demo_login_passes_axe(login, demo_site, open_demo, live_server):
    axe = _axe()
    pages: list[SitePage] = demo_site(login)
    assert len(pages) > 10, pages  # the walk found the site, not just the start page
    watch: PageWatch = open_demo(login)
    found: list[dict[str, Any]] = []
    checked = [*pages, SitePage("not-found", "/no-such-page/")]
    for site_page in checked:
        watch.page.goto(live_server.url + site_page.url)
        found += _violations(axe, watch.page, site_page.name)
    _check(login, [p.url for p in checked], found)


def test_every_entry_form_of_the_officer_passes_axe_with_its_errors_shown(demo_site, open_demo, live_server):
    """Error messages, aria-invalid and aria-describedby only exist after a bad submission: each entry form the
    officer can open is sent with its required text fields emptied, and the page with its alerts is checked."""
    axe = _axe()
    pages: list[SitePage] = demo_site("officer")
    page = open_demo("officer").page
    found: list[dict[str, Any]] = []
    with_errors: list[str] = []
    for site_page in pages:
        page.goto(live_server.url + site_page.url)
        # Only forms with a required text field: emptied, it must fail, so nothing is generated or saved.
        form = page.locator("main form[method=post][novalidate]").filter(has=page.locator(REQUIRED_TEXT))
        if form.count() == 0:
            continue
        form.first.locator(REQUIRED_TEXT).evaluate_all("els => els.forEach(el => { el.value = ''; })")
        form.first.locator("button[type=submit]").last.click()
        page.wait_for_load_state()
        assert page.locator("main [role=alert]").count(), f"{site_page.name}: an emptied required field gave no alert"
        with_errors.append(site_page.name)
        found += _violations(axe, page, site_page.name + " (errors)")
    assert len(with_errors) >= 3, with_errors  # the walk reached the forms, not just one
    _check("officer-forms", with_errors, found)


def test_the_login_and_not_found_pages_pass_axe(browser, live_server, transactional_db):
    axe = _axe()
    context = browser.new_context()
    try:
        page = context.new_page()
        found: list[dict[str, Any]] = []
        for name, url in (("login", "/login/"), ("not-found", "/no-such-page/")):
            page.goto(live_server.url + url)
            found += _violations(axe, page, name)
        # A failed login shows its alert: the error state is checked too.
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", "nobody")
        page.fill("#id_password", "wrong")
        page.keyboard.press("Enter")
        page.wait_for_selector("[role=alert]")
        found += _violations(axe, page, "login-failed")
    finally:
        context.close()
    _check("anonymous", ["login", "not-found", "login-failed"], found)


def test_the_check_fails_on_a_page_with_a_serious_violation(browser, tmp_path, monkeypatch):
    """The walk above passes on our pages; this shows that it would not pass on a page with an unlabelled input
    and grey-on-white text (axe's label and color-contrast rules), and says where."""
    axe = _axe()
    monkeypatch.setattr(sys.modules[__name__], "REPORTS", tmp_path)  # not among the real reports
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(
            '<!doctype html><html lang="en"><head><title>Bad</title></head><body><main><h1>Bad</h1>'
            '<p style="color:#aaa">faint</p><input id="nameless"></main></body></html>'
        )
        found = _violations(axe, page, "bad")
    finally:
        context.close()
    rules = {(v["rule"], v["impact"]) for v in found}
    assert {("label", "critical"), ("color-contrast", "serious")} <= rules
    with pytest.raises(AssertionError, match=r"bad \(about:blank\): label \[critical\].*#nameless"):
        _check("bad-page", ["bad"], found)
