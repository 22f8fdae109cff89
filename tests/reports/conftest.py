"""Hand-built ledger rows for the dashboard tests, with their sums worked out by hand.

acme/ml (engineer erin is a member):
  run r1  exp "train"  2025-01-10  scope 2          IT 1.0 kWh  facility 1.5  loc 0.3  mkt 0.4  water 2
  run r2  exp "train"  2025-02-03  scope 2          IT 2.0      facility 3.0  loc 0.6  mkt 0.8  water 0
  run r3  exp ""       2025-02-20  scope 3 cat 1.1  IT 4.0      facility 4.4  loc 1.1  mkt 1.1  water 5
  task t1 of r1        2025-01-10  scope 2          IT 0.5      facility 0.75 loc 0.15 mkt 0.2  (not in inventory)
acme/web (erin is not a member):
  run w1  exp "ab"     2025-03-05  scope 2          IT 10       facility 15   loc 3.0  mkt 2.5  water 0
acme, unallocated billing line:
          2025-03-31  scope 3 cat 1.1  IT 100  facility 120  loc 30  mkt 30  water 0
globex/ml (outsider oscar): one run of 999 kWh that must never show in acme's figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache

from greenesg.accounts.models import Organisation, Project
from greenesg.footprint.ledger import rollup_refresh
from greenesg.footprint.models import LedgerEntry

HOSTILE = ["<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # LocMemCache outlives a test's database rollback; ids are reused, so a cached aggregate could leak.
    cache.clear()
    yield
    cache.clear()


def _entry(organisation: Organisation, project: Project | None, key: str, **values: Any) -> LedgerEntry:
    end = values.pop("end")
    duration = values.pop("duration_s", 3600.0)
    defaults: dict[str, Any] = {
        "source": "codecarbon",
        "run_id": key,
        "experiment": "",
        "scope": 2,
        "category": "",
        "method": "measured",
        "pue_applied": 1.5,
        "factor_g_per_kwh": 200.0,
        "factor_version": "test-grid@v1",
        "country_iso": "FRA",
        "attributes": {"cpu_model": "Test CPU", "codecarbon_kg": 0.25, "implied_factor_g_per_kwh": 250.0},
    }
    defaults.update(values)
    return LedgerEntry.objects.create(
        organisation=organisation,
        project=project,
        natural_key=f"test:{key}",
        period_start=end - dt.timedelta(seconds=duration),
        period_end=end,
        day=end.date(),
        duration_s=duration,
        **defaults,
    )


def refresh(organisation: Organisation) -> None:
    project_ids: list[int | None] = [*organisation.projects.values_list("id", flat=True), None]
    rollup_refresh(
        organisation_id=organisation.id,
        project_ids=project_ids,
        first_day=dt.date(2000, 1, 1),
        last_day=dt.date(2100, 1, 1),
    )


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def make_entry() -> Callable[..., LedgerEntry]:
    return _entry


@pytest.fixture
def ledger(org, project, other_project, foreign_project) -> dict[str, LedgerEntry]:
    rows = {
        "r1": _entry(
            org,
            project,
            "r1",
            experiment="train",
            end=utc(2025, 1, 10, 12),
            energy_it_kwh=1.0,
            energy_facility_kwh=1.5,
            kgco2e_location=0.3,
            kgco2e_market=0.4,
            water_l=2.0,
            duration_s=600.0,
        ),
        "r2": _entry(
            org,
            project,
            "r2",
            experiment="train",
            end=utc(2025, 2, 3, 8),
            energy_it_kwh=2.0,
            energy_facility_kwh=3.0,
            kgco2e_location=0.6,
            kgco2e_market=0.8,
            duration_s=7200.0,
        ),
        "r3": _entry(
            org,
            project,
            "r3",
            end=utc(2025, 2, 20, 23, 59),
            energy_it_kwh=4.0,
            energy_facility_kwh=4.4,
            kgco2e_location=1.1,
            kgco2e_market=1.1,
            water_l=5.0,
            scope=3,
            category="1.1",
            provider="aws",
            region="eu-west-1",
            duration_s=60.0,
        ),
        "t1": _entry(
            org,
            project,
            "t1",
            source="codecarbon_task",
            run_id="r1",
            end=utc(2025, 1, 10, 12),
            energy_it_kwh=0.5,
            energy_facility_kwh=0.75,
            kgco2e_location=0.15,
            kgco2e_market=0.2,
            in_inventory=False,
        ),
        "w1": _entry(
            org,
            other_project,
            "w1",
            experiment="ab",
            end=utc(2025, 3, 5),
            energy_it_kwh=10.0,
            energy_facility_kwh=15.0,
            kgco2e_location=3.0,
            kgco2e_market=2.5,
        ),
        "bill": _entry(
            org,
            None,
            "bill",
            source="billing",
            run_id="",
            end=utc(2025, 3, 31),
            energy_it_kwh=100.0,
            energy_facility_kwh=120.0,
            kgco2e_location=30.0,
            kgco2e_market=30.0,
            scope=3,
            category="1.1",
            method="modelled",
            service="EC2",
        ),
        "foreign": _entry(
            foreign_project.organisation,
            foreign_project,
            "foreign",
            end=utc(2025, 1, 5),
            energy_it_kwh=999.0,
            energy_facility_kwh=999.0,
            kgco2e_location=999.0,
            kgco2e_market=999.0,
        ),
    }
    refresh(org)
    refresh(foreign_project.organisation)
    return rows
