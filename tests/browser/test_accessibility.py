"""Accessibility beyond the every-page walk (issue 14 item 18).

tests/browser/test_every_page.py runs axe-core on every page each demo login can open, at desktop and phone size.
Here: the officer's entry forms with their errors shown, the anonymous pages (login, failed login, 404), and a
bad page that proves the check fails and says where. Serious or critical findings fail; every finding of any
impact is written to test-artifacts/accessibility/<name>.json (tests/browser/axe.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.axe import axe_load, axe_report, axe_violations
from tests.site_map import SitePage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REQUIRED_TEXT = ":is(input:not([type]), input[type=text], input[type=number], input[type=date], textarea)[required]"


def _check(name: str, checked: list[str], found: list[dict[str, Any]], **where: Any) -> None:
    blocking = axe_report(name, checked, found, **where)
    assert not blocking, f"{len(blocking)} serious or critical axe violations for {name}:\n" + "\n".join(blocking)


def test_every_entry_form_of_the_officer_passes_axe_with_its_errors_shown(demo_site, open_demo, live_server):
    """Error messages, aria-invalid and aria-describedby only exist after a bad submission: each entry form the
    officer can open is sent with its required text fields emptied, and the page with its alerts is checked."""
    axe = axe_load()
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
        found += axe_violations(axe, page, site_page.name + " (errors)")
    assert len(with_errors) >= 3, with_errors  # the walk reached the forms, not just one
    _check("officer-forms", with_errors, found)


def test_the_login_and_not_found_pages_pass_axe(browser, live_server, transactional_db):
    axe = axe_load()
    context = browser.new_context()
    try:
        page = context.new_page()
        found: list[dict[str, Any]] = []
        for name, url in (("login", "/login/"), ("not-found", "/no-such-page/")):
            page.goto(live_server.url + url)
            found += axe_violations(axe, page, name)
        # A failed login shows its alert: the error state is checked too.
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", "nobody")
        page.fill("#id_password", "wrong")
        page.keyboard.press("Enter")
        page.wait_for_selector("[role=alert]")
        found += axe_violations(axe, page, "login-failed")
    finally:
        context.close()
    _check("anonymous", ["login", "not-found", "login-failed"], found)


def test_the_check_fails_on_a_page_with_a_serious_violation(browser, tmp_path):
    """The walk above passes on our pages; this shows that it would not pass on a page with an unlabelled input
    and grey-on-white text (axe's label and color-contrast rules), and says where."""
    axe = axe_load()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(
            '<!doctype html><html lang="en"><head><title>Bad</title></head><body><main><h1>Bad</h1>'
            '<p style="color:#aaa">faint</p><input id="nameless"></main></body></html>'
        )
        found = axe_violations(axe, page, "bad")
    finally:
        context.close()
    rules = {(v["rule"], v["impact"]) for v in found}
    assert {("label", "critical"), ("color-contrast", "serious")} <= rules
    with pytest.raises(AssertionError, match=r"bad \(about:blank\): label \[critical\].*#nameless"):
        _check("bad-page", ["bad"], found, reports=tmp_path)  # not among the real reports
