"""The phone layout (390 px) against the desktop one (1440 px): navigation behind a Menu button that works by
keyboard, filters folded behind a "Filters" button, charts with their legend below the plot and titles inside
the chart, wide tables scrolling in their own box (issue 14 item 15)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _box(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, locator
    return box


@pytest.fixture
def overview(open_as: Any, live_server: Any, ledger: dict, officer: Any) -> Any:
    watch = open_as("olivia")
    watch.page.set_viewport_size(PHONE)
    watch.page.goto(live_server.url + reverse("org-overview", args=["acme"]))
    watch.page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")
    return watch


def test_the_navigation_folds_behind_a_menu_button_that_works_by_keyboard(overview):
    page = overview.page
    toggle = page.locator("button.nav-toggle")
    nav = page.locator("#main-nav")
    assert toggle.is_visible() and toggle.get_attribute("aria-controls") == "main-nav"
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not nav.is_visible()

    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert nav.is_visible() and nav.get_by_role("link", name="Overview").is_visible()
    # Every link of the open menu is within the screen's width.
    for link in nav.locator("a").all():
        box = _box(link)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], link.inner_text()
    overview.shot("phone-navigation-open")

    page.keyboard.press("Tab")  # into the menu; Escape closes it from there and gives focus back to the button
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not nav.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('nav-toggle')")
    page.keyboard.press(" ")
    assert toggle.get_attribute("aria-expanded") == "true"

    # Wide again: the navigation is a plain row and the button is gone.
    page.set_viewport_size(DESKTOP)
    assert nav.is_visible() and not toggle.is_visible()
    overview.assert_clean()


def test_the_filters_fold_behind_a_button_on_a_phone_and_stay_open_on_a_desktop(overview):
    page = overview.page
    form = page.locator("#filters")
    summary = page.locator("details.filter-fold > summary")
    assert summary.is_visible() and summary.inner_text().startswith("Filters")
    assert not form.is_visible()
    summary.click()
    assert form.is_visible()
    # Stacked fields, each within the screen.
    for field in form.locator("select, input:not([type=hidden])").all():
        box = _box(field)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    overview.shot("phone-filters-open")
    summary.click()
    assert not form.is_visible()

    page.set_viewport_size(DESKTOP)
    assert form.is_visible() and not summary.is_visible()
    overview.assert_clean()


LEGENDS_JS = """() => [...document.querySelectorAll('div.chart.js-plotly-plot')].map(el => {
  const r = b => b && b.getBoundingClientRect();
  const box = r(el), plot = r(el.querySelector('.nsewdrag')), legend = r(el.querySelector('.legend'));
  const title = r(el.querySelector('.gtitle'));
  return {
    id: el.id,
    box: [box.left, box.top, box.right, box.bottom],
    plot: plot && [plot.left, plot.top, plot.right, plot.bottom],
    legend: legend && [legend.left, legend.top, legend.right, legend.bottom],
    title: title && [title.left, title.top, title.right, title.bottom],
  };
})"""


def test_charts_put_the_legend_below_and_keep_the_title_whole_on_a_phone(overview):
    page = overview.page
    charts = page.evaluate(LEGENDS_JS)
    assert len(charts) >= 5
    with_legend = [chart for chart in charts if chart["legend"]]
    assert with_legend, charts  # the trend and scope charts have one
    for chart in charts:
        left, top, right, bottom = chart["box"]
        if chart["title"]:
            t_left, t_top, t_right, _ = chart["title"]
            assert t_left >= left - 1 and t_right <= right + 1 and t_top >= top - 1, chart
        if chart["legend"]:
            l_left, l_top, l_right, l_bottom = chart["legend"]
            assert l_top >= chart["plot"][3], chart  # below the plot area
            assert l_left >= left - 1 and l_right <= right + 1 and l_bottom <= bottom + 1, chart
    overview.shot("phone-overview-charts")

    # Turned to a wide screen, the same chart is redrawn with its legend at the right of the plot again.
    page.set_viewport_size(DESKTOP)
    page.wait_for_function(
        "() => document.querySelector('#chart-trend').layout.legend.orientation === 'v'", timeout=5_000
    )
    page.wait_for_timeout(300)
    trend = next(chart for chart in page.evaluate(LEGENDS_JS) if chart["id"] == "chart-trend")
    assert trend["legend"][0] >= trend["plot"][2]
    overview.assert_clean()


def test_a_wide_table_scrolls_in_its_box_not_the_page(open_as, live_server, ledger, officer):
    watch = open_as("olivia")
    page = watch.page
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + reverse("project-detail", args=["acme", "ml"]))
    wrap = page.locator(".table-wrap:has(#sources)")
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth"), "the sources table is wider than a phone"
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # Its caption stays within the screen while the table scrolls under it.
    caption = _box(page.locator("#sources caption"))
    assert caption["x"] + caption["width"] <= PHONE["width"]
    watch.assert_clean()
