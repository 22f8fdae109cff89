"""Ledger-derived E metrics, completeness and the project scorecard, on hand-built ledger rollups."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps

from esg import services
from esg.models import AccessibilityReport
from esg.periods import period_parse
from esg.selectors import completeness, metric_rows, project_scorecard, project_scorecard_rows
from greenesg.footprint.models import LedgerDaily

pytestmark = pytest.mark.django_db
Q3 = period_parse("2026-Q3")


def _daily(org, project, **kwargs) -> None:
    defaults = dict(
        day=dt.date(2026, 8, 1),
        source="codecarbon",
        scope=2,
        method="measured",
        in_inventory=True,
        energy_facility_kwh=0.0,
        kgco2e_location=0.0,
        kgco2e_market=0.0,
    )
    LedgerDaily.objects.create(organisation=org, project=project, **{**defaults, **kwargs})


@pytest.fixture
def ledger(org, project):
    _daily(org, project, energy_facility_kwh=2000, kgco2e_location=800, kgco2e_market=300, region="SWE/se3")
    _daily(
        org,
        project,
        source="billing",
        scope=3,
        category="1.1",
        method="modelled",
        provider="gcp",
        region="europe-west1",
        energy_facility_kwh=1000,
        kgco2e_location=200,
    )
    _daily(
        org,
        project,
        source="codecarbon",
        scope=3,
        category="1.1",
        in_inventory=False,
        provider="gcp",
        region="europe-west1",
        energy_facility_kwh=600,
        kgco2e_location=150,
    )
    _daily(org, None, source="billing", scope=3, category="1.1", method="spend-based", kgco2e_location=1000)
    _daily(org, project, day=dt.date(2026, 10, 1), kgco2e_location=99999)  # next quarter: not counted


def test_e_metrics_come_from_the_ledger_in_tonnes_and_mwh(org, ledger) -> None:
    rows = {row.code: row for row in metric_rows(org, Q3)}
    assert rows["E1-5.total_energy_mwh"].value == pytest.approx(2.0)  # own Scope 2 only; cloud is not E1-5
    assert rows["E1-6.scope2_location_t"].value == pytest.approx(0.8)
    assert rows["E1-6.scope2_market_t"].value == pytest.approx(0.3)
    assert rows["E1-6.scope3_cat1_1_t"].value == pytest.approx(1.2)  # 200 + 1000 kg in the inventory
    assert rows["E1-6.total_location_t"].value == pytest.approx(2.0)
    assert rows["E1-6.total_market_t"].value == pytest.approx(1.5)
    assert rows["E1-6.unallocated_share"].value == pytest.approx(50.0)  # 1000 of 2000 kg
    assert rows["E1-6.scope1_t"].value == 0 and rows["E1-6.scope1_t"].status == "computed"


def test_completeness_lists_required_datapoints_still_missing(org, officer) -> None:
    services.metric_values_submit(
        organisation=org, actor=officer, period=Q3, source="test", cells={"S1-6.leavers": "3"}
    )
    done = completeness(metric_rows(org, Q3))
    missing = {row.code for row in done["missing"]}
    assert "S1-6.headcount" in missing and "S1-6.leavers" not in missing
    assert "S1-6.turnover_rate" in missing  # computed, but its head count input is missing
    assert "E1-6.scope2_location_t" in missing  # no ledger data in the period
    assert "S1-17.fines_eur" not in missing  # optional


def test_the_scorecard_covers_measurement_regions_and_data_quality(org, project, ledger, officer) -> None:
    services.esg_settings_update(organisation=org, actor=officer, approved_regions=["europe-west1"])
    card = project_scorecard(project, Q3)
    # codecarbon 2000 + 600 kWh measured vs 1000 kWh billed → capped at 100
    assert card.codecarbon_kwh == pytest.approx(2600) and card.coverage == 100.0
    assert card.used_kg == pytest.approx(1000)  # 800 + 200 in the inventory
    assert card.approved_share == pytest.approx(20.0)  # gcp/europe-west1 200 of 1000 kg
    assert card.method_shares == {"measured": pytest.approx(80.0), "modelled": pytest.approx(20.0)}
    assert card.estimated_share == pytest.approx(20.0)
    assert card.budget["note"].startswith("n/a")  # no budget for the period
    rows = {row["code"]: row for row in project_scorecard_rows(card)}
    assert rows["SW.budget_adherence"]["value"] is None and "n/a" in rows["SW.budget_adherence"]["note"]
    assert rows["SW.accessibility_score"]["note"] == "no report"


def test_the_scorecard_uses_reports_up_to_the_period_end(org, project) -> None:
    for day, score in ((dt.date(2026, 8, 1), 80.0), (dt.date(2026, 10, 5), 95.0)):
        AccessibilityReport.objects.create(
            organisation=org,
            project=project,
            tool="lighthouse",
            url="https://x.test/",
            score=score,
            serious=1,
            tested_at=dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC),
            sha256=str(day),
            posted_by="ci",
        )
    rows = {row["code"]: row for row in project_scorecard_rows(project_scorecard(project, Q3))}
    assert rows["SW.accessibility_score"]["value"] == 80.0
    assert rows["SW.accessibility_serious_violations"]["value"] == 1


def test_budget_adherence_reads_steering_budgets_when_they_exist(org, project, ledger) -> None:
    try:
        budget_model = apps.get_model("steering", "Budget")
    except LookupError:
        pytest.skip("the steering app has no budgets yet")
    budget_model.objects.create(project=project, period="2026-Q3", kg=4000, basis="location")
    card = project_scorecard(project, Q3)
    assert card.budget["percent"] == pytest.approx(25.0)  # 1000 kg used of 4000
    budget_model.objects.filter(project=project).update(basis="market")
    assert project_scorecard(project, Q3).budget["percent"] == pytest.approx(7.5)  # 300 market kg of 4000


def test_budget_adherence_is_na_without_a_budget(project, monkeypatch) -> None:
    from esg import selectors

    def no_model(app_label: str, model_name: str) -> None:
        raise LookupError(model_name)

    monkeypatch.setattr(selectors.apps, "get_model", no_model)
    assert selectors.budget_cell(project, Q3, 10, 5)["note"] == "n/a until budgets exist"
