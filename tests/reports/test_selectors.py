"""Selectors: rollup totals equal the ledger, the cache follows the dashboard generation."""

from __future__ import annotations

import pytest
from django.db.models import Count, Q, Sum

from greenesg.accounts.access import org_access_for_user
from greenesg.footprint.ledger import dashboard_generation_bump
from greenesg.footprint.models import LedgerEntry
from reports.dashboards.filters import DashboardFilter
from reports.dashboards.selectors import footprint as selectors
from reports.dashboards.selectors import rollups

from .conftest import refresh, utc

pytestmark = pytest.mark.django_db


def _ledger_sums(**filters) -> dict:
    sums = LedgerEntry.objects.filter(in_inventory=True, **filters).aggregate(
        runs=Count("id", filter=Q(source="codecarbon")),
        energy_kwh_it=Sum("energy_it_kwh"),
        energy_kwh_facility=Sum("energy_facility_kwh"),
        kgco2e_location=Sum("kgco2e_location"),
        kgco2e_market=Sum("kgco2e_market"),
        water_l=Sum("water_l"),
    )
    return sums


def test_summary_equals_the_ledger_for_org_project_and_period(org, project, ledger):
    keys = ["runs", "energy_kwh_it", "energy_kwh_facility", "kgco2e_location", "kgco2e_market", "water_l"]
    whole = selectors.footprint_summary(organisation=org)
    assert {k: whole[k] for k in keys} == pytest.approx(_ledger_sums(organisation=org))
    one = selectors.footprint_summary(organisation=org, project=project)
    assert {k: one[k] for k in keys} == pytest.approx(_ledger_sums(project=project))
    feb = selectors.footprint_summary(
        organisation=org, project=project, start=utc(2025, 2, 1).date(), end=utc(2025, 2, 28).date()
    )
    expected = _ledger_sums(project=project, day__gte=utc(2025, 2, 1).date(), day__lte=utc(2025, 2, 28).date())
    assert {k: feb[k] for k in keys} == pytest.approx(expected)


def test_cached_totals_change_only_with_the_dashboard_generation(
    org, project, ledger, make_entry, django_capture_on_commit_callbacks
):
    before = selectors.footprint_summary(organisation=org, project=project)
    make_entry(org, project, "late", end=utc(2025, 4, 1), energy_it_kwh=50.0, kgco2e_location=5.0)
    refresh(org)
    assert selectors.footprint_summary(organisation=org, project=project) == before
    with django_capture_on_commit_callbacks(execute=True):
        dashboard_generation_bump(org.id)
    after = selectors.footprint_summary(organisation=org, project=project)
    assert after["runs"] == before["runs"] + 1
    assert after["kgco2e_location"] == pytest.approx(before["kgco2e_location"] + 5.0)


def test_engineers_without_projects_see_nothing(org, ledger, engineer):
    membership = engineer.memberships.get()
    membership.projects.clear()
    # The overview page reads rollups.org_overview_data (the ledger-frame org_overview was dead code).
    scope, overview = rollups.org_overview_data(access=org_access_for_user(engineer, "acme"), flt=DashboardFilter())
    assert overview.by_scope.empty
    assert list(scope.projects) == []
    assert overview.totals["runs"] == 0


def test_org_overview_lists_projects_without_data(org, project, other_project, officer):
    scope, overview = rollups.org_overview_data(access=org_access_for_user(officer, "acme"), flt=DashboardFilter())
    assert [project.slug for project in scope.projects] == ["ml", "web"]
    assert overview.totals["runs"] == 0


def test_experiment_list_sums_runs_per_experiment(project, ledger):
    rows = selectors.experiment_list(project=project, flt=DashboardFilter())
    by_name = {row["experiment"]: row for row in rows}
    assert set(by_name) == {"train", ""}
    assert by_name["train"]["runs"] == 2
    assert by_name["train"]["kgco2e_location"] == pytest.approx(0.9)
    assert [row["experiment"] for row in rows] == ["", "train"]  # latest run first


def test_run_sort_rejects_unknown_keys():
    assert selectors.run_sort_parse(None) == "-end"
    assert selectors.run_sort_parse("-kg") == "-kg"
    with pytest.raises(ValueError, match="sort must be one of"):
        selectors.run_sort_parse("id; drop table")
