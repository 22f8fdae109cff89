"""The demo shows every feature with data (issue 14 item 17): billing of three clouds and a FOCUS file with an
unallocated remainder, budgets (one near its limit), targets with a base year, revenue, pending approvals, one
signed report and its restated draft; and a second load adds nothing.

The demo is loaded once for the module (tests/demo_db.py); the idempotence test loads it a second time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db.models import Sum
from django.test import Client

from demo.billing import DEMO_RULES
from demo.loader import demo_load
from esg.inbox import inbox_count
from esg.selectors import factor_changes_pending, values_awaiting_approval
from greenesg.accounts.models import Membership, Organisation
from greenesg.footprint.models import LedgerEntry, Source
from ingestion.models import AttributionRule, ImportJob
from reports.esrs.selectors import reports_awaiting_signoff
from reports.models import (
    ContractualInstrument,
    QuarterRevenue,
    ReductionTarget,
    Report,
    ReportingSettings,
    ReportStatus,
    ResidualMixFactor,
)
from steering.budget import Period
from steering.models import Budget, OrgTarget
from steering.selectors import budget_used_kg
from tests.demo_db import demo_loaded_once

pytestmark = pytest.mark.django_db

# The demo covers November 2025 to October 2026; the last closed quarter is 2026-Q3, the budgets are for 2026-Q4.
TODAY = dt.date(2026, 11, 15)
REPORT_PERIOD, BUDGET_PERIOD = "2026-Q3", "2026-Q4"


@pytest.fixture(scope="module")
def demo(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Organisation]:
    with demo_loaded_once(django_db_blocker, tmp_path_factory.mktemp("media"), TODAY) as organisation:
        yield organisation


def _user(name: str) -> User:
    return User.objects.get(username=name)


def test_billing_of_three_clouds_and_focus_is_imported(demo: Organisation) -> None:
    jobs = ImportJob.objects.filter(organisation=demo, kind="billing")
    assert set(jobs.values_list("status", flat=True)) == {"done"}
    names = set(jobs.values_list("original_name", flat=True))
    assert {"gcp-billing-export.csv", "azure-cost-export.csv", "focus-aws-late-delivery.csv"} <= names
    assert set(jobs.values_list("detected_format", flat=True)) == {
        "gcp_billing",
        "azure_cost",
        "focus",
        "aws_cur_legacy",
    }
    billing = LedgerEntry.objects.filter(organisation=demo, source=Source.BILLING)
    assert set(billing.values_list("provider", flat=True).distinct()) == {"aws", "gcp", "azure"}


def test_rules_attribute_most_billing_and_leave_an_unallocated_remainder(demo: Organisation) -> None:
    assert AttributionRule.objects.filter(organisation=demo).count() == len(DEMO_RULES) + 1  # + the staging account
    billing = LedgerEntry.objects.filter(organisation=demo, source=Source.BILLING)
    unallocated = billing.filter(project__isnull=True).aggregate(cost=Sum("cost"), kg=Sum("kgco2e_location"))
    allocated = billing.filter(project__isnull=False).aggregate(cost=Sum("cost"))
    assert unallocated["kg"] > 0 and unallocated["cost"] > 0
    assert allocated["cost"] > 2 * unallocated["cost"]
    # In the FOCUS file only the shared-services account reaches the recommender (30 %) or nobody (the 20 % left).
    focus = billing.filter(import_job__original_name="focus-aws-late-delivery.csv")
    to_recommender = focus.filter(project__slug="recommender").aggregate(cost=Sum("cost"))["cost"]
    left = focus.filter(project__isnull=True).aggregate(cost=Sum("cost"))["cost"]
    assert left == pytest.approx(to_recommender * 20 / 30) and left > 0
    slugs = set(billing.exclude(project__isnull=True).values_list("project__slug", flat=True).distinct())
    assert {"ml-training", "recommender", "research-lab", "web-platform", "staging"} == slugs


def test_one_budget_is_near_its_limit_and_the_others_are_fine(demo: Organisation) -> None:
    used = {}
    for item in Budget.objects.filter(project__organisation=demo, period=BUDGET_PERIOD).select_related("project"):
        kg = budget_used_kg(
            project=item.project, period=Period.containing(dt.date(2026, 10, 1), "quarter"), basis=item.basis
        )
        used[item.project.slug] = 100 * kg / item.kg
    assert 85 <= used.pop("ml-training") < 100
    assert used and all(percent < 80 for percent in used.values())


def test_targets_base_year_revenue_and_reporting_settings(demo: Organisation) -> None:
    settings_ = ReportingSettings.objects.get(organisation=demo)
    assert settings_.legal_name and settings_.nace_code and settings_.fiscal_year_start_month == 1
    assert settings_.base_year == 2025 and settings_.base_scope3_t and settings_.base_scope3_t > 0
    assert int("".join(str(int(c, 36)) for c in settings_.lei)) % 97 == 1  # ISO 7064 check digits
    target = OrgTarget.objects.get(organisation=demo)
    assert target.base_year == 2025 and target.base_year_kg > 0 and target.target_year > target.base_year
    assert ReductionTarget.objects.filter(organisation=demo, reduction_percent__gt=0).count() == 2
    quarters = set(QuarterRevenue.objects.filter(organisation=demo).values_list("fiscal_year", "quarter"))
    assert {(2025, 4), (2026, 1), (2026, 2), (2026, 3), (2026, 4)} == quarters
    assert ContractualInstrument.objects.filter(organisation=demo).exists()
    assert ResidualMixFactor.objects.filter(organisation=demo).exists()


def test_one_signed_report_and_one_restated_draft_with_intensity(demo: Organisation) -> None:
    reports = list(Report.objects.filter(organisation=demo).order_by("version"))
    assert [(r.period, r.version, r.status) for r in reports] == [
        (REPORT_PERIOD, 1, ReportStatus.SIGNED),
        (REPORT_PERIOD, 2, ReportStatus.READY),
    ]
    signed, draft = reports
    assert signed.created_by == _user("officer") and signed.signed_by == _user("controller")  # four eyes
    assert draft.restates == signed and draft.restatement_reason
    total = "e1_6.total_location.N"
    # The late FOCUS delivery came after the signature: the restated draft shows more than was stated.
    assert draft.facts["facts"][total]["value"] > signed.facts["facts"][total]["value"] > 0
    assert signed.facts["facts"]["intensity.location.N"]["value"] > 0  # revenue entered: GHG intensity shows


def test_approvals_wait_in_the_officers_inboxes(demo: Organisation) -> None:
    officer, controller = _user("officer"), _user("controller")
    assert values_awaiting_approval(organisation=demo).exclude(submitted_by=controller).count() > 0
    assert factor_changes_pending(organisation=demo).filter(requested_by=controller).count() == 1
    assert list(reports_awaiting_signoff(organisation=demo).values_list("version", flat=True)) == [2]
    for user in (officer, controller):
        assert inbox_count(Membership.objects.get(user=user, organisation=demo), user) > 0
    client = Client()
    client.force_login(officer)
    page = client.get("/o/demo/esg/inbox/").content.decode()
    draft = Report.objects.get(organisation=demo, version=2)
    assert "demo-grid-update" in page and f"/o/demo/esrs/{draft.pk}/sign/" in page


def test_a_second_load_adds_nothing(demo: Organisation) -> None:
    def counts() -> dict[str, int]:
        return {model._meta.label: model.objects.count() for model in apps.get_models()}

    before = counts()
    lines = demo_load(today=TODAY)
    after = counts()
    assert {label: (before[label], after[label]) for label in before if before[label] != after[label]} == {}
    assert not any("signed" in line or "restated" in line for line in lines)


def test_the_demo_logins_exist_with_their_roles(demo: Organisation) -> None:
    roles = dict(Membership.objects.filter(organisation=demo).values_list("user__username", "role"))
    assert roles == {"officer": "officer", "controller": "officer", "engineer": "engineer", "auditor": "auditor"}
