"""The totals route (reports/dashboards/selectors/totals.py): market-based Scope 2 by the report's method, attributed to
projects pro rata to consumption, and caches dropped when an instrument or residual mix changes.

Ledger of tests/reports/conftest.py, Scope 2 FRA: r1 ml January 2025 1.5 kWh (ledger market 0.4 kg), r2 ml
February 3.0 kWh (0.8 kg), w1 web March 15 kWh (2.5 kg); Scope 3: r3 ml 1.1 kg, unallocated billing 30 kg.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from greenesg.accounts.access import org_access_for_user
from reports.dashboards.filters import DashboardFilter
from reports.dashboards.selectors import footprint as selectors
from reports.dashboards.selectors.rollups import org_overview_data
from reports.esrs.services import settings_object_delete, settings_object_save
from reports.models import ContractualInstrument, ResidualMixFactor

pytestmark = pytest.mark.django_db

KPI_MARKET = re.compile(r'<data id="kpi-kgco2e_market" value="([^"]*)"')


def _instrument(mwh: float, end: dt.date = dt.date(2025, 12, 31)) -> dict:
    return {
        "instrument_type": "GO",
        "mwh": mwh,
        "market": "FRA",
        "generation_start": dt.date(2025, 1, 1),
        "generation_end": end,
        "consumption_start": dt.date(2025, 1, 1),
        "consumption_end": end,
        "emission_rate_g_per_kwh": 0.0,
    }


def test_a_new_instrument_reaches_cached_summaries_and_the_overview(
    org, officer, officer_client, ledger, django_capture_on_commit_callbacks
):
    assert selectors.footprint_summary(organisation=org)["kgco2e_market"] == pytest.approx(34.8)
    page = officer_client.get("/o/acme/")
    assert float(KPI_MARKET.search(page.content.decode())[1]) == pytest.approx(34.8)
    with django_capture_on_commit_callbacks(execute=True):
        instrument = settings_object_save(
            instance=ContractualInstrument(**_instrument(1.0)), user=officer, organisation=org
        )
    # Every Scope 2 kWh is covered at 0 g/kWh: market-based = Scope 3 only (1.1 + 30).
    assert selectors.footprint_summary(organisation=org)["kgco2e_market"] == pytest.approx(31.1)
    page = officer_client.get("/o/acme/")
    assert float(KPI_MARKET.search(page.content.decode())[1]) == pytest.approx(31.1)
    with django_capture_on_commit_callbacks(execute=True):
        settings_object_delete(instance=instrument, user=officer, organisation=org)
    assert selectors.footprint_summary(organisation=org)["kgco2e_market"] == pytest.approx(34.8)


def test_projects_and_the_unallocated_bucket_add_up_to_the_organisation(org, project, other_project, ledger):
    # 9.75 of the quarter's 19.5 kWh covered, spread by consumption: half of each month; the rest at 100 g/kWh.
    ContractualInstrument.objects.create(organisation=org, **_instrument(0.00975, dt.date(2025, 3, 31)))
    ResidualMixFactor.objects.create(organisation=org, zone="FRA", year=2025, g_co2e_per_kwh=100.0, source="test")
    whole = selectors.footprint_summary(organisation=org)
    ml = selectors.footprint_summary(organisation=org, project=project)
    web = selectors.footprint_summary(organisation=org, project=other_project)
    # ml: (1.5 + 3.0) / 2 kWh × 0.1 kg = 0.225 kg Scope 2 + 1.1 kg Scope 3; web: 15 / 2 × 0.1 = 0.75 kg.
    assert ml["by_scope"]["scope2"]["kgco2e_market"] == pytest.approx(0.225)
    assert ml["kgco2e_market"] == pytest.approx(1.325)
    assert web["kgco2e_market"] == pytest.approx(0.75)
    unallocated = 30.0
    assert whole["kgco2e_market"] == pytest.approx(ml["kgco2e_market"] + web["kgco2e_market"] + unallocated)
    # Location-based figures are untouched.
    assert whole["kgco2e_location"] == pytest.approx(0.3 + 0.6 + 1.1 + 3.0 + 30.0)


def test_a_day_range_gets_its_share_of_the_month(org, ledger):
    ContractualInstrument.objects.create(organisation=org, **_instrument(0.00975, dt.date(2025, 3, 31)))
    ResidualMixFactor.objects.create(organisation=org, zone="FRA", year=2025, g_co2e_per_kwh=100.0, source="test")
    first = selectors.footprint_summary(organisation=org, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 15))
    rest = selectors.footprint_summary(organisation=org, start=dt.date(2025, 3, 16), end=dt.date(2025, 3, 31))
    month = selectors.footprint_summary(organisation=org, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31))
    assert first["kgco2e_market"] + rest["kgco2e_market"] == pytest.approx(month["kgco2e_market"])
    assert first["by_scope"]["scope2"]["kgco2e_market"] == pytest.approx(0.75)  # w1 on 5 March


def test_experiments_show_the_market_based_figure_of_the_totals_route(org, project, officer_client, ledger):
    ContractualInstrument.objects.create(organisation=org, **_instrument(1.0))
    rows = {row["experiment"]: row for row in selectors.experiment_list(project=project, flt=DashboardFilter())}
    # "train" is r1 + r2, Scope 2 FRA, fully covered at 0 g/kWh; "" is r3, Scope 3 cloud, market = location.
    assert rows["train"]["kgco2e_market"] == pytest.approx(0.0)
    assert rows[""]["kgco2e_market"] == pytest.approx(1.1)
    page = officer_client.get("/o/acme/p/ml/experiments/train/")
    assert page.status_code == 200
    assert float(KPI_MARKET.search(page.content.decode())[1]) == pytest.approx(0.0)


def test_every_overview_breakdown_adds_up_to_the_market_based_kpi(org, officer, ledger):
    ContractualInstrument.objects.create(organisation=org, **_instrument(0.00975, dt.date(2025, 3, 31)))
    ResidualMixFactor.objects.create(organisation=org, zone="FRA", year=2025, g_co2e_per_kwh=100.0, source="test")
    flt = DashboardFilter(start=dt.date(2025, 1, 15), end=dt.date(2025, 3, 31))  # a partial first month
    _, overview = org_overview_data(access=org_access_for_user(officer, "acme"), flt=flt)
    # r2 (Feb, 3.0 kWh) and w1 (Mar, 15 kWh): half covered at 0 g, half at 100 g/kWh → 0.15 + 0.75 kg; + 31.1 kg.
    assert overview.totals["kgco2e_market"] == pytest.approx(0.9 + 31.1)
    for frame in (overview.by_scope, overview.trend, overview.by_project, overview.by_provider, overview.by_region):
        assert frame["kgco2e_market"].sum() == pytest.approx(overview.totals["kgco2e_market"])
