"""Downloads save under their own names in a real browser, not download.csv (issue 14 item 2)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from reports.esrs import services as report_services
from reports.models import Report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _saved_name(page: Any, selector: str) -> str:
    with page.expect_download() as download_info:
        page.click(selector)
    return download_info.value.suggested_filename


def test_report_files_and_csv_exports_save_under_meaningful_names(open_as, live_server, ledger, officer):
    report = Report.objects.create(organisation=ledger["r1"].organisation, period="2025-Q1", created_by=officer)
    report_services.report_generate(report_id=report.pk)
    watch = open_as("olivia")
    page = watch.page

    page.goto(live_server.url + reverse("esrs-report-detail", args=["acme", report.pk]))
    saved = {
        fmt: _saved_name(page, f"a[href='{reverse('esrs-report-download', args=['acme', report.pk, fmt])}']")
        for fmt in ("pdf", "xlsx", "csv", "json", "ixbrl", "lineage", "inputs")
    }
    assert saved == {
        "pdf": "acme-2025-Q1-v1-report.pdf",
        "xlsx": "acme-2025-Q1-v1-report.xlsx",
        "csv": "acme-2025-Q1-v1-tables.csv",
        "json": "acme-2025-Q1-v1-facts.json",
        "ixbrl": "acme-2025-Q1-v1-report.xhtml",
        "lineage": "acme-2025-Q1-v1-lineage.csv",
        "inputs": "acme-2025-Q1-v1-inputs.json",
    }

    page.goto(live_server.url + reverse("org-records", args=["acme"]))
    assert _saved_name(page, "#download-csv") == "acme-records.csv"
    page.goto(live_server.url + reverse("project-detail", args=["acme", "ml"]))
    assert _saved_name(page, "text=Download CSV") == "acme-ml-runs.csv"
    page.goto(live_server.url + reverse("org-audit", args=["acme"]))
    assert _saved_name(page, "text=Download as CSV") == "acme-audit-log.csv"
    watch.assert_clean()
