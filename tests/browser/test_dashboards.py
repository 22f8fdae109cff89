"""Every dashboard page in a real browser, per role: charts draw, filters apply, drill-down reaches a source
row, CSV downloads, no console error and no request outside the live server. Screenshots go to
test-artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse

from greenesg.footprint.models import LedgerEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _charts_render(watch: Any, minimum: int = 1) -> None:
    watch.page.wait_for_selector(".js-plotly-plot svg", state="attached")
    assert watch.page.locator(".js-plotly-plot").count() >= minimum


@pytest.fixture
def data(ledger: dict, officer, engineer, auditor) -> dict:
    # A source row and a cloud region on r1, so the drill-down ends at a file row and the what-if has a provider.
    LedgerEntry.objects.filter(pk=ledger["r1"].pk).update(source_row=7)
    return ledger


def test_officer_filters_drills_down_and_downloads(open_as, live_server, data):
    watch = open_as("olivia")
    page = watch.page
    page.goto(live_server.url + reverse("org-overview", args=["acme"]))
    _charts_render(watch, minimum=5)
    assert page.locator("#kpi-kgco2e_location").get_attribute("value") == "35.0"
    watch.shot("officer-overview")

    # Filters are a GET form: the result is a shareable URL.
    page.select_option("select[name=scope]", "scope2")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**scope=scope2**")
    assert float(page.locator("#kpi-kgco2e_location").get_attribute("value")) == pytest.approx(3.9)  # r1 + r2 + w1
    watch.shot("officer-overview-filtered")

    # Drill: overview → project → source → records → ledger row (factor, method, source row).
    page.click("section[aria-labelledby=projects-heading] a:has-text('ML platform')")
    page.wait_for_url("**/p/ml/**")
    _charts_render(watch)
    watch.shot("officer-project")
    page.click("#sources tbody a >> nth=0")
    page.wait_for_url("**/records/**")
    watch.shot("officer-records")
    with page.expect_download() as download_info:
        page.click("#download-csv")
    body = open(download_info.value.path(), encoding="utf-8").read()  # noqa: PTH123 (a temp file)
    rows = list(csv.DictReader(io.StringIO(body), quoting=csv.QUOTE_NONNUMERIC))
    assert rows and all(isinstance(row["kgco2e_location"], float) for row in rows)
    page.click("table.records tbody a >> nth=0")
    page.wait_for_selector("#lineage-heading")
    assert page.locator("text=test-grid@v1").count() >= 1
    watch.shot("officer-ledger-row")
    watch.assert_clean()


def test_engineer_compares_experiments_and_asks_what_if(open_as, live_server, data):
    watch = open_as("erin")
    page = watch.page
    page.goto(live_server.url + reverse("my-projects", args=["acme"]))
    assert page.locator("#my-projects tbody tr").count() == 1
    watch.shot("engineer-my-projects")
    page.click("#my-projects a")
    _charts_render(watch)
    page.check("input[name=experiment] >> nth=0")
    page.check("input[name=experiment] >> nth=1")
    page.click("text=Compare selected experiments")
    page.wait_for_selector("#compare-table")
    _charts_render(watch)
    watch.shot("engineer-compare")
    page.goto(live_server.url + reverse("ledger-detail", args=["acme", "ml", data["r1"].pk]))
    page.select_option("select[name=zone]", index=1)
    page.click("text=Estimate")
    page.wait_for_selector("#what-if")
    assert "would have emitted" in page.inner_text("#what-if")
    assert "line 7" in page.inner_text("#lineage-heading ~ dl")
    watch.shot("engineer-what-if")
    page.goto(live_server.url + reverse("org-overview", args=["acme"]))
    _charts_render(watch)
    assert page.locator("text=Web shop").count() == 0
    watch.assert_clean()


def test_auditor_reads_unallocated_lines_and_experiment_page(open_as, live_server, data):
    watch = open_as("audrey")
    page = watch.page
    page.goto(live_server.url + reverse("org-overview", args=["acme"]) + "?grain=quarter")
    _charts_render(watch, minimum=5)
    page.click("#signal-unallocated a")
    page.wait_for_url("**project=_unallocated**")
    page.click("table.records tbody a >> nth=0")
    page.wait_for_selector("#lineage-heading")
    watch.shot("auditor-unallocated-row")
    page.goto(live_server.url + reverse("experiment-detail", args=["acme", "ml", "train"]))
    _charts_render(watch)
    watch.shot("auditor-experiment")
    # A bad filter answers 400 with the reason, not a stack trace.
    response = page.goto(live_server.url + reverse("org-overview", args=["acme"]) + "?period=someday")
    assert response.status == 400
    assert "period must be one of" in page.inner_text("main")
    watch.errors = [e for e in watch.errors if "400" not in e]  # the browser logs the 400 itself
    watch.assert_clean()
