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
import operator
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import reduce
from typing import Any

from greenesg.footprint.methodology import market as market_method
from reports.esrs.datapoints import DATAPOINTS, Datapoint

# Scope 3 category labels and taxonomy members, keyed by category ("1", "1.1", …, "other"), read from the E1-6
# category datapoints (docs/esrs.md §10.4); the screening table and the Scope 3 chart share them.
SCOPE3_LABELS: dict[str, str] = {dp.category: dp.label for dp in DATAPOINTS.scope3_categories()}
SCOPE3_AXIS = "Scope3GHGEmissionsCategoryGHGProtocolAxis"
SCOPE3_MEMBERS: dict[str, str] = {dp.category: dp.dimensions[SCOPE3_AXIS] for dp in DATAPOINTS.scope3_categories()}
MB_BASIS_INSTRUMENT = market_method.MB_BASIS_INSTRUMENT
MB_BASIS_RESIDUAL = market_method.MB_BASIS_RESIDUAL
MB_BASIS_GRID = market_method.MB_BASIS_GRID
BASE_AXIS = "CurrentlyStatedBaselineMilestonesOrTargetYearsAxis"
# E1-5 energy rows measured from the ledger (not totals, not shares); the totals add them by their `sum_of`.
_E15_MEASURED = tuple(dp for dp in DATAPOINTS.rows("e1_5") if dp.unit == "MWh" and not dp.sum_of)
_E15_TOTALS = tuple(dp for dp in DATAPOINTS.rows("e1_5") if dp.sum_of)
# The rows with base-year and target columns (AR 48), by row id.
_BASELINE_ROWS = {dp.row: dp for dp in DATAPOINTS.baseline()}
_REFS = {(dp.table, dp.row): dp.ref for dp in DATAPOINTS if dp.table}


@dataclass(frozen=True)
class Fact:
    """One reported value of one datapoint in one window ("N", "N-1", "YTD", "PQ", "base", "target2030").

    The report stores and compares facts in their JSON form (`as_json`), so a signed report's facts stay plain
    data; exporters read them back with `from_json`.
    """

    id: str
    concept: str
    label: str
    value: float | None
    unit: str
    decimals: int
    window: str
    dims: dict[str, str] = field(default_factory=dict)

    @property
    def datapoint_id(self) -> str:
        return self.id.removesuffix("." + self.window)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "concept": self.concept,
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "decimals": self.decimals,
            "window": self.window,
            "dims": dict(self.dims),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fact:
        return cls(
            id=data["id"],
            concept=data["concept"],
            label=data["label"],
            value=data["value"],
            unit=data["unit"],
            decimals=data["decimals"],
            window=data["window"],
            dims=dict(data.get("dims") or {}),
        )


def datapoint_sum(dp: Datapoint, values: Mapping[str, Any]) -> float | None:
    """A total from its parts (`values` keyed by row id), added in the datapoint's order; None when a part is
    missing. Left to right like the `a + b + c` it replaced, so every figure stays bit-for-bit the same."""
    parts = [values.get(DATAPOINTS[part].row) for part in dp.sum_of]
    if any(part is None for part in parts):
        return None
    return reduce(operator.add, parts)


def base_year_values(base_year: Mapping[str, Any]) -> dict[str, float | None]:
    """Base-year tCO2e per E1-6 row: the scopes as entered in the reporting settings, each total only when all its
    parts are entered (docs/esrs.md §5.1). The one place base-year totals are computed (facts, targets, PDF)."""
    values: dict[str, float | None] = {}
    for dp in DATAPOINTS.baseline():
        values[dp.row] = datapoint_sum(dp, values) if dp.sum_of else base_year.get(dp.row)
    return values


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
    energy_rows: dict[str, Any] = {dp.row: mwh.get(dp.row, 0.0) for dp in _E15_MEASURED}
    for dp in _E15_TOTALS:
        energy_rows[dp.row] = datapoint_sum(dp, energy_rows)
    total_energy = energy_rows["total"]
    for share, part in (("fossil_share", "fossil"), ("nuclear_share", "nuclear"), ("renewable_share", "renewable")):
        energy_rows[share] = energy_rows[part] / total_energy * 100.0 if total_energy > 0 else None
    figures: dict[str, Any] = {
        "scope1": t.get("scope1", 0.0),
        "scope1_ets": 0.0,
        "scope2_location": t.get("scope2_location", 0.0),
        "scope2_market": t.get("scope2_market", 0.0),
        "scope3": s3_total,
        "scope3_categories": s3,
        "scope3_primary_percent": (t.get("scope3_primary", 0.0) / s3_total * 100.0) if s3_total > 0 else None,
        "energy": energy_rows,
        "instrument_share_percent": (
            mwh.get("covered", 0.0) / mwh["electricity"] * 100.0 if mwh.get("electricity") else None
        ),
        "market_basis_mwh": {k: v / 1000.0 for k, v in bases.items()},
        "method_kg": dict(methods),
        "records": records,
    }
    for row in ("total_location", "total_market"):
        figures[row] = datapoint_sum(DATAPOINTS[f"e1_6.{row}"], figures)
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


def _window_values(fig: dict[str, Any], revenue: dict[str, Any] | None) -> dict[str, Any]:
    """The figures a window's datapoints read (their `source`): the window's figures plus those that need revenue."""
    used = revenue["used"] if revenue else 0.0
    return {
        **fig,
        "intensity": {
            basis: fig[f"total_{basis}"] / used if revenue and used > 0 else None for basis in ("location", "market")
        },
        "revenue": revenue or {},
        "energy_intensity": fig["energy"]["total"] / revenue["total"] if revenue and revenue["total"] > 0 else None,
    }


def _source(dp: Datapoint, values: dict[str, Any]) -> Any:
    head, _, key = dp.source.partition(".")
    if not key:
        return values[head]
    # A Scope 3 category without ledger rows is simply absent; any other missing figure is a datapoint error.
    return values[head].get(key) if dp.category else values[head][key]


def _emitted(dp: Datapoint, values: dict[str, Any], *, high_impact: bool, revenue: dict[str, Any] | None) -> bool:
    """Whether a window has this datapoint's fact at all (docs/esrs.md §4, §5): `when` in datapoints.json."""
    if dp.when == "high_impact":
        return high_impact
    if dp.when == "nonzero":
        return bool(_source(dp, values))
    if dp.when == "revenue":
        return revenue is not None
    if dp.when == "high_impact_revenue":
        return high_impact and revenue is not None and revenue["total"] > 0
    return True


def _value(dp: Datapoint, values: dict[str, Any], screening: dict[str, dict[str, Any]]) -> float | None:
    value = _source(dp, values)
    if dp.blank_unless and not values[dp.blank_unless] > 0:
        return None
    if dp.category:
        # A category the screening excludes, with no data, is "excl." (no value); an included one without data is 0.
        excluded = dp.category in screening and not screening[dp.category]["included"]
        return None if excluded and not value else (value or 0.0)
    return value


def _target_values(inputs: dict[str, Any]) -> tuple[list[int], dict[tuple[str, int], dict[str, Any]]]:
    base = inputs.get("base_year") or {}
    base_values = base_year_values(base)
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for target in inputs.get("targets", []):
        row, year = target["scope"], int(target["target_year"])
        if row not in _BASELINE_ROWS:
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


def _window_facts(inputs: dict[str, Any], name: str, fig: dict[str, Any]) -> list[Fact]:
    """One window's facts, one per datapoint that applies, in datapoints.json order."""
    org = inputs["organisation"]
    currency, high_impact = org.get("currency") or "EUR", bool(org.get("high_impact"))
    screening = {s["category"]: s for s in inputs.get("screening", [])}
    revenue = _revenue(inputs, [tuple(q) for q in inputs["windows"][name].get("quarters", [])])
    values = _window_values(fig, revenue)
    return [
        Fact(
            id=dp.fact_id(name),
            concept=dp.concept,
            label=dp.label,
            value=_value(dp, values, screening),
            unit=dp.fact_unit(currency),
            decimals=dp.decimals,
            window=name,
            dims=dict(dp.dimensions),
        )
        for dp in DATAPOINTS
        if _emitted(dp, values, high_impact=high_impact, revenue=revenue)
    ]


def _baseline_facts(inputs: dict[str, Any], targets: dict[tuple[str, int], dict[str, Any]]) -> list[Fact]:
    """Base-year and target columns of the AR 48 table, tagged with their member of the baseline axis."""
    out = []
    base_year = (inputs.get("base_year") or {}).get("year")
    if base_year:
        for row, value in base_year_values(inputs.get("base_year") or {}).items():
            if value is not None:
                dp = _BASELINE_ROWS[row]
                out.append(
                    Fact(
                        id=dp.fact_id("base"),
                        concept=dp.concept,
                        label=f"Base year {base_year}",
                        value=value,
                        unit=dp.unit,
                        decimals=dp.decimals,
                        window="base",
                        dims={**dp.dimensions, BASE_AXIS: "BaselineYearMember"},
                    )
                )
    for (row, year), target in targets.items():
        if target["value"] is not None:
            dp = _BASELINE_ROWS[row]
            out.append(
                Fact(
                    id=dp.fact_id(f"target{year}"),
                    concept=dp.concept,
                    label=f"Target {year}",
                    value=target["value"],
                    unit=dp.unit,
                    decimals=dp.decimals,
                    window=f"target{year}",
                    dims={**dp.dimensions, BASE_AXIS: "MilestonesAndTargetYearsMember"},
                )
            )
    return out


def compute(inputs: dict[str, Any]) -> dict[str, Any]:
    """The whole fact set and the tables of the report, from an inputs snapshot (JSON-ready)."""
    market = scope2_market_cells(inputs)
    windows = inputs["windows"]
    figures = {
        name: window_figures(inputs, dt.date.fromisoformat(w["start"]), dt.date.fromisoformat(w["end"]), market)
        for name, w in windows.items()
    }
    facts: dict[str, Fact] = {}
    for name, fig in figures.items():
        facts.update((fact.id, fact) for fact in _window_facts(inputs, name, fig))
    target_years, targets = _target_values(inputs)
    facts.update((fact.id, fact) for fact in _baseline_facts(inputs, targets))
    facts = _blank_windows_without_data(inputs, facts, figures)
    result = {
        "facts": {fid: fact.as_json() for fid, fact in facts.items()},
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


def _blank_windows_without_data(
    inputs: dict[str, Any], facts: dict[str, Fact], figures: dict[str, Any]
) -> dict[str, Fact]:
    """A window with no ledger data at all reports "not available": its ledger facts become None (printed as
    "–", never tagged in iXBRL) instead of a 0 that would read as "no emissions" (issue 12: no data is not zero)."""
    empty = set()
    for name, window in inputs["windows"].items():
        present, total = data_months(inputs, window)
        figures[name]["data_months"], figures[name]["months"] = present, total
        if not present:
            empty.add(name)
    return {
        fid: replace(fact, value=None) if fact.window in empty and fid.startswith(LEDGER_FACT_PREFIXES) else fact
        for fid, fact in facts.items()
    }


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


def _columns(inputs: dict[str, Any], result: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """(column id, label) per table: N-1 and N everywhere; E1-6 adds base year, restatement, change, YTD, targets."""
    windows = inputs["windows"]
    is_quarter = "YTD" in windows
    cols = [("N-1", windows["N-1"]["title"] + " (N-1)"), ("N", windows["N"]["title"] + " (N)")]
    e16_cols = [("base", f"Base year {inputs.get('base_year', {}).get('year') or '—'} (annual)"), *cols]
    if inputs.get("restated_from"):
        e16_cols.insert(2, ("previous", "N as previously stated"))
    e16_cols.append(("change", "% N / N-1"))
    if is_quarter:
        e16_cols.append(("YTD", windows["YTD"]["title"]))
    e16_cols += [(f"target{y}", f"Target {y}") for y in result["target_years"]]
    if result["target_years"]:
        e16_cols.append(("annual", "Annual % target / base year"))
    e15_cols = [*cols, ("YTD", windows["YTD"]["title"])] if is_quarter else list(cols)
    return {"e1_5": e15_cols, "e1_6": e16_cols, "intensity": [*cols, ("change", "% N / N-1")], "revenue": cols}


def _row_cells(dp: Datapoint, columns: list[tuple[str, str]], inputs: dict[str, Any], result: dict[str, Any]) -> dict:
    facts, restated = result["facts"], inputs.get("restated_from")
    cells: dict[str, dict[str, Any]] = {}
    for col, _ in columns:
        if col == "change":
            # A change of a percentage is not a percentage of anything: left empty.
            current, previous = _cell(facts, dp.fact_id("N"))["value"], _cell(facts, dp.fact_id("N-1"))["value"]
            value = _change(current, previous) if dp.unit != "percent" else None
            cells[col] = {"value": value, "fact": None, "unit": "percent"}
        elif col == "previous":
            cells[col] = {"value": (restated or {}).get("facts", {}).get(dp.fact_id("N")), "fact": None}
        elif col == "annual":
            values = [
                t["annual_percent"]
                for k, t in result["targets"].items()
                if k.split("|")[0] == dp.row and t["annual_percent"] is not None
            ]
            cells[col] = {"value": values[-1] if values else None, "fact": None, "unit": "percent"}
        else:
            cells[col] = _cell(facts, dp.fact_id(col))
    return cells


def _row_shown(dp: Datapoint, inputs: dict[str, Any], result: dict[str, Any]) -> bool:
    """A table row is printed unless its datapoint is for high-impact sectors only, or (other Scope 3) zero in N.
    Revenue rows are always printed, empty without revenue."""
    if dp.when == "high_impact":
        return bool(inputs["organisation"].get("high_impact"))
    if dp.when == "nonzero":
        return bool(_source(dp, result["figures"]["N"]))
    return True


def build_tables(inputs: dict[str, Any], result: dict[str, Any]) -> list[dict[str, Any]]:
    """The E1-5, E1-6, intensity and revenue tables as rows of cells referencing facts (shared by PDF and exports):
    one row per datapoint of the table, in datapoints.json order."""
    columns = _columns(inputs, result)
    screening = {s["category"]: s for s in inputs.get("screening", [])}
    currency = inputs["organisation"].get("currency") or "EUR"
    tables = []
    for table in DATAPOINTS.tables:
        rows = [
            {
                "id": dp.row,
                "label": dp.label,
                "level": dp.level,
                "unit": dp.display_unit,
                "cells": _row_cells(dp, columns[table.id], inputs, result),
                "total": dp.total,
                "excluded": dp.category in screening and not screening[dp.category]["included"],
                "ref": dp.ref,
            }
            for dp in DATAPOINTS.rows(table.id)
            if _row_shown(dp, inputs, result)
        ]
        tables.append(
            {"id": table.id, "title": table.title_for(currency), "columns": _cols(columns[table.id]), "rows": rows}
        )
    return tables


def row_ref(table: str, row_id: str) -> str:
    """A short, stable reference per table row, printed in the PDF and repeated in every export."""
    return _REFS[(table, row_id)]


def _cols(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"id": c, "label": label} for c, label in pairs]
