"""Ledger aggregates → ESRS E1-5 and E1-6 facts and tables. Pure: a JSON inputs snapshot in, JSON out.

Rules encoded here (docs/esrs.md §4, §5, §11):
- Public cloud is Scope 3 category 1, sub-line 1.1 (E1 AR 51); it is never Scope 2 and never E1-5 energy.
  E1-5 counts own operations only: Scope 2 electricity and Scope 1 fuels with a stated energy content.
- Scope 2 is given location-based (ledger) and market-based: contractual instruments first, then the
  residual mix for the unclaimed part, then the ledger's market figure (grid average) with a flag.
- Electricity is renewable only with a contractual instrument (AR 32); uncovered grid electricity is split
  into nuclear by the residual mix's nuclear share where given, and fossil for the rest.
- Totals = S1 + S2 + S3, location- and market-based (AR 47). No netting. SCI is never added (docs/esrs.md §12).
- Everything is computed per (month, market) and summed over a window's months, so any split of a year
  into quarters adds up to the year exactly; instruments are spread over the months of their consumption
  period pro rata to consumption in their market, which keeps that property.
Full precision is kept; rounding happens only when presenting (and in XBRL through `decimals`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from greenesg.footprint.methodology import market as market_method

SCOPE3_LABELS: dict[str, str] = {
    "1": "1 Purchased goods and services",
    "1.1": "1.1 of which cloud computing and data centre services",
    "2": "2 Capital goods",
    "3": "3 Fuel- and energy-related activities (not in Scope 1 or 2)",
    "4": "4 Upstream transportation and distribution",
    "5": "5 Waste generated in operations",
    "6": "6 Business travel",
    "7": "7 Employee commuting",
    "8": "8 Upstream leased assets",
    "9": "9 Downstream transportation",
    "10": "10 Processing of sold products",
    "11": "11 Use of sold products",
    "12": "12 End-of-life treatment of sold products",
    "13": "13 Downstream leased assets",
    "14": "14 Franchises",
    "15": "15 Investments",
    "other": "Other Scope 3 (category not stated)",
}
# EFRAG ESRS taxonomy members of Scope3GHGEmissionsCategoryGHGProtocolAxis (docs/esrs.md §10.4).
SCOPE3_MEMBERS: dict[str, str] = {
    "1": "Category1PurchasedGoodsAndServicesMember",
    "1.1": "Category11CloudComputingAndDataCentreServicesMember",
    "2": "Category2CapitalGoodsMember",
    "3": "Category3FuelAndEnergyrelatedActivitiesMember",
    "4": "Category4UpstreamTransportationAndDistributionMember",
    "5": "Category5WasteGeneratedInOperationsMember",
    "6": "Category6BusinessTravelMember",
    "7": "Category7EmployeeCommutingMember",
    "8": "Category8UpstreamLeasedAssetsMember",
    "9": "Category9DownstreamTransportationAndDistributionMember",
    "10": "Category10ProcessingOfSoldProductsMember",
    "11": "Category11UseOfSoldProductsMember",
    "12": "Category12EndoflifeTreatmentOfSoldProductsMember",
    "13": "Category13DownstreamLeasedAssetsMember",
    "14": "Category14FranchisesMember",
    "15": "Category15InvestmentsMember",
    "other": "OtherScope3GreenhouseGasEmissionsCategoryMember",
}
SCOPE3_AXIS = "Scope3GHGEmissionsCategoryGHGProtocolAxis"
FUEL_ROWS = ("coal", "oil", "natural_gas", "other_fossil")
MB_BASIS_INSTRUMENT = market_method.MB_BASIS_INSTRUMENT
MB_BASIS_RESIDUAL = market_method.MB_BASIS_RESIDUAL
MB_BASIS_GRID = market_method.MB_BASIS_GRID

# E1-5 rows: (row id, label, concept, high-impact only).
E15_ROWS: tuple[tuple[str, str, str, bool], ...] = (
    ("coal", "(1) Fuel consumption from coal and coal products", "FuelConsumptionFromCoalAndCoalProducts", True),
    (
        "oil",
        "(2) Fuel consumption from crude oil and petroleum products",
        "FuelConsumptionFromCrudeOilAndPetroleumProducts",
        True,
    ),
    ("natural_gas", "(3) Fuel consumption from natural gas", "FuelConsumptionFromNaturalGas", True),
    ("other_fossil", "(4) Fuel consumption from other fossil sources", "FuelConsumptionFromOtherFossilSources", True),
    (
        "purchased_fossil",
        "(5) Purchased or acquired electricity, heat, steam and cooling from fossil sources",
        "ConsumptionOfPurchasedOrAcquiredElectricityHeatSteamOrCoolingFromFossilSources",
        True,
    ),
    ("fossil", "(6) Total fossil energy consumption", "EnergyConsumptionFromFossilSources", False),
    (
        "fossil_share",
        "Share of fossil sources in total energy consumption (%)",
        "PercentageOfFossilSourcesInTotalEnergyConsumption",
        False,
    ),
    ("nuclear", "(7) Consumption from nuclear sources", "EnergyConsumptionFromNuclearSources", False),
    (
        "nuclear_share",
        "Share of consumption from nuclear sources in total energy consumption (%)",
        "PercentageOfEnergyConsumptionFromNuclearSourcesInTotalEnergyConsumption",
        False,
    ),
    (
        "renewable_fuel",
        "(8) Fuel consumption from renewable sources, including biomass",
        "FuelConsumptionFromRenewableSources",
        False,
    ),
    (
        "purchased_renewable",
        "(9) Purchased or acquired electricity, heat, steam and cooling from renewable sources",
        "ConsumptionOfPurchasedOrAcquiredElectricityHeatSteamAndCoolingFromRenewableSources",
        False,
    ),
    (
        "self_generated",
        "(10) Self-generated non-fuel renewable energy",
        "ConsumptionOfSelfgeneratedNonfuelRenewableEnergy",
        False,
    ),
    ("renewable", "(11) Total renewable energy consumption", "EnergyConsumptionFromRenewableSources", False),
    (
        "renewable_share",
        "Share of renewable sources in total energy consumption (%)",
        "PercentageOfRenewableSourcesInTotalEnergyConsumption",
        False,
    ),
    ("total", "Total energy consumption", "EnergyConsumptionRelatedToOwnOperations", False),
)
E16_CONCEPTS = {
    "scope1": "GrossScope1GreenhouseGasEmissions",
    "scope1_ets": "PercentageOfScope1GreenhouseGasEmissionsFromRegulatedEmissionTradingSchemes",
    "scope2_location": "GrossLocationBasedScope2GreenhouseGasEmissions",
    "scope2_market": "GrossMarketBasedScope2GreenhouseGasEmissions",
    "scope3": "GrossScope3GreenhouseGasEmissions",
    "total_location": "LocationBasedGreenhouseGasEmissions",
    "total_market": "MarketBasedGreenhouseGasEmissions",
}
TARGET_ROWS = {
    "scope1": "scope1",
    "scope2_location": "scope2_location",
    "scope2_market": "scope2_market",
    "scope3": "scope3",
    "total_location": "total_location",
    "total_market": "total_market",
}


# ------------------------------------------------------------------------------------ Scope 2 market

# The market-based method itself lives in greenesg/footprint/methodology/market.py, shared with the dashboards
# and the summary API (docs/methodology.md §7.2); these names stay for the report's callers.
_month = market_method.month_of
months_between = market_method.months_between
_overlap_fraction = market_method.overlap_fraction
_scope2_cells = market_method.scope2_cells
_allocate_instruments = market_method.allocate_instruments
_residual_for = market_method.residual_for


def scope2_market_cells(inputs: dict[str, Any]) -> dict[tuple[dt.date, str], dict[str, Any]]:
    """Market-based Scope 2 and the E1-5 electricity split per (month, market)."""
    cells = market_method.scope2_cells(inputs.get("ledger", []))
    return market_method.market_cells(cells, inputs.get("instruments", []), inputs.get("residual_mix", []))


# --------------------------------------------------------------------------------------------- windows


def window_figures(inputs: dict[str, Any], start: dt.date, end: dt.date, market: dict | None = None) -> dict[str, Any]:
    """Every E1-5 / E1-6 figure (t and MWh, full precision) for the months of [start, end]."""
    months = set(months_between(start, end))
    market = market if market is not None else scope2_market_cells(inputs)
    kg: dict[str, float] = defaultdict(float)
    energy: dict[str, float] = defaultdict(float)
    scope3: dict[str, float] = defaultdict(float)
    methods: dict[str, float] = defaultdict(float)
    records = 0
    for row in inputs.get("ledger", []):
        if _month(row["month"]) not in months:
            continue
        scope, loc = int(row["scope"]), float(row.get("kg_location") or 0.0)
        records += int(row.get("records") or 0)
        methods[row.get("method") or "unknown"] += loc
        if scope == 1:
            kg["scope1"] += loc
            fuel = row.get("fuel") or ""
            if fuel:
                energy["renewable_fuel" if fuel == "renewable" else fuel] += float(row.get("energy_kwh") or 0.0)
        elif scope == 2:
            kg["scope2_location"] += loc
        else:
            category = row.get("category") or "other"
            scope3[category] += loc
            if category == "1.1":
                scope3["1"] += loc
            if (row.get("method") or "") == "supplier-specific":
                kg["scope3_primary"] += loc
    bases: dict[str, float] = defaultdict(float)
    for (month, _), cell in market.items():
        if month not in months:
            continue
        kg["scope2_market"] += cell["kg_market"]
        energy["purchased_fossil"] += cell["fossil_kwh"]
        energy["nuclear"] += cell["nuclear_kwh"]
        energy["purchased_renewable"] += cell["renewable_kwh"]
        energy["electricity"] += cell["kwh"]
        energy["covered"] += cell["covered_kwh"]
        # Each kWh by the basis it was valued on: instrument-covered volume never counts as grid or residual mix.
        bases[MB_BASIS_INSTRUMENT] += cell["covered_kwh"]
        if cell["uncovered_kwh"] > 0:
            bases[cell["basis"]] += cell["uncovered_kwh"]
    t = {k: v / 1000.0 for k, v in kg.items()}
    s3 = {k: v / 1000.0 for k, v in scope3.items()}
    s3_total = sum(v for k, v in s3.items() if k != "1.1")
    mwh = {k: v / 1000.0 for k, v in energy.items()}
    fossil = sum(mwh.get(k, 0.0) for k in (*FUEL_ROWS, "purchased_fossil"))
    renewable = mwh.get("renewable_fuel", 0.0) + mwh.get("purchased_renewable", 0.0)
    total_energy = fossil + mwh.get("nuclear", 0.0) + renewable
    figures: dict[str, Any] = {
        "scope1": t.get("scope1", 0.0),
        "scope1_ets": 0.0,
        "scope2_location": t.get("scope2_location", 0.0),
        "scope2_market": t.get("scope2_market", 0.0),
        "scope3": s3_total,
        "scope3_categories": s3,
        "scope3_primary_percent": (t.get("scope3_primary", 0.0) / s3_total * 100.0) if s3_total > 0 else None,
        "energy": {
            **{k: mwh.get(k, 0.0) for k in FUEL_ROWS},
            "purchased_fossil": mwh.get("purchased_fossil", 0.0),
            "fossil": fossil,
            "nuclear": mwh.get("nuclear", 0.0),
            "renewable_fuel": mwh.get("renewable_fuel", 0.0),
            "purchased_renewable": mwh.get("purchased_renewable", 0.0),
            "self_generated": 0.0,
            "renewable": renewable,
            "total": total_energy,
            "fossil_share": fossil / total_energy * 100.0 if total_energy > 0 else None,
            "nuclear_share": mwh.get("nuclear", 0.0) / total_energy * 100.0 if total_energy > 0 else None,
            "renewable_share": renewable / total_energy * 100.0 if total_energy > 0 else None,
        },
        "instrument_share_percent": (
            mwh.get("covered", 0.0) / mwh["electricity"] * 100.0 if mwh.get("electricity") else None
        ),
        "market_basis_mwh": {k: v / 1000.0 for k, v in bases.items()},
        "method_kg": dict(methods),
        "records": records,
    }
    figures["total_location"] = figures["scope1"] + figures["scope2_location"] + s3_total
    figures["total_market"] = figures["scope1"] + figures["scope2_market"] + s3_total
    return figures


def _revenue(inputs: dict[str, Any], quarters: list[tuple[int, int]]) -> dict[str, Any] | None:
    by_key = {(int(r["fiscal_year"]), int(r["quarter"])): r for r in inputs.get("revenue", [])}
    if not quarters or any(q not in by_key for q in quarters):
        return None
    used = sum(float(by_key[q]["used"]) for q in quarters)
    other = sum(float(by_key[q]["other"]) for q in quarters)
    refs = sorted({by_key[q].get("reference") or "" for q in quarters} - {""})
    return {"used": used, "other": other, "total": used + other, "reference": "; ".join(refs)}


def _change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / abs(previous) * 100.0


# ----------------------------------------------------------------------------------------------- facts


def _fact(
    facts: dict[str, dict[str, Any]],
    fid: str,
    *,
    label: str,
    value: float | None,
    unit: str,
    window: str,
    concept: str = "",
    dims: dict[str, str] | None = None,
    decimals: int = 3,
) -> str:
    facts[fid] = {
        "id": fid,
        "concept": concept,
        "label": label,
        "value": value,
        "unit": unit,
        "decimals": decimals,
        "window": window,
        "dims": dims or {},
    }
    return fid


def _e16_rows(figures: dict[str, Any], screening: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """(row id, label, level, value, concept, dims, unit) for the AR 48 table, in its order."""
    rows: list[tuple[str, str, int, Any, str, dict[str, str], str]] = [
        ("scope1", "Gross Scope 1 GHG emissions", 0, figures["scope1"], E16_CONCEPTS["scope1"], {}, "tCO2e"),
        (
            "scope1_ets",
            "Percentage of Scope 1 GHG emissions from regulated emission trading schemes (%)",
            1,
            figures["scope1_ets"] if figures["scope1"] > 0 else None,
            E16_CONCEPTS["scope1_ets"],
            {},
            "percent",
        ),
        (
            "scope2_location",
            "Gross location-based Scope 2 GHG emissions",
            0,
            figures["scope2_location"],
            E16_CONCEPTS["scope2_location"],
            {},
            "tCO2e",
        ),
        (
            "scope2_market",
            "Gross market-based Scope 2 GHG emissions",
            0,
            figures["scope2_market"],
            E16_CONCEPTS["scope2_market"],
            {},
            "tCO2e",
        ),
        (
            "scope3",
            "Total gross indirect (Scope 3) GHG emissions",
            0,
            figures["scope3"],
            E16_CONCEPTS["scope3"],
            {},
            "tCO2e",
        ),
    ]
    categories = figures["scope3_categories"]
    for key in (*[str(n) for n in range(1, 16)], "other"):
        for sub in (key, "1.1") if key == "1" else (key,):
            value = categories.get(sub)
            excluded = sub in screening and not screening[sub]["included"]
            if sub == "other" and not value:
                continue
            rows.append(
                (
                    f"scope3.cat{sub}",
                    SCOPE3_LABELS[sub],
                    2 if sub == "1.1" else 1,
                    None if excluded and not value else (value or 0.0),
                    E16_CONCEPTS["scope3"],
                    {SCOPE3_AXIS: SCOPE3_MEMBERS[sub]},
                    "tCO2e",
                )
            )
    rows += [
        (
            "total_location",
            "Total GHG emissions (location-based)",
            0,
            figures["total_location"],
            E16_CONCEPTS["total_location"],
            {},
            "tCO2e",
        ),
        (
            "total_market",
            "Total GHG emissions (market-based)",
            0,
            figures["total_market"],
            E16_CONCEPTS["total_market"],
            {},
            "tCO2e",
        ),
    ]
    return [
        {"id": r[0], "label": r[1], "level": r[2], "value": r[3], "concept": r[4], "dims": r[5], "unit": r[6]}
        for r in rows
    ]


def _target_values(inputs: dict[str, Any]) -> tuple[list[int], dict[tuple[str, int], dict[str, Any]]]:
    base: dict[str, Any] = inputs.get("base_year") or {}
    base_values: dict[str, Any] = {  # JSON numbers or None
        "scope1": base.get("scope1"),
        "scope2_location": base.get("scope2_location"),
        "scope2_market": base.get("scope2_market"),
        "scope3": base.get("scope3"),
    }
    if all(base_values.get(k) is not None for k in ("scope1", "scope2_location", "scope3")):
        base_values["total_location"] = base_values["scope1"] + base_values["scope2_location"] + base_values["scope3"]
    if all(base_values.get(k) is not None for k in ("scope1", "scope2_market", "scope3")):
        base_values["total_market"] = base_values["scope1"] + base_values["scope2_market"] + base_values["scope3"]
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for target in inputs.get("targets", []):
        row, year = TARGET_ROWS.get(target["scope"]), int(target["target_year"])
        if row is None:
            continue
        base_value = base_values.get(row)
        value, annual = target.get("absolute_target_t"), None
        if target.get("reduction_percent") is not None:
            if value is None and base_value is not None:
                value = base_value * (1 - float(target["reduction_percent"]) / 100.0)
            if base.get("year") and year > int(base["year"]):
                annual = float(target["reduction_percent"]) / (year - int(base["year"]))
        elif value is not None and base_value and base.get("year") and year > int(base["year"]):
            annual = (1 - float(value) / base_value) * 100.0 / (year - int(base["year"]))
        out[(row, year)] = {"value": value, "annual_percent": annual, "science_based": target.get("science_based")}
    return sorted({year for _, year in out}), out


def _base_values(inputs: dict[str, Any]) -> dict[str, float | None]:
    base: dict[str, Any] = inputs.get("base_year") or {}
    values: dict[str, Any] = {k: base.get(k) for k in ("scope1", "scope2_location", "scope2_market", "scope3")}
    if None not in (values["scope1"], values["scope2_location"], values["scope3"]):
        values["total_location"] = values["scope1"] + values["scope2_location"] + values["scope3"]
    if None not in (values["scope1"], values["scope2_market"], values["scope3"]):
        values["total_market"] = values["scope1"] + values["scope2_market"] + values["scope3"]
    return values


def compute(inputs: dict[str, Any]) -> dict[str, Any]:
    """The whole fact set and the tables of the report, from an inputs snapshot (JSON-ready)."""
    market = scope2_market_cells(inputs)
    windows = inputs["windows"]
    figures = {
        name: window_figures(inputs, dt.date.fromisoformat(w["start"]), dt.date.fromisoformat(w["end"]), market)
        for name, w in windows.items()
    }
    screening = {s["category"]: s for s in inputs.get("screening", [])}
    facts: dict[str, dict[str, Any]] = {}
    high_impact = bool(inputs["organisation"].get("high_impact"))
    for name, fig in figures.items():
        for row in _e16_rows(fig, screening):
            decimals = 1 if row["unit"] == "percent" else 3
            _fact(
                facts,
                f"e1_6.{row['id']}.{name}",
                label=row["label"],
                value=row["value"],
                unit=row["unit"],
                window=name,
                concept=row["concept"],
                dims=row["dims"],
                decimals=decimals,
            )
        for row_id, label, concept, high_only in E15_ROWS:
            if high_only and not high_impact:
                continue
            unit = "percent" if row_id.endswith("_share") else "MWh"
            _fact(
                facts,
                f"e1_5.{row_id}.{name}",
                label=label,
                value=fig["energy"][row_id],
                unit=unit,
                window=name,
                concept=concept,
                decimals=1 if unit == "percent" else 3,
            )
        revenue = _revenue(inputs, [tuple(q) for q in windows[name].get("quarters", [])])
        currency = inputs["organisation"].get("currency") or "EUR"
        for basis in ("location", "market"):
            total = fig[f"total_{basis}"]
            value = total / revenue["used"] if revenue and revenue["used"] > 0 else None
            concept = f"GHGEmissionsIntensity{basis.capitalize()}basedTotalGHGEmissionsPerNetRevenue"
            _fact(
                facts,
                f"intensity.{basis}.{name}",
                label=f"Total GHG emissions ({basis}-based) per net revenue",
                value=value,
                unit=f"tCO2e/{currency}",
                window=name,
                concept=concept,
                decimals=9,
            )
        if revenue:
            _fact(
                facts,
                f"revenue.used.{name}",
                label="Net revenue used to calculate GHG intensity",
                value=revenue["used"],
                unit=currency,
                window=name,
                concept="NetRevenueUsedToCalculateGHGIntensity",
                decimals=2,
            )
            _fact(
                facts,
                f"revenue.other.{name}",
                label="Net revenue (other)",
                value=revenue["other"],
                unit=currency,
                window=name,
                concept="NetRevenueOtherThanUsedToCalculateGHGIntensity",
                decimals=2,
            )
            _fact(
                facts,
                f"revenue.total.{name}",
                label="Total net revenue (financial statements)",
                value=revenue["total"],
                unit=currency,
                window=name,
                concept="Revenue",
                decimals=2,
            )
        if high_impact and revenue and revenue["total"] > 0:
            _fact(
                facts,
                f"e1_5.energy_intensity.{name}",
                label="Energy intensity per net revenue (MWh per currency unit)",
                value=fig["energy"]["total"] / revenue["total"],
                unit=f"MWh/{currency}",
                window=name,
                concept="EnergyIntensityFromActivitiesInHighClimateImpactSectorsTotalEnergyConsumptionPerNetRevenue",
                decimals=9,
            )
        _fact(
            facts,
            f"other.scope3_primary.{name}",
            label="% of Scope 3 from primary (supplier) data",
            value=fig["scope3_primary_percent"],
            unit="percent",
            window=name,
            decimals=1,
            concept="PercentageOfGrossScope3GreenhouseGasEmissionsCalculatedUsingPrimaryDataObtainedFromSuppliersOrOtherValueChainPartners",
        )
        _fact(
            facts,
            f"other.instrument_share.{name}",
            label="% of Scope 2 electricity covered by contractual instruments",
            value=fig["instrument_share_percent"],
            unit="percent",
            window=name,
            decimals=1,
        )
    base = _base_values(inputs)
    base_year = (inputs.get("base_year") or {}).get("year")
    if base_year:
        for row_id, value in base.items():
            if value is not None:
                _fact(
                    facts,
                    f"e1_6.{row_id}.base",
                    label=f"Base year {base_year}",
                    value=value,
                    unit="tCO2e",
                    window="base",
                    concept=E16_CONCEPTS[row_id],
                    dims={"CurrentlyStatedBaselineMilestonesOrTargetYearsAxis": "BaselineYearMember"},
                )
    target_years, targets = _target_values(inputs)
    for (row_id, year), target in targets.items():
        if target["value"] is not None:
            _fact(
                facts,
                f"e1_6.{row_id}.target{year}",
                label=f"Target {year}",
                value=target["value"],
                unit="tCO2e",
                window=f"target{year}",
                concept=E16_CONCEPTS[row_id],
                dims={"CurrentlyStatedBaselineMilestonesOrTargetYearsAxis": "MilestonesAndTargetYearsMember"},
            )
    _blank_windows_without_data(inputs, facts, figures)
    result = {
        "facts": facts,
        "figures": figures,
        "targets": {f"{row}|{year}": t for (row, year), t in targets.items()},
        "target_years": target_years,
        "market_cells": _market_summary(market, windows["N"]),
        "notes": _notes(inputs, market, figures),
    }
    result["tables"] = build_tables(inputs, result)
    return result


def _market_summary(market: dict, window: dict[str, str]) -> list[dict[str, Any]]:
    months = set(months_between(dt.date.fromisoformat(window["start"]), dt.date.fromisoformat(window["end"])))
    by_market: dict[str, dict[str, Any]] = {}
    for (month, zone), cell in sorted(market.items()):
        if month not in months:
            continue
        row = by_market.setdefault(
            zone or "—",
            {
                "market": zone or "—",
                "mwh": 0.0,
                "covered_mwh": 0.0,
                "kg_location": 0.0,
                "kg_market": 0.0,
                "bases": set(),
                "residual": None,
            },
        )
        row["mwh"] += cell["kwh"] / 1000.0
        row["covered_mwh"] += cell["covered_kwh"] / 1000.0
        row["kg_location"] += cell["kg_location"]
        row["kg_market"] += cell["kg_market"]
        row["bases"].add(cell["basis"])
        if cell["residual"]:
            row["residual"] = cell["residual"]
    out = []
    for row in by_market.values():
        row["bases"] = sorted(row["bases"])
        out.append(row)
    return out


# Facts that state the ledger's figures for a window: without any ledger data they are "not available", never 0.
LEDGER_FACT_PREFIXES = ("e1_5.", "e1_6.", "intensity.", "other.")


def data_months(inputs: dict[str, Any], window: dict[str, Any]) -> tuple[int, int]:
    """(months of the window with any ledger row, months of the window)."""
    months = months_between(dt.date.fromisoformat(window["start"]), dt.date.fromisoformat(window["end"]))
    present = {_month(row["month"]) for row in inputs.get("ledger", [])}
    return sum(1 for month in months if month in present), len(months)


def _blank_windows_without_data(inputs: dict[str, Any], facts: dict[str, Any], figures: dict[str, Any]) -> None:
    """A window with no ledger data at all reports "not available": its ledger facts become None (printed as
    "–", never tagged in iXBRL) instead of a 0 that would read as "no emissions" (issue 12: no data is not zero)."""
    for name, window in inputs["windows"].items():
        present, total = data_months(inputs, window)
        figures[name]["data_months"], figures[name]["months"] = present, total
        if present:
            continue
        for fact in facts.values():
            if fact["window"] == name and fact["id"].startswith(LEDGER_FACT_PREFIXES):
                fact["value"] = None


def _coverage_notes(inputs: dict[str, Any], figures: dict[str, Any]) -> list[str]:
    notes = []
    for name, window in inputs["windows"].items():
        present, total = figures[name].get("data_months", 0), figures[name].get("months", 0)
        if present == 0:
            notes.append(f"{window['title']}: no data; its figures are shown as – (not available), not as 0.")
        elif present < total:
            notes.append(f"{window['title']}: {present} of {total} months have data; comparisons with it are partial.")
    return notes


def _notes(inputs: dict[str, Any], market: dict, figures: dict[str, Any]) -> list[str]:
    notes = _coverage_notes(inputs, figures)
    cells = _scope2_cells(inputs.get("ledger", []))
    _, instrument_notes = _allocate_instruments(inputs.get("instruments", []), cells)
    notes += instrument_notes
    bases = figures["N"]["market_basis_mwh"]
    if bases.get(MB_BASIS_GRID):
        notes.append(
            f"{bases[MB_BASIS_GRID]:,.3f} MWh of Scope 2 electricity had neither an instrument nor a residual-mix "
            "factor for its market: the market-based figure uses the grid average for it (flag "
            f"'{MB_BASIS_GRID}')."
        )
    return notes


# ---------------------------------------------------------------------------------------------- tables


def _cell(facts: dict[str, dict[str, Any]], fid: str) -> dict[str, Any]:
    fact = facts.get(fid)
    if fact is None:
        return {"value": None, "fact": None}
    return {"value": fact["value"], "fact": fid if fact["value"] is not None else None}


def build_tables(inputs: dict[str, Any], result: dict[str, Any]) -> list[dict[str, Any]]:
    """The E1-5, E1-6 and intensity tables as rows of cells referencing facts (shared by PDF and exports)."""
    facts, windows = result["facts"], inputs["windows"]
    is_quarter = "YTD" in windows
    restated = inputs.get("restated_from")
    cols = [("N-1", windows["N-1"]["title"] + " (N-1)"), ("N", windows["N"]["title"] + " (N)")]
    e16_cols = [("base", f"Base year {inputs.get('base_year', {}).get('year') or '—'} (annual)"), *cols]
    if restated:
        e16_cols.insert(2, ("previous", "N as previously stated"))
    e16_cols.append(("change", "% N / N-1"))
    if is_quarter:
        e16_cols.append(("YTD", windows["YTD"]["title"]))
    e16_cols += [(f"target{y}", f"Target {y}") for y in result["target_years"]]
    if result["target_years"]:
        e16_cols.append(("annual", "Annual % target / base year"))
    screening = {s["category"]: s for s in inputs.get("screening", [])}
    e16_rows: list[dict[str, Any]] = []
    for row in _e16_rows(result["figures"]["N"], screening):
        cells: dict[str, dict[str, Any]] = {}
        for col, _ in e16_cols:
            if col == "change":
                cells[col] = {
                    "value": _change(facts[f"e1_6.{row['id']}.N"]["value"], facts[f"e1_6.{row['id']}.N-1"]["value"])
                    if row["unit"] != "percent"
                    else None,
                    "fact": None,
                    "unit": "percent",
                }
            elif col == "previous":
                cells[col] = {"value": (restated or {}).get("facts", {}).get(f"e1_6.{row['id']}.N"), "fact": None}
            elif col == "annual":
                values = [
                    t["annual_percent"]
                    for k, t in result["targets"].items()
                    if k.split("|")[0] == row["id"] and t["annual_percent"] is not None
                ]
                cells[col] = {"value": values[-1] if values else None, "fact": None, "unit": "percent"}
            else:
                cells[col] = _cell(facts, f"e1_6.{row['id']}.{col}")
        excluded = (
            row["id"].startswith("scope3.cat")
            and row["id"][10:] in screening
            and not screening[row["id"][10:]]["included"]
        )
        e16_rows.append(
            {
                "id": row["id"],
                "label": row["label"],
                "level": row["level"],
                "unit": row["unit"],
                "cells": cells,
                "excluded": excluded,
            }
        )
    e15_cols = list(cols)
    if is_quarter:
        e15_cols.append(("YTD", windows["YTD"]["title"]))
    e15_rows: list[dict[str, Any]] = []
    high_impact = bool(inputs["organisation"].get("high_impact"))
    for row_id, label, _, high_only in E15_ROWS:
        if high_only and not high_impact:
            continue
        unit = "percent" if row_id.endswith("_share") else "MWh"
        e15_rows.append(
            {
                "id": row_id,
                "label": label,
                "level": 1 if unit == "percent" else 0,
                "unit": unit,
                "cells": {c: _cell(facts, f"e1_5.{row_id}.{c}") for c, _ in e15_cols},
                "total": row_id in ("fossil", "renewable", "total"),
            }
        )
    int_cols = [*cols, ("change", "% N / N-1")]
    int_rows: list[dict[str, Any]] = []
    for basis in ("location", "market"):
        cells = {c: _cell(facts, f"intensity.{basis}.{c}") for c, _ in cols}
        cells["change"] = {
            "value": _change(cells["N"]["value"], cells["N-1"]["value"]),
            "fact": None,
            "unit": "percent",
        }
        int_rows.append(
            {
                "id": f"intensity.{basis}",
                "label": f"Total GHG emissions ({basis}-based) per net revenue",
                "level": 0,
                "unit": "intensity",
                "cells": cells,
            }
        )
    rev_rows: list[dict[str, Any]] = [
        {
            "id": f"revenue.{k}",
            "label": label,
            "level": 0,
            "unit": "currency",
            "total": k == "total",
            "cells": {c: _cell(facts, f"revenue.{k}.{c}") for c, _ in cols},
        }
        for k, label in (
            ("used", "Net revenue used to calculate GHG intensity"),
            ("other", "Net revenue (other)"),
            ("total", "Total net revenue (financial statements)"),
        )
    ]
    currency = inputs["organisation"].get("currency") or "EUR"
    for table, rows in (("e1_5", e15_rows), ("e1_6", e16_rows), ("intensity", int_rows), ("revenue", rev_rows)):
        for row in rows:
            row["ref"] = row_ref(table, row["id"])
    return [
        {"id": "e1_5", "title": "E1-5 Energy consumption and mix (MWh)", "columns": _cols(e15_cols), "rows": e15_rows},
        {
            "id": "e1_6",
            "title": "E1-6 Gross Scopes 1, 2, 3 and total GHG emissions (tCO2e)",
            "columns": _cols(e16_cols),
            "rows": e16_rows,
        },
        {
            "id": "intensity",
            "title": f"E1-6 GHG intensity per net revenue (tCO2e per {currency} million)",
            "columns": _cols(int_cols),
            "rows": int_rows,
        },
        {
            "id": "revenue",
            "title": f"Net revenue reconciliation ({currency})",
            "columns": _cols(cols),
            "rows": rev_rows,
        },
    ]


E15_REFS = {
    "coal": "EN-1",
    "oil": "EN-2",
    "natural_gas": "EN-3",
    "other_fossil": "EN-4",
    "purchased_fossil": "EN-5",
    "fossil": "EN-6",
    "fossil_share": "EN-6%",
    "nuclear": "EN-7",
    "nuclear_share": "EN-7%",
    "renewable_fuel": "EN-8",
    "purchased_renewable": "EN-9",
    "self_generated": "EN-10",
    "renewable": "EN-11",
    "renewable_share": "EN-11%",
    "total": "EN-T",
}
E16_REFS = {
    "scope1": "S1",
    "scope1_ets": "S1-ETS",
    "scope2_location": "S2-LB",
    "scope2_market": "S2-MB",
    "scope3": "S3",
    "total_location": "TOT-LB",
    "total_market": "TOT-MB",
}
OTHER_REFS = {
    "intensity.location": "INT-LB",
    "intensity.market": "INT-MB",
    "revenue.used": "REV-U",
    "revenue.other": "REV-O",
    "revenue.total": "REV-T",
}


def row_ref(table: str, row_id: str) -> str:
    """A short, stable reference per table row, printed in the PDF and repeated in every export."""
    if table == "e1_5":
        return E15_REFS[row_id]
    if table == "e1_6":
        if row_id.startswith("scope3.cat"):
            sub = row_id[len("scope3.cat") :]
            return "S3-OTH" if sub == "other" else f"S3-C{sub}"
        return E16_REFS[row_id]
    return OTHER_REFS[row_id]


def _cols(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"id": c, "label": label} for c, label in pairs]
