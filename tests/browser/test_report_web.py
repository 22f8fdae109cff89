"""The ESRS report's web view in a browser: its own page (report.html shared with the PDF, not base.html), so the
app's layout rules do not reach it. At 390 px: no missing file, no sideways scroll (the signed report's sign-off
line carries a 64-character hash), each facts table that overflows is a tab stop that keeps its table role, and
each figure link is a 24 px target (WCAG 2.2). At 1440 px no table is a tab stop."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from reports.esrs import services as report_services
from reports.models import Report
from tests.browser.conftest import DESKTOP, PHONE
from tests.esrs.conftest import acme  # noqa: F401  (fixture reused)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLES_JS = """() => [...document.querySelectorAll('table.facts')].map(t => ({
  id: t.id || t.className, overflows: t.scrollWidth > t.clientWidth + 1,
  tabindex: t.getAttribute('tabindex'), role: t.getAttribute('role')}))"""


@pytest.fixture
def signed(acme: Any, officer: Any) -> Report:  # noqa: F811
    report = Report.objects.create(organisation=acme, period="2026-Q2", created_by=officer)
    report_services.report_generate(report_id=report.pk)
    return report_services.report_sign(report=Report.objects.get(pk=report.pk), user=officer)


def test_the_signed_report_reads_on_a_phone_and_its_scrolling_tables_take_the_keyboard(
    open_as: Any, live_server: Any, signed: Report
) -> None:
    watch = open_as("olivia")
    page = watch.page
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + reverse("esrs-report-view", args=["acme", signed.pk]))
    page.wait_for_load_state("networkidle")

    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    tables = page.evaluate(TABLES_JS)
    wide = [t for t in tables if t["overflows"]]
    assert wide, "no facts table is wider than a phone: the test checks nothing"
    assert all(t["tabindex"] == "0" and t["role"] is None for t in wide), wide
    assert all(t["tabindex"] is None for t in tables if not t["overflows"]), tables
    # A scrolling table takes the focus, and the arrow keys scroll it.
    first = page.locator("table.facts[tabindex='0']").first
    first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("el => el.scrollLeft > 0", arg=first.element_handle())
    links = page.locator("#table-e1_6 td.num > a")
    assert links.count() > 0
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None and box["height"] >= 24 and box["width"] >= 24, (links.nth(i).inner_text(), box)
    watch.assert_clean()  # no console error: the logo is fetched from /static/, not next to the page

    page.set_viewport_size(DESKTOP)
    page.wait_for_function("() => !document.querySelector('table.facts[tabindex]')")
