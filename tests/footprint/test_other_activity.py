"""An other activity's ledger row from plain values (no reports model), with the arithmetic shown."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from greenesg.footprint.ledger import CODECARBON_RUN_COLUMNS, LEDGER_COLUMNS
from greenesg.footprint.other_activity import (
    ActivityFactor,
    ActivityUnpriced,
    OtherActivityValues,
    other_activity_ledger_row,
)

ELECTRICITY = OtherActivityValues(
    activity_id=12,
    organisation_id=1,
    project_id=None,
    natural_key="other:12",
    description="Office electricity",
    scope=2,
    category="",
    quantity=2.0,
    unit="MWh",
    energy_kwh=None,
    fuel_type="",
    country_iso="fra",
    factor=ActivityFactor(factor_id=5, g_co2e_per_kwh=250.0, version_label="grid@v3"),
    stated_kgco2e=None,
    stated_source="",
    evidence_name="",
    evidence_sha256="",
    period_start=dt.date(2026, 4, 1),
    period_end=dt.date(2026, 6, 30),
    import_name="other.csv",
    import_sha256="ab" * 32,
    import_row=2,
)


def test_a_factor_on_a_mwh_quantity_gives_modelled_emissions_and_energy() -> None:
    row = other_activity_ledger_row(ELECTRICITY)

    # 2 MWh = 2,000 kWh; 2,000 kWh x 250 g/kWh / 1,000 = 500 kg CO2e.
    assert (row["energy_it_kwh"], row["energy_facility_kwh"]) == (2000.0, 2000.0)
    assert (row["kgco2e_location"], row["kgco2e_market"]) == (500.0, 500.0)
    assert (row["method"], row["source"], row["scope"], row["category"]) == ("modelled", "other", 2, "")
    assert (row["factor_id"], row["factor_g_per_kwh"], row["factor_version"]) == (5, 250.0, "grid@v3")
    assert row["market_basis"] == "mb_fallback_grid_average"
    assert (row["country_iso"], row["day"], row["source_row"]) == ("FRA", dt.date(2026, 6, 30), 2)
    # The period runs from the first day's start to the last day's end (UTC).
    assert row["period_end"] - row["period_start"] == dt.timedelta(days=90, seconds=86399)
    assert row["attributes"]["other_activity_id"] == 12
    assert (*row, *CODECARBON_RUN_COLUMNS) == LEDGER_COLUMNS  # the codecarbon run columns stay null


def test_a_stated_figure_with_evidence_is_supplier_specific_and_names_no_factor() -> None:
    travel = dataclasses.replace(
        ELECTRICITY, scope=3, category="6", quantity=10.0, unit="trips", stated_kgco2e=12.5, evidence_sha256="cd" * 32
    )

    row = other_activity_ledger_row(travel)

    assert (row["kgco2e_location"], row["method"], row["flags"]) == (12.5, "supplier-specific", [])
    assert (row["factor_id"], row["factor_version"], row["market_basis"]) == (None, "", "")
    # Scope 3 energy is not the organisation's own: E1-5 counts none of it.
    assert (row["energy_it_kwh"], row["category"]) == (0.0, "6")


def test_a_stated_figure_without_evidence_is_modelled_and_flagged() -> None:
    row = other_activity_ledger_row(dataclasses.replace(ELECTRICITY, stated_kgco2e=40.0))

    assert (row["kgco2e_location"], row["method"], row["flags"]) == (40.0, "modelled", ["evidence_missing"])


def test_scope_1_fuel_is_named_in_the_resource_category() -> None:
    heating = dataclasses.replace(
        ELECTRICITY, scope=1, unit="l", quantity=100.0, energy_kwh=1000.0, fuel_type="diesel", stated_kgco2e=265.0
    )

    row = other_activity_ledger_row(heating)

    assert (row["resource_category"], row["energy_it_kwh"], row["kgco2e_location"]) == ("fuel:diesel", 1000.0, 265.0)


def test_an_activity_without_a_figure_or_a_usable_factor_is_refused() -> None:
    with pytest.raises(ActivityUnpriced, match="stated kgCO2e or a registry factor"):
        other_activity_ledger_row(dataclasses.replace(ELECTRICITY, unit="km"))
    with pytest.raises(ActivityUnpriced):
        other_activity_ledger_row(dataclasses.replace(ELECTRICITY, factor=None))
