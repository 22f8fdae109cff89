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


def test_experiments_of_runs_without_scope2_read_no_market_cells(org, ledger, monkeypatch):
    """The cells read the whole organisation's Scope 2 ledger rows (1.4 s at 10M rows, once per import): a project
    whose runs hold no Scope 2 (cloud runs, Scope 3) has nothing to share out and must not pay for them."""
    from greenesg.accounts.models import Project
    from reports.dashboards.selectors import totals
    from tests.reports.conftest import _entry, utc

    cloud = Project.objects.create(organisation=org, slug="cloud", name="Cloud")
    _entry(
        org,
        cloud,
        "c1",
        experiment="batch",
        end=utc(2025, 2, 3),
        scope=3,
        category="1.1",
        kgco2e_location=0.7,
        kgco2e_market=0.9,
        energy_facility_kwh=2.0,
    )

    def cells_read(**kwargs):
        raise AssertionError("market cells read for runs without Scope 2")

    monkeypatch.setattr(totals, "market_cells_for", cells_read)
    rows = selectors.experiment_list(project=cloud, flt=DashboardFilter())
    # Scope 3 in the inventory counts at its location-based figure, as on every other page.
    assert [(row["experiment"], row["kgco2e_market"]) for row in rows] == [("batch", pytest.approx(0.7))]


def test_every_overview_breakdown_adds_up_to_the_market_based_kpi(org, officer, ledger):
    ContractualInstrument.objects.create(organisation=org, **_instrument(0.00975, dt.date(2025, 3, 31)))
    ResidualMixFactor.objects.create(organisation=org, zone="FRA", year=2025, g_co2e_per_kwh=100.0, source="test")
    flt = DashboardFilter(start=dt.date(2025, 1, 15), end=dt.date(2025, 3, 31))  # a partial first month
    _, overview = org_overview_data(access=org_access_for_user(officer, "acme"), flt=flt)
    # r2 (Feb, 3.0 kWh) and w1 (Mar, 15 kWh): half covered at 0 g, half at 100 g/kWh → 0.15 + 0.75 kg; + 31.1 kg.
    assert overview.totals["kgco2e_market"] == pytest.approx(0.9 + 31.1)
    for frame in (overview.by_scope, overview.trend, overview.by_project, overview.by_provider, overview.by_region):
        assert frame["kgco2e_market"].sum() == pytest.approx(overview.totals["kgco2e_market"])


def _scope2_ledger(org, projects, count: int = 240) -> None:
    """Scope 2 runs over six months, three markets, two projects and the unallocated bucket, with uneven kWh."""
    import random

    from tests.reports.conftest import _entry, utc

    rng = random.Random(15)
    for i in range(count):
        kwh = rng.uniform(0.01, 40.0)
        _entry(
            org,
            [*projects, None][i % 3],
            f"s2-{i}",
            end=utc(2025, 1 + i % 6, 1 + i % 27, i % 24),
            country_iso=("FRA", "DEU", "SWE")[i % 3 if i % 7 else 0],
            provider=("aws", "gcp", "")[i % 3],
            region=("eu-west-3", "europe-west1", "")[i % 3],
            energy_it_kwh=kwh / 1.5,
            energy_facility_kwh=kwh,
            kgco2e_location=kwh * rng.uniform(0.02, 0.4),
            kgco2e_market=kwh * rng.uniform(0.02, 0.4) if i % 5 else None,
        )


def test_the_breakdowns_share_one_read_of_the_scope2_rows_with_the_figures_to_the_last_bit(
    org, project, other_project, officer, monkeypatch
) -> None:
    from collections import defaultdict

    from greenesg.footprint.methodology import market as market_method
    from reports.dashboards.selectors import totals
    from reports.dashboards.selectors.rollups import project_scope

    _scope2_ledger(org, [project, other_project])
    ContractualInstrument.objects.create(organisation=org, **_instrument(0.4, dt.date(2025, 4, 30)))
    ResidualMixFactor.objects.create(organisation=org, zone="FRA", year=2025, g_co2e_per_kwh=100.0, source="test")
    ResidualMixFactor.objects.create(organisation=org, zone="DEU", year=2025, g_co2e_per_kwh=420.0, source="test")

    def before(scope, flt, dims):  # the computation as it was: each grouping re-reads and re-shares every row
        cells = totals.market_cells_for(organisation_id=org.id, flt=flt)
        parts: dict = defaultdict(float)
        for row in totals._scope2_rows(organisation_id=org.id, scope=scope, flt=flt):
            cell = cells.get((row["month"], row["country"].upper()))
            kg = (
                market_method.cell_part(cell, kwh=row["energy_kwh"], kg_market=row["kg_market"])
                if cell is not None
                else row["kg_market"]
            )
            parts[totals._key(dims, tuple(row[d] for d in dims))] += kg
        return dict(parts)

    groupings = [  # the overview's (rollups._compute), each with "scope" as _with_market adds it
        ["source", "scope", "category", "method"],
        ["project_id", "source", "scope"],
        ["month", "scope", "category", "source"],
        ["provider", "source", "scope"],
        ["provider", "region", "source", "scope"],
        ["provider", "service", "source", "scope"],
        ["project_id", "source", "provider", "service", "region", "scope"],
    ]
    access = org_access_for_user(officer, "acme")
    for flt in (DashboardFilter(), DashboardFilter(start=dt.date(2025, 2, 10), end=dt.date(2025, 5, 20))):
        for projects in ((), ("ml",)):
            scope = project_scope(access=access, flt=DashboardFilter(projects=projects))
            expected = [before(scope, flt, dims) for dims in groupings]
            reads: list[int] = []
            real = totals._scope2_rows

            def counted(reads: list[int] = reads, real=real, **kw):  # type: ignore[no-untyped-def]
                reads.append(1)
                return real(**kw)

            monkeypatch.setattr(totals, "_scope2_rows", counted)
            with totals.scope2_rows_shared():
                got = [
                    dict(totals.scope2_market_parts(organisation_id=org.id, scope=scope, flt=flt, dims=dims))
                    for dims in groupings
                ]
            monkeypatch.setattr(totals, "_scope2_rows", real)
            assert got == expected  # exact: the same per-row kg summed in the same order
            assert len(reads) == 1
            assert sum(expected[0].values()) > 0
            if flt == DashboardFilter() and not projects:
                assert len(expected[2]) == 6 and len(expected[1]) == 3  # six months; two projects and unallocated
