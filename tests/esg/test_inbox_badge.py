"""The approvals badge in the navigation is cached per member (greenesg/accounts/nav_badges.py, issue 15): it
must follow every change of what it counts at once, and never show one member's count to another."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from esg import services
from esg.periods import period_parse
from greenesg.accounts.models import Membership, Role
from reports.esrs import services as report_services
from reports.models import Report, ReportStatus

pytestmark = pytest.mark.django_db

PAGE = "/o/acme/"  # the overview: the page most often served from the cache


def _badge(client: Client) -> int:
    page = client.get(PAGE).content.decode()
    found = re.search(r'<span class="nav-badge">(\d+)<', page)
    return int(found.group(1)) if found else 0


def _submit(org, actor, code: str, value: str = "1") -> None:
    services.metric_values_submit(
        organisation=org, actor=actor, period=period_parse("2026-Q3"), cells={code: value}, source="t", evidence="e"
    )


def test_the_next_page_reads_the_count_from_the_cache(officer_client: Client, org, second_officer) -> None:
    _submit(org, second_officer, "S1-6.headcount")
    assert _badge(officer_client) == 1
    with CaptureQueriesContext(connection) as queries:
        assert _badge(officer_client) == 1
    assert not [q for q in queries.captured_queries if "esg_metricvalue" in q["sql"]]


def test_values_submitted_decided_and_deleted_show_at_once(
    officer_client: Client, org, officer, second_officer, django_capture_on_commit_callbacks
) -> None:
    assert _badge(officer_client) == 0
    with django_capture_on_commit_callbacks(execute=True):
        _submit(org, second_officer, "S1-6.headcount")
        _submit(org, second_officer, "S1-6.leavers")
    assert _badge(officer_client) == 2
    with django_capture_on_commit_callbacks(execute=True):
        services.metric_value_approve(value=org.esg_values.get(metric_code="S1-6.headcount"), actor=officer)
    assert _badge(officer_client) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.metric_value_delete(
            value=org.esg_values.get(metric_code="S1-6.leavers"), actor=officer, reason="entered twice"
        )
    assert _badge(officer_client) == 0


def test_a_report_that_becomes_ready_shows_at_once(
    officer_client: Client, org, django_capture_on_commit_callbacks
) -> None:
    # The generation moves the report to READY with QuerySet.update(): no post_save, an explicit invalidation.
    report = Report.objects.create(organisation=org, period="2026-Q2", version=1, stage="queued")
    assert _badge(officer_client) == 0
    with django_capture_on_commit_callbacks(execute=True):
        report_services.report_generate(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.READY, report.error_message
    assert _badge(officer_client) == 1


def test_a_factor_change_request_shows_at_once(
    officer_client: Client, org, second_officer, django_capture_on_commit_callbacks
) -> None:
    assert _badge(officer_client) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.factor_set_change_submit(
            organisation=org,
            actor=second_officer,
            name="grid",
            kind="grid_country",
            source="src",
            reason="new data",
            factors=[{"zone": "FRA", "vintage_year": 2026, "g_co2e_per_kwh": 20.0}],
        )
    assert _badge(officer_client) == 1


def test_each_member_sees_their_own_count_and_no_other_organisations(
    officer_client: Client, second_officer_client: Client, outsider_client: Client, org, officer, second_officer
) -> None:
    _submit(org, officer, "S1-6.headcount")
    _submit(org, second_officer, "S1-6.leavers")
    _submit(org, second_officer, "S1-6.headcount_male")
    # Each officer counts the other's submissions only (four-eyes), each from their own cached entry.
    assert _badge(officer_client) == 2
    assert _badge(second_officer_client) == 1
    assert _badge(officer_client) == 2
    # Oscar is an officer of another organisation: none of Acme's items, though Acme's counts are cached.
    assert 'class="nav-badge"' not in outsider_client.get("/o/globex/").content.decode()


def test_a_role_change_is_not_served_a_count_cached_for_the_old_role(
    officer_client: Client, org, officer, second_officer
) -> None:
    from greenesg.accounts.nav_badges import nav_badge_counts

    _submit(org, second_officer, "S1-6.headcount")
    assert _badge(officer_client) == 1
    membership = Membership.objects.select_related("organisation").get(user=officer, organisation=org)
    membership.role = Role.AUDITOR  # Membership is no source: the role is part of the key instead
    membership.save()
    assert nav_badge_counts(membership, officer) == {"esg-inbox": 0}
