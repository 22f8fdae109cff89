"""An organisation with two years of ledger data for the ESRS report tests.

acme (fiscal year = calendar year), every month of 2025 and 2026 (day 15, month m = 1…12):
  ml   scope 2 FRA   facility kWh 1000 + 10.5 m   loc 0.05 kg/kWh   mkt 0.06 kg/kWh
  web  scope 2 DEU   facility kWh 500 + 3.25 m    loc 0.38 kg/kWh   mkt 0.45 kg/kWh
  ml   scope 3 1.1   aws/eu-west-1 kWh 2000 + m  loc 300 + 1.111 m kg  cost 1000
  ml   codecarbon task row (not in the inventory): 99 999 kg that must never show
Other activities (through the service, so they reach the ledger like any officer entry):
  heating fuel, scope 1, natural gas, 850 kWh (NCV), stated 171.7 kgCO2e, each quarter-end of 2026
  business travel, scope 3 cat. 6, stated 1234.5 kgCO2e, 2026-05-31
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from greenesg.accounts.models import Organisation, Project
from greenesg.footprint.ledger import rollup_refresh
from greenesg.footprint.models import LedgerEntry
from reports.models import (
    QuarterRevenue,
    ReductionTarget,
    ReportingSettings,
    Scope3Screening,
)

LEI = "5299000J2N45DDNE4Y28"


def entry(organisation: Organisation, project: Project | None, key: str, day: dt.date, **values: Any) -> LedgerEntry:
    end = dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)
    defaults: dict[str, Any] = {
        "source": "codecarbon",
        "scope": 2,
        "category": "",
        "method": "measured",
        "factor_version": "test-grid@v1",
        "country_iso": "FRA",
    }
    defaults.update(values)
    return LedgerEntry.objects.create(
        organisation=organisation,
        project=project,
        natural_key=f"test:{key}",
        period_start=end - dt.timedelta(hours=1),
        period_end=end,
        day=day,
        duration_s=3600.0,
        **defaults,
    )


def seed_ledger(organisation: Organisation, ml: Project, web: Project, years: tuple[int, ...] = (2025, 2026)) -> None:
    for year in years:
        for m in range(1, 13):
            day = dt.date(year, m, 15)
            fra = 1000 + 10.5 * m
            deu = 500 + 3.25 * m
            entry(
                organisation,
                ml,
                f"fra-{year}-{m}",
                day,
                energy_it_kwh=fra / 1.5,
                energy_facility_kwh=fra,
                kgco2e_location=fra * 0.05,
                kgco2e_market=fra * 0.06,
                market_basis="mb_fallback_grid_average",
            )
            entry(
                organisation,
                web,
                f"deu-{year}-{m}",
                day,
                country_iso="DEU",
                energy_it_kwh=deu,
                energy_facility_kwh=deu,
                kgco2e_location=deu * 0.38,
                kgco2e_market=deu * 0.45,
            )
            entry(
                organisation,
                ml,
                f"cloud-{year}-{m}",
                day,
                source="billing",
                scope=3,
                category="1.1",
                method="modelled",
                provider="aws",
                region="eu-west-1",
                country_iso="IRL",
                energy_it_kwh=(2000 + m) / 1.2,
                energy_facility_kwh=2000 + m,
                kgco2e_location=300 + 1.111 * m,
                kgco2e_market=300 + 1.111 * m,
                kgco2e_embodied=12.0,
                cost=1000.0,
            )
            entry(
                organisation,
                ml,
                f"task-{year}-{m}",
                day,
                source="codecarbon_task",
                in_inventory=False,
                energy_facility_kwh=99_999.0,
                kgco2e_location=99_999.0,
                kgco2e_market=99_999.0,
            )
    # Written row by row like an import, so refreshed like one: the report reads whole months from the rollup.
    rollup_refresh(
        organisation_id=organisation.pk,
        project_ids=[ml.pk, web.pk],
        first_day=dt.date(min(years), 1, 1),
        last_day=dt.date(max(years), 12, 31),
    )


def seed_other_activities(organisation: Organisation, user: Any) -> None:
    from reports.esrs.services import other_activity_save
    from reports.models import OtherActivity

    for quarter_end in (dt.date(2026, 3, 31), dt.date(2026, 6, 30), dt.date(2026, 9, 30), dt.date(2026, 12, 31)):
        activity = OtherActivity(
            organisation=organisation,
            description="Office heating (gas)",
            scope=1,
            quantity=850.0,
            unit="kWh",
            energy_kwh=None,
            fuel_type="natural_gas",
            country_iso="FRA",
            stated_kgco2e=171.7,
            stated_source="Gas supplier invoice",
            period_start=quarter_end.replace(day=1) - dt.timedelta(days=59),
            period_end=quarter_end,
        )
        other_activity_save(
            activity=activity,
            user=user,
            evidence=SimpleUploadedFile("gas invoice.pdf", b"%PDF-1.4 invoice " + str(quarter_end).encode()),
        )
    travel = OtherActivity(
        organisation=organisation,
        description="Flights Q2",
        scope=3,
        category="6",
        quantity=42.0,
        unit="trips",
        stated_kgco2e=1234.5,
        stated_source="Travel agency report",
        period_start=dt.date(2026, 4, 1),
        period_end=dt.date(2026, 5, 31),
    )
    other_activity_save(activity=travel, user=user, evidence=SimpleUploadedFile("agency.csv", b"trip,kg\n1,1234.5\n"))


def seed_settings(organisation: Organisation) -> None:
    ReportingSettings.objects.create(
        organisation=organisation,
        legal_name="Acme Software SE",
        lei=LEI,
        currency="EUR",
        fiscal_year_start_month=1,
        base_year=2024,
        base_scope1_t=1.0,
        base_scope2_location_t=20.0,
        base_scope2_market_t=25.0,
        base_scope3_t=5.0,
    )
    ReductionTarget.objects.create(
        organisation=organisation, scope="total_market", target_year=2030, reduction_percent=42.0, science_based=True
    )
    for year in (2025, 2026):
        for q in range(1, 5):
            QuarterRevenue.objects.create(
                organisation=organisation,
                fiscal_year=year,
                quarter=q,
                revenue_used=2_500_000 + q * 100_000,
                revenue_other=50_000,
                statement_reference="Interim P&L, revenue",
            )
    for number in range(1, 16):
        Scope3Screening.objects.create(
            organisation=organisation,
            category=str(number),
            included=number in (1, 2, 6),
            reason="" if number in (1, 2, 6) else "Not relevant to a software company",
            method="hybrid" if number == 1 else "",
        )


@pytest.fixture
def acme(org: Organisation, project: Project, other_project: Project, officer: Any) -> Organisation:
    seed_settings(org)
    seed_ledger(org, project, other_project)
    seed_other_activities(org, officer)
    return org
