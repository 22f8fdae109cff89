"""No double counting between codecarbon and billing; coverage; reconciliation with provider figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db.models import Sum

from greenesg.accounts.models import InventorySource
from greenesg.footprint.inventory import inventory_refresh
from greenesg.footprint.models import LedgerDaily, LedgerEntry
from ingestion.billing.estimate import OurFigure, TheirFigure, reconcile
from ingestion.billing.rules import attribution_rule_create
from reports.dashboards.billing.selectors import billing_coverage, billing_reconciliation_rows
from reports.dashboards.filters import DashboardFilter
from tests.billing.conftest import cur_row, import_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "billing"


def codecarbon_run(org, project, *, kwh: float, day: dt.date, provider: str = "aws") -> LedgerEntry:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return LedgerEntry.objects.create(
        organisation=org,
        project=project,
        natural_key=f"cc:run:{project.pk}:{kwh}",
        source="codecarbon",
        period_start=start,
        period_end=start + dt.timedelta(hours=1),
        day=day,
        provider=provider,
        region="us-east-1",
        energy_it_kwh=kwh,
        energy_facility_kwh=kwh,
        kgco2e_location=kwh * 0.379,
        scope=3,
        category="1.1",
        method="measured",
    )


def inventory_kwh(org, project, source: str) -> float:
    rows = LedgerDaily.objects.filter(organisation=org, project=project, source=source, in_inventory=True)
    return rows.aggregate(s=Sum("energy_facility_kwh"))["s"] or 0.0


def _account_to_project(org, officer, project) -> None:
    """The test AWS account's billing lines all go to the project."""
    attribution_rule_create(
        organisation=org,
        actor=officer,
        data={
            "provider": "aws",
            "match_field": "account",
            "match_value": "111122223333",
            "tag_key": "",
            "note": "",
            "targets": ((project.pk, 100.0),),
        },
    )


@pytest.fixture
def both_sources(org, project, officer, write_cur):
    run = codecarbon_run(org, project, kwh=0.1, day=dt.date(2024, 1, 5))
    _account_to_project(org, officer, project)
    import_file(
        org,
        write_cur(
            [
                cur_row(amount=10, cost=1.92),  # 0.16757 kWh of billed compute (+ memory)
                cur_row(
                    "USE1-EBS:VolumeUsage.gp3", 100, 8.0, unit="GB-Mo", hour=1
                ),  # storage: codecarbon never measures
            ]
        ),
    )
    return run


@pytest.mark.django_db
def test_billing_is_counted_by_default_and_codecarbon_kept_for_coverage(org, project, both_sources):
    both_sources.refresh_from_db()

    assert both_sources.in_inventory is False
    assert LedgerEntry.objects.filter(source="billing", in_inventory=False).count() == 0
    assert inventory_kwh(org, project, "codecarbon") == 0
    [row] = billing_coverage(organisation=org, flt=DashboardFilter())
    assert (row["project_id"], row["provider"], row["month"]) == (project.pk, "aws", dt.date(2024, 1, 1))
    assert row["coverage"] == pytest.approx(0.1 / (10 * 0.016757), rel=1e-3)  # ≈ 60 % measured


@pytest.mark.django_db
def test_a_codecarbon_project_counts_its_runs_and_keeps_billed_storage(org, project, both_sources):
    project.inventory_source = InventorySource.CODECARBON
    project.save()
    inventory_refresh(organisation=org, project=project)

    both_sources.refresh_from_db()
    assert both_sources.in_inventory is True
    billed = LedgerEntry.objects.filter(source="billing")
    assert set(billed.filter(in_inventory=False).values_list("resource_category", flat=True)) == {"compute"}
    assert billed.get(resource_category="storage_ssd").in_inventory is True
    assert inventory_kwh(org, project, "codecarbon") == pytest.approx(0.1)
    assert inventory_kwh(org, project, "billing") == pytest.approx(
        billed.get(resource_category="storage_ssd").energy_facility_kwh
    )


@pytest.mark.django_db
def test_other_providers_and_months_are_not_touched(org, project, both_sources):
    other = codecarbon_run(org, project, kwh=0.2, day=dt.date(2024, 2, 5))
    gcp = codecarbon_run(org, project, kwh=0.3, day=dt.date(2024, 1, 6), provider="gcp")
    inventory_refresh(organisation=org)

    assert LedgerEntry.objects.get(pk=other.pk).in_inventory is True
    assert LedgerEntry.objects.get(pk=gcp.pk).in_inventory is True


def test_reconcile_allocates_provider_figures_by_our_estimate_and_names_the_driver():
    month = dt.date(2024, 1, 1)
    ours = [
        OurFigure(1, "aws", "A", month, "AmazonEC2", 6.0, 0.0),
        OurFigure(None, "aws", "A", month, "AmazonEC2", 2.0, 0.0),
        OurFigure(1, "aws", "A", month, "AmazonS3", 2.0, 0.0),
    ]
    theirs = [
        TheirFigure("aws", "A", month, "AmazonEC2", 4.0, False),
        TheirFigure("aws", "A", month, "AmazonS3", 1.0, False),
    ]
    rows = {r.project_id: r for r in reconcile(ours, theirs)}

    assert rows[1].provider_kg == pytest.approx(5.0 * 0.8)
    assert rows[1].gap_percent == pytest.approx((8.0 - 4.0) / 4.0 * 100)
    assert rows[1].driver.startswith("AmazonEC2: our estimate")
    assert rows[None].provider_kg == pytest.approx(1.0)


@pytest.mark.django_db
def test_reconciliation_shows_the_gap_against_the_gcp_carbon_export(org):
    import_file(org, FIXTURES / "gcp_billing.csv")
    import_file(org, FIXTURES / "gcp_carbon.csv")

    [row] = billing_reconciliation_rows(organisation=org)
    ours = LedgerEntry.objects.filter(source="billing").aggregate(kg=Sum("kgco2e_location"), emb=Sum("kgco2e_embodied"))
    assert (row["project"], row["provider"], row["month"]) == ("Unallocated", "gcp", dt.date(2024, 1, 1))
    assert row["provider_kg"] == pytest.approx(14.0)
    assert row["compared_ours"] == pytest.approx(ours["kg"] + ours["emb"])  # GCP reports Scope 3
    assert row["gap_percent"] == pytest.approx((row["compared_ours"] - 14.0) / 14.0 * 100)
    assert "Compute Engine" in row["driver"]


@pytest.mark.django_db
def test_measured_runs_stay_when_the_month_has_no_billed_compute(org, project, officer, write_cur):
    """Storage or network bills do not describe the energy codecarbon measured: excluding the run would lose it."""
    run = codecarbon_run(org, project, kwh=0.1, day=dt.date(2024, 1, 5))
    _account_to_project(org, officer, project)
    import_file(org, write_cur([cur_row("USE1-EBS:VolumeUsage.gp3", 100, 8.0, unit="GB-Mo")]))
    inventory_refresh(organisation=org)

    run.refresh_from_db()
    assert run.in_inventory
    assert inventory_kwh(org, project, "codecarbon") == pytest.approx(0.1)
    assert inventory_kwh(org, project, "billing") > 0  # the storage counts as well: it is a different energy
