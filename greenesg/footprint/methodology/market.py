"""Market-based Scope 2 (docs/methodology.md §7.2): pure, no Django, no ORM.

One implementation for every figure GreenESG shows: the ESRS report (`reports.esrs.facts`) and the
dashboards, summary API and `footprint` command (`reports.dashboards.selectors.totals`) call it with the same
inputs, so the same period gives the same market-based figure everywhere.

Inputs are plain dicts, as in the report's JSON snapshot:
- Scope 2 ledger rows: `month` (ISO date or date), `scope`, `country`, `energy_kwh`, `kg_location`,
  `kg_market` (the ledger's own market figure, i.e. the grid average).
- instruments: `id`, `type`, `mwh`, `market`, `consumption_start`, `consumption_end`, `rate` (g/kWh).
- residual mix: `zone`, `year`, `g_per_kwh`, `nuclear_share` (percent or None), `version`.

Per (month, market) cell: instruments first (spread over their consumption months pro rata to the cell's
consumption), the residual mix for the unclaimed kWh, else the grid average (ledger figure) with a flag.
A part of a cell (one project, one day range, one provider …) gets its share by `cell_part`, so the parts
of a cell always add up to the cell (docs/methodology.md §7.3: Scope 1 and 3 have no market treatment).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from greenesg.lib.periods import days_in_month, month_end, month_start, month_starts

MB_BASIS_INSTRUMENT = "instrument"
MB_BASIS_RESIDUAL = "residual_mix"
MB_BASIS_GRID = "grid_average_fallback"

Cell = tuple[dt.date, str]


def month_of(day: str | dt.date) -> dt.date:
    value = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return month_start(value)


months_between = month_starts  # first days of the months start..end touches (facts and render use this name)


def overlap_fraction(month: dt.date, start: dt.date, end: dt.date) -> float:
    """Share of a month's days that fall inside [start, end] (inclusive)."""
    days = days_in_month(month.year, month.month)
    last = month_end(month)
    first, final = max(month, start), min(last, end)
    return max(0, (final - first).days + 1) / days


def scope2_cells(ledger: Iterable[dict[str, Any]]) -> dict[Cell, dict[str, float]]:
    """Scope 2 kWh, location and ledger-market kg summed per (month, market); other scopes are skipped."""
    cells: dict[Cell, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in ledger:
        if int(row["scope"]) != 2:
            continue
        cell = cells[(month_of(row["month"]), (row.get("country") or "").upper())]
        cell["kwh"] += float(row.get("energy_kwh") or 0.0)
        cell["kg_location"] += float(row.get("kg_location") or 0.0)
        cell["kg_market"] += float(row.get("kg_market") or 0.0)
    return cells


def allocate_instruments(
    instruments: list[dict[str, Any]], cells: dict[Cell, dict[str, float]]
) -> tuple[dict[Cell, list[tuple[float, float, int]]], list[str]]:
    """Spread each instrument's MWh over its consumption months, pro rata to consumption in its market.

    Returns per (month, market) a list of (kWh, g/kWh, instrument id), and notes for unusable instruments.
    """
    allocations: dict[Cell, list[tuple[float, float, int]]] = defaultdict(list)
    notes = []
    for item in instruments:
        start, end = dt.date.fromisoformat(item["consumption_start"]), dt.date.fromisoformat(item["consumption_end"])
        market = (item.get("market") or "").upper()
        weights = {}
        for month in months_between(start, end):
            kwh = cells.get((month, market), {}).get("kwh", 0.0)
            weights[month] = kwh * overlap_fraction(month, start, end)
        total = sum(weights.values())
        if total <= 0:
            notes.append(f"Instrument #{item['id']} ({item['type']}, {market}) matched no consumption in its period.")
            continue
        kwh_available = float(item["mwh"]) * 1000.0
        for month, weight in weights.items():
            if weight > 0:
                allocations[(month, market)].append((kwh_available * weight / total, float(item["rate"]), item["id"]))
    return allocations, notes


def residual_for(residual: list[dict[str, Any]], zone: str, year: int) -> dict[str, Any] | None:
    """The residual mix of the zone for the year, or the latest earlier one (published with a lag)."""
    candidates = [r for r in residual if (r.get("zone") or "").upper() == zone and int(r["year"]) <= year]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (int(r["year"]), str(r.get("version", ""))))


def _cell_market(
    cell: dict[str, float], allocated: list[tuple[float, float, int]], mix: dict[str, Any] | None
) -> dict[str, Any]:
    kwh = cell["kwh"]
    claimed = sum(a[0] for a in allocated)
    # Claims beyond the cell's consumption are cut back to it; unused volume never moves elsewhere.
    scale = min(1.0, kwh / claimed) if claimed > 0 else 0.0
    covered = claimed * scale
    kg_instrument = sum(a[0] * scale * a[1] for a in allocated) / 1000.0
    uncovered = max(0.0, kwh - covered)
    grid_share = 0.0
    if uncovered <= 0:
        kg_rest, basis = 0.0, MB_BASIS_INSTRUMENT
    elif mix is not None:
        kg_rest, basis = uncovered * float(mix["g_per_kwh"]) / 1000.0, MB_BASIS_RESIDUAL
    else:
        # No residual mix for the market: the ledger's market figure (grid average) for the unclaimed share.
        grid_share = uncovered / kwh if kwh > 0 else 1.0
        kg_rest, basis = cell["kg_market"] * grid_share, MB_BASIS_GRID
    nuclear_share = float(mix.get("nuclear_share") or 0.0) / 100.0 if mix else 0.0
    return {
        "kwh": kwh,
        "kg_location": cell["kg_location"],
        "kg_market": kg_instrument + kg_rest,
        "covered_kwh": covered,
        "uncovered_kwh": uncovered,
        "renewable_kwh": covered,
        "nuclear_kwh": uncovered * nuclear_share,
        "fossil_kwh": uncovered * (1.0 - nuclear_share),
        "basis": basis,
        "residual": mix,
        # For `cell_part`: the kg that follow kWh (instruments, residual mix) and the grid share of the ledger kg.
        "kg_by_kwh": kg_instrument + (0.0 if basis == MB_BASIS_GRID else kg_rest),
        "grid_share": grid_share,
    }


def market_cells(
    cells: dict[Cell, dict[str, float]], instruments: list[dict[str, Any]], residual: list[dict[str, Any]]
) -> dict[Cell, dict[str, Any]]:
    """Market-based Scope 2 and the E1-5 electricity split per (month, market)."""
    allocations, _ = allocate_instruments(instruments, cells)
    result = {}
    for key, cell in cells.items():
        month, market = key
        result[key] = _cell_market(cell, allocations.get(key, []), residual_for(residual, market, month.year))
    return result


def cell_part(cell: dict[str, Any], *, kwh: float, kg_market: float) -> float:
    """Market-based kg of a part of a (month, market) cell with `kwh` and ledger market figure `kg_market`.

    Instrument and residual-mix kg are shared pro rata to the part's kWh (an instrument covers the market's
    consumption of the month, not one project's); the grid-average share applies to the part's own ledger
    figure. Summed over the parts of a cell, this gives the cell's `kg_market` exactly.
    """
    if cell["kwh"] <= 0:
        return 0.0  # a cell without kWh has nothing to claim or cover: its market figure is 0 (see _cell_market)
    return cell["kg_by_kwh"] * kwh / cell["kwh"] + kg_market * cell["grid_share"]
