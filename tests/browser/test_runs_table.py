"""The runs table at 1440 px: it scrolls inside its box, the run column stays put, the last column is reachable
and no column is cut off (issue 14 item 8)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from greenesg.footprint.models import LedgerEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _box(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def test_the_runs_table_scrolls_in_its_box_with_a_sticky_run_column(open_as, live_server, ledger, engineer):
    LedgerEntry.objects.filter(pk=ledger["r1"].pk).update(
        experiment="hyperparameter-sweep-resnet50-imagenet-mixed-precision-batch-512",
        attributes={"cpu_model": "AMD EPYC 7B13 64-Core Processor with a long name"},
    )
    LedgerEntry.objects.filter(pk=ledger["r2"].pk).update(
        run_id="9f1c2e7a-52b4-4b7e-9a55-1e0c4d7a3b21", experiment="distillation-student-teacher-long-name"
    )
    watch = open_as("erin")
    page = watch.page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server.url + reverse("project-detail", args=["acme", "ml"]))
    wrap = page.locator(".table-wrap:has(table.runs)")
    table = wrap.locator("table.runs")
    assert page.locator("#runs-count").inner_text() == "3 runs"

    # The page itself never scrolls sideways: a wide table scrolls inside its box.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Long names make the table wider than its box at this width, as real experiment names and CPU models do.
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth"), "the table should overflow its box here"
    wrap.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    page.wait_for_timeout(100)
    wrap_box = _box(wrap)
    last = _box(table.locator("thead th").last)
    assert last["x"] >= wrap_box["x"] - 1 and last["x"] + last["width"] <= wrap_box["x"] + wrap_box["width"] + 1
    first = _box(table.locator("tbody tr").first.locator("td").first)
    assert abs(first["x"] - wrap_box["x"]) <= 1  # sticky: still at the box's left edge after scrolling

    # No header or cell is cut off: every cell is as wide as its content.
    clipped = table.evaluate(
        "t => [...t.querySelectorAll('th, td')].filter(c => c.scrollWidth > c.clientWidth + 1).length"
    )
    assert clipped == 0
    watch.shot("engineer-runs-table-1440")
    watch.assert_clean()


def test_the_comparison_draws_one_axis_per_unit(open_as, live_server, ledger, engineer):
    watch = open_as("erin")
    page = watch.page
    page.set_viewport_size({"width": 1440, "height": 900})
    url = reverse("experiment-compare", args=["acme", "ml"]) + "?experiment=train&experiment=_none"
    page.goto(live_server.url + url)
    page.wait_for_selector("#chart-compare .js-plotly-plot svg, #chart-compare.js-plotly-plot svg", state="attached")
    titles = page.eval_on_selector_all(
        "#chart-compare .ytitle, #chart-compare .y2title", "els => els.map(e => e.textContent)"
    )
    assert sorted(titles) == ["kWh per run", "kgCO2e per run"]
    assert "(+22.2 %)" in page.locator("#compare-table").inner_text()
    watch.shot("engineer-compare-1440")
    watch.assert_clean()
