"""A signable report never silently loses its SCI or S/G section: a failure there fails the generation."""

from __future__ import annotations

import pytest

from reports.esrs import services as report_services
from reports.models import Report, ReportStatus


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("broken metric store")


@pytest.mark.django_db
def test_a_failing_sci_section_fails_the_generation_with_the_reason(acme, officer, monkeypatch) -> None:
    import steering.selectors

    monkeypatch.setattr(steering.selectors, "sci_trend", _boom)
    report = Report.objects.create(organisation=acme, period="2026-Q1", created_by=officer)
    report_services.report_generate(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert "SCI" in report.error_message and "broken metric store" in report.error_message
    assert not report.artifacts.exists()


@pytest.mark.django_db
def test_a_failing_s_and_g_section_fails_the_generation_with_the_reason(acme, officer, monkeypatch) -> None:
    import esg.selectors

    monkeypatch.setattr(esg.selectors, "metric_rows", _boom)
    report = Report.objects.create(organisation=acme, period="2026-Q1", created_by=officer)
    report_services.report_generate(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert "S and G" in report.error_message and "broken metric store" in report.error_message
