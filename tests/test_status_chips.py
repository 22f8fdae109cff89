"""Pages colour their statuses by meaning (issue 14 item 6): ESG, budgets, reports and imports."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from esg import services as esg_services
from esg.periods import period_parse
from ingestion.models import ImportJob, JobStatus
from reports.models import Report, ReportStatus
from steering import budget
from steering import services as steering_services

pytestmark = pytest.mark.django_db


def _chips(html: str) -> list[tuple[str, str]]:
    """(meaning, status) of every chip on the page."""
    return re.findall(r'class="tag status status-([a-z-]+)" data-status="([a-z-]*)"', html)


def test_esg_values_awaiting_approval_need_action(officer_client: Client, org, officer) -> None:
    esg_services.metric_values_submit(
        organisation=org,
        actor=officer,
        period=period_parse("2026-Q3"),
        cells={"S1-6.headcount": "100"},
        source="test",
        evidence="HR",
    )
    chips = _chips(officer_client.get("/o/acme/esg/?period=2026-Q3").content.decode())
    assert ("needs-action", "submitted") in chips
    assert ("needs-action", "open") in chips  # the period itself is still open


def test_reports_ready_for_sign_off_need_action_and_signed_ones_are_done(officer_client: Client, org) -> None:
    Report.objects.create(organisation=org, period="2026-Q3", status=ReportStatus.READY)
    Report.objects.create(organisation=org, period="2026-Q2", status=ReportStatus.SIGNED, signed_at=timezone.now())
    Report.objects.create(organisation=org, period="2026-Q1", status=ReportStatus.FAILED)
    chips = _chips(officer_client.get("/o/acme/esrs/").content.decode())
    assert {("needs-action", "ready"), ("done", "signed"), ("failed", "failed")} <= set(chips)


def test_a_budget_within_its_limit_passes(officer_client: Client, project) -> None:
    steering_services.budget_set(project=project, period=budget.period_parse("2026-11"), kg=10.0, actor=None)
    chips = _chips(officer_client.get("/o/acme/p/ml/budget/?period=2026-11").content.decode())
    assert ("done", "pass") in chips


def test_failed_imports_are_marked_failed(officer_client: Client, project) -> None:
    for status in (JobStatus.DONE, JobStatus.FAILED):
        ImportJob.objects.create(
            organisation=project.organisation,
            project=project,
            kind="codecarbon",
            origin="upload",
            original_name=f"{status}.csv",
            sha256=status.ljust(64, "0"),
            status=status,
        )
    chips = _chips(officer_client.get("/o/acme/p/ml/imports/").content.decode())
    assert {("done", "done"), ("failed", "failed")} <= set(chips)
