"""E1-3 in the report: reductions achieved by done efficiency actions and expected ones, beside the inventory."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from greenesg.footprint.models import LedgerEntry
from reports.esrs import services as report_services
from reports.models import ReportStatus
from steering.models import Recommendation, RecommendationStatus
from tests.esrs.helpers import pdf_text

pytestmark = pytest.mark.django_db


def _recommendation(project, **fields) -> Recommendation:
    values = {
        "project": project,
        "detector": "idle_runs",
        "subject": "nightly",
        "title": "Idle nightly runs",
        "action": "Schedule them",
        "method": "m",
        "saving_kwh_month": 10.0,
        "saving_kg_location_month": 4.0,
        "saving_kg_market_month": 2.0,
        "window_start": dt.date(2026, 4, 1),
        "window_end": dt.date(2026, 6, 30),
    }
    values.update(fields)
    return Recommendation.objects.create(**values)


def test_the_report_shows_achieved_and_expected_reductions_apart_from_the_totals(
    acme, officer, project, django_capture_on_commit_callbacks
) -> None:
    runs = list(LedgerEntry.objects.filter(project=project, source="codecarbon").order_by("day")[:4])
    assert len(runs) == 4
    done = _recommendation(project, subject="(no experiment)", title="Batch the GPU jobs", detector="gpu_underuse")
    Recommendation.objects.filter(pk=done.pk).update(
        status=RecommendationStatus.DONE,
        done_at=timezone.make_aware(dt.datetime.combine(runs[1].day, dt.time(23, 0)), dt.UTC),
    )
    _recommendation(project, title="Move the sweep to a cleaner region", detector="region", subject="sweep")
    with django_capture_on_commit_callbacks(execute=True):
        report = report_services.report_create(organisation=acme, period_text="2026-Q2", user=officer)
    report.refresh_from_db()
    assert report.status == ReportStatus.READY, report.error_message
    reductions = report.inputs["reductions"]
    assert [a["action"] for a in reductions["achieved"]] == ["Batch the GPU jobs"]
    assert [e["action"] for e in reductions["expected"]] == ["Move the sweep to a cleaner region"]
    assert reductions["expected"][0]["kg_year_location"] == pytest.approx(48.0)  # 4 kg a month × 12
    text = pdf_text(report_services.artifact_verify(report.artifacts.get(format="pdf")))
    assert "Reductions from efficiency actions" in text
    flat = " ".join(text.split())
    section = flat[flat.find("Reductions from efficiency actions") :]
    # Table cells wrap: the words are there, in order, not always side by side.
    assert "Batch the" in section and "GPU jobs" in section and "Move the sweep to a cleaner" in section
    assert "never netted" in text
