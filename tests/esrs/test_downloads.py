"""Report files download under <org>-<period>-v<version>-<kind>.<ext> with their own type (issue 14 item 2)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reports.esrs import services as report_services
from reports.models import Report

EXPECTED = {
    "pdf": ("acme-2026-Q2-v1-report.pdf", "application/pdf"),
    "xlsx": ("acme-2026-Q2-v1-report.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("acme-2026-Q2-v1-tables.csv", "text/csv; charset=utf-8"),
    "json": ("acme-2026-Q2-v1-facts.json", "application/json"),
    "ixbrl": ("acme-2026-Q2-v1-report.xhtml", "application/xhtml+xml"),
    "lineage": ("acme-2026-Q2-v1-lineage.csv", "text/csv; charset=utf-8"),
    "inputs": ("acme-2026-Q2-v1-inputs.json", "application/json"),
    "preview": ("acme-2026-Q2-v1-preview.png", "image/png"),  # needs poppler-utils, installed in CI and Docker
}


@pytest.mark.django_db
def test_every_report_file_is_a_named_attachment(acme, officer, officer_client) -> None:
    report = Report.objects.create(organisation=acme, period="2026-Q2", created_by=officer)
    report_services.report_generate(report_id=report.pk)
    formats = set(report.artifacts.values_list("format", flat=True))
    assert formats == set(EXPECTED)
    for fmt, (filename, content_type) in EXPECTED.items():
        response = officer_client.get(reverse("esrs-report-download", args=["acme", report.pk, fmt]))
        assert response.status_code == 200, fmt
        assert response["Content-Disposition"] == f'attachment; filename="{filename}"', fmt
        assert response["Content-Type"] == content_type, fmt
        assert response["X-Content-Type-Options"] == "nosniff", fmt
        assert response["Cache-Control"] == "private, no-store", fmt
        assert response["X-Content-SHA256"] == report.artifacts.get(format=fmt).sha256


@pytest.mark.django_db
def test_an_unknown_format_is_404(acme, officer, officer_client) -> None:
    report = Report.objects.create(organisation=acme, period="2026-Q2", created_by=officer)
    report_services.report_generate(report_id=report.pk)
    assert officer_client.get(reverse("esrs-report-download", args=["acme", report.pk, "docx"])).status_code == 404
