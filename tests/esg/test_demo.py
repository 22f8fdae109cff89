"""The ESG demo: a year of S and G values, most approved, some submitted, a few missing; reports for two
projects; idempotent."""

from __future__ import annotations

import datetime as dt

import pytest

from esg.demo import MISSING_LATEST, esg_demo_load
from esg.models import AccessibilityReport, MetricValue, ReportingPeriod
from esg.periods import period_parse
from esg.selectors import metric_rows
from greenesg.accounts.models import AuditLog, Project

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 10, 15)


def test_the_demo_loads_a_year_with_mixed_statuses(org, officer, project, other_project) -> None:
    done = esg_demo_load(org, today=TODAY)
    assert done and MetricValue.objects.values("period").distinct().count() == 4
    statuses = set(MetricValue.objects.values_list("status", flat=True))
    assert statuses == {"approved", "submitted"}
    assert (
        MetricValue.objects.filter(status="approved").count()
        > 3 * MetricValue.objects.filter(status="submitted").count()
    )
    latest = {row.code: row for row in metric_rows(org, period_parse("2026-Q3"))}
    assert all(latest[code].status == "missing" for code in MISSING_LATEST)
    assert latest["G1-6.avg_days_to_pay"].source == "ap_ledger"
    assert ReportingPeriod.objects.get(status="closed").period == "2025-Q4"  # writers create open rows to lock
    assert set(AccessibilityReport.objects.values_list("project__slug", flat=True)) == {"ml", "web"}
    assert AuditLog.objects.filter(action="esg.value.approve").exists()


def test_the_demo_is_idempotent(org, officer, project) -> None:
    esg_demo_load(org, today=TODAY)
    counts = (MetricValue.objects.count(), AccessibilityReport.objects.count(), AuditLog.objects.count())
    esg_demo_load(org, today=TODAY)
    assert (MetricValue.objects.count(), AccessibilityReport.objects.count()) == counts[:2]
    assert Project.objects.count() == 1


def test_the_pages_show_the_demo(org, officer, project, other_project, client) -> None:
    esg_demo_load(org, today=TODAY)
    client.force_login(officer)
    body = client.get("/o/acme/esg/?period=2026-Q3").content.decode()
    assert 'id="fig-S"' in body and "S1-16.highest_remuneration" in body
    body = client.get("/o/acme/p/web/esg/?period=2026-Q3").content.decode()
    assert "Lighthouse" in body and "n/a" in body  # no budget in the demo for this project and quarter
