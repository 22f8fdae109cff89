"""Keyboard only, no mouse (issue 14 item 18): the skip link, a dashboard filter, the wide runs table and a form,
each reached with Tab and used with the keys a keyboard user has, with a visible focus ring on the way."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from greenesg.footprint.models import LedgerEntry
from steering.models import Budget

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The ring of static/css/app.css (:focus-visible): 3 px of --focus (#b35c00) on light backgrounds.
FOCUS_RING = {"style": "solid", "width": "3px", "color": "rgb(179, 92, 0)"}
RING_JS = """() => { const s = getComputedStyle(document.activeElement);
  return {style: s.outlineStyle, width: s.outlineWidth, color: s.outlineColor}; }"""


def _tab_to(page: Any, selector: str, limit: int = 150) -> None:
    """Press Tab until the focused element matches the selector; fail if it is not reached in `limit` presses.

    A date input takes three presses (day, month, year), so a filter form costs a dozen on its own.
    """
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("sel => document.activeElement.matches(sel)", selector):
            return
    focused = page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")
    pytest.fail(f"{selector} not reached with {limit} Tab presses; focus is on {focused}")


def _focused(page: Any, selector: str) -> bool:
    return bool(page.evaluate("sel => document.activeElement.matches(sel)", selector))


def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_content(open_as, live_server, ledger, officer):
    page = open_as("olivia").page
    page.goto(live_server.url + reverse("org-overview", args=["acme"]))
    page.keyboard.press("Tab")
    assert _focused(page, "a.skip-link")
    box = page.locator("a.skip-link").bounding_box()
    assert box is not None and box["y"] >= 0, "the focused skip link must be on screen"
    assert page.evaluate(RING_JS)["style"] == "solid"
    page.keyboard.press("Enter")
    assert _focused(page, "main#main")
    # The next Tab starts inside the content, past the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('main') !== null")


def test_a_dashboard_filter_is_changed_and_applied_with_the_keyboard(open_as, live_server, ledger, officer):
    page = open_as("olivia").page
    page.goto(live_server.url + reverse("org-overview", args=["acme"]))
    _tab_to(page, "#filters select[name=scope]")
    assert page.evaluate(RING_JS) == FOCUS_RING
    # On Linux a closed <select> takes the arrow keys; the first option after "All" is scope 1.
    page.keyboard.press("ArrowDown")
    chosen = page.locator("#filters select[name=scope]").input_value()
    assert chosen != ""
    _tab_to(page, "#filters button[type=submit]")
    assert page.evaluate(RING_JS) == FOCUS_RING
    page.keyboard.press("Enter")
    page.wait_for_url(f"**scope={chosen}**")
    assert page.locator("#filters select[name=scope]").input_value() == chosen


def test_the_wide_runs_table_is_reached_and_scrolled_with_the_keyboard(open_as, live_server, ledger, engineer):
    LedgerEntry.objects.filter(pk=ledger["r1"].pk).update(
        experiment="hyperparameter-sweep-resnet50-imagenet-mixed-precision-batch-512",
        attributes={"cpu_model": "AMD EPYC 7B13 64-Core Processor with a long name"},
    )
    page = open_as("erin").page
    page.set_viewport_size({"width": 1024, "height": 800})
    page.goto(live_server.url + reverse("project-detail", args=["acme", "ml"]))
    box = page.locator(".table-wrap:has(table.runs)")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth"), "the runs table should overflow its box here"
    assert box.get_attribute("role") == "region" and "runs" in (box.get_attribute("aria-label") or "")
    _tab_to(page, ".table-wrap:has(table.runs)")
    assert page.evaluate(RING_JS)["style"] == "solid"
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("el => el.scrollLeft > 0", arg=box.element_handle())
    page.keyboard.press("End")  # the box, not the page, has focus: End reaches the far side of the table
    assert box.evaluate("el => el.scrollLeft") > 0


def test_a_table_box_is_a_tab_stop_only_while_it_overflows(open_as, live_server, ledger, officer):
    page = open_as("olivia").page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server.url + reverse("org-overview", args=["acme"]))
    boxes = page.locator(".table-wrap:not(:has(table.runs))")
    assert boxes.count() > 3
    fits = "el => el.scrollWidth <= el.clientWidth + 1"
    assert all(boxes.nth(i).evaluate(fits) for i in range(boxes.count()))
    assert page.locator(".table-wrap[tabindex]").count() == 0  # nothing to scroll, nothing to tab to
    page.set_viewport_size({"width": 360, "height": 800})
    page.wait_for_function("() => document.querySelector('.table-wrap[data-scroll-region]') !== null")
    regions = page.locator(".table-wrap[data-scroll-region]")
    for i in range(regions.count()):
        region = regions.nth(i)
        assert region.evaluate("el => el.scrollWidth > el.clientWidth")
        assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"
        assert (region.get_attribute("aria-label") or "").endswith("scrolls sideways")


def test_a_budget_form_is_filled_and_submitted_with_the_keyboard(open_as, live_server, project, officer):
    page = open_as("olivia").page
    page.goto(live_server.url + reverse("steering-budget-edit", args=["acme", "ml"]))
    _tab_to(page, "input[name=period]")
    assert page.evaluate(RING_JS) == FOCUS_RING
    page.keyboard.type("2026-Q4")
    page.keyboard.press("Tab")
    assert _focused(page, "input[name=kg]")
    page.keyboard.type("not a number")
    _tab_to(page, "main button[type=submit]")
    page.keyboard.press("Enter")
    # The error is announced (role="alert") and the bad field says so; nothing is saved.
    page.wait_for_selector("[role=alert]")
    assert page.locator("input[name=kg]").get_attribute("aria-invalid") == "true"
    assert not Budget.objects.exists()

    _tab_to(page, "input[name=kg]")
    page.keyboard.press("Control+A")
    page.keyboard.type("120.5")
    _tab_to(page, "select[name=basis]")
    page.keyboard.press("ArrowDown")  # location → market
    _tab_to(page, "main button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**period=2026-Q4**")
    budget = Budget.objects.get(project=project)
    assert (budget.period, budget.kg, budget.basis) == ("2026-Q4", 120.5, "market")


def test_the_project_checklist_is_filtered_and_ticked_with_the_keyboard(
    open_as, live_server, project, other_project, officer
):
    page = open_as("olivia").page
    page.goto(live_server.url + "/o/acme/members/")
    _tab_to(page, "fieldset.checklist input[type=search]")
    search = page.locator("fieldset.checklist input[type=search]")
    assert search.get_attribute("aria-label") == "Filter Projects"
    controlled = search.get_attribute("aria-controls")
    assert controlled and page.locator(f"#{controlled} input[type=checkbox]").count() == 2
    page.keyboard.type("web")
    assert page.locator("fieldset.checklist [role=status]").inner_text() == "1 of 2 projects shown"
    # Enter after typing a filter keeps the reader on the page: the member form is not submitted half-filled.
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert page.locator("[role=alert]").count() == 0 and page.locator(".message").count() == 0
    # The next tab stop is the one option left, and Space ticks it.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('label').textContent").strip().startswith("Web shop")
    page.keyboard.press("Space")
    assert page.locator(f"input[type=checkbox][value='{other_project.pk}']").is_checked()
    assert not page.locator(f"input[type=checkbox][value='{project.pk}']").is_visible()
