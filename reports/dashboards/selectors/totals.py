"""The one totals route: location- and market-based totals for an organisation and a dashboard filter.

Used by the summary API (project and organisation), `manage.py footprint`, the overview (KPI cards and every
breakdown with a market-based column) and the project and records pages, so they all agree with the ESRS
report for the same period:

- location-based (and energy, water, runs) come from the rollups (`reports.dashboards.selectors.rollups.rollup_group`);
- market-based Scope 2 comes from the shared method (greenesg/footprint/methodology/market.py), the one the
  report uses: per (month, market) cell of the whole organisation, instruments, then residual mix, then grid
  average (docs/methodology.md §7.2);
- market-based Scope 1 and 3 (cloud included) equal their location-based figures, as in the report
  (docs/methodology.md §7.3).

Attribution to a part of the organisation (some projects, a provider, a day range inside a month): the cell is
computed for the whole organisation first, and a part gets the instrument and residual-mix kg pro rata to its
share of the cell's kWh, plus the grid-average share of its own ledger figure (`market.cell_part`). Instruments
therefore cover every project's consumption in their market and month in the same proportion, and the parts
(projects + the unallocated bucket, or the days of a month) add up to the organisation's figure exactly.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from greenesg.footprint.methodology import market as market_method
from greenesg.lib.periods import month_end, month_start
from reports import market_inputs
from reports.dashboards import aggregation
from reports.dashboards.cache import dashboard_cached
from reports.dashboards.filters import DashboardFilter

if TYPE_CHECKING:
    import pandas as pd
    from django.db.models import QuerySet

    from greenesg.footprint.models import LedgerEntry
    from reports.dashboards.selectors.rollups import ProjectScope

Cells = dict[tuple[dt.date, str], dict[str, Any]]
# Ledger columns a market-based part can be grouped by (the rollup's dimensions, except the rollup-only flag).
LEDGER_DIMS = {"project_id", "source", "provider", "region", "service", "scope", "category", "method"}


def _cell_range(flt: DashboardFilter, instruments: list[dict[str, Any]]) -> tuple[dt.date | None, dt.date | None]:
    """Whole months of the filter, widened to the instruments' consumption periods: an instrument's share of
    a month depends on the consumption of every month of its period."""
    first = month_start(flt.start) if flt.start else None
    last = month_end(flt.end) if flt.end else None
    if instruments and first is not None:
        first = min(first, *(dt.date.fromisoformat(i["consumption_start"]) for i in instruments))
    if instruments and last is not None:
        last = max(last, *(dt.date.fromisoformat(i["consumption_end"]) for i in instruments))
    return first, last


def market_cells_for(*, organisation_id: int, flt: DashboardFilter) -> Cells:
    """Market-based Scope 2 per (month, market) of the whole organisation, cached until the next change."""

    def compute() -> Cells:
        instruments = market_inputs.instrument_dicts(organisation_id=organisation_id)
        residual = market_inputs.residual_mix_dicts(organisation_id=organisation_id)
        first, last = _cell_range(flt, instruments)
        rows = market_inputs.scope2_sums(
            market_inputs.scope2_ledger(organisation_id=organisation_id, first=first, last=last), []
        )
        return market_method.market_cells(market_method.scope2_cells(rows), instruments, residual)

    key = f"market-cells:{flt.start}:{flt.end}"
    return dashboard_cached(organisation_id, key, compute)


def _key(dims: list[str], values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A grouping key comparable between rollup frames (pandas values) and ledger rows (Python values)."""
    out: list[Any] = []
    for dim, value in zip(dims, values, strict=True):
        if dim == "project_id":
            out.append(aggregation._as_id(value))
        elif dim == "month":
            out.append(value.date() if isinstance(value, dt.datetime) else value)
        elif dim == "scope":
            out.append(int(value))
        else:
            out.append("" if value is None else str(value))
    return tuple(out)


def _scope2_rows(*, organisation_id: int, scope: ProjectScope, flt: DashboardFilter) -> list[dict[str, Any]]:
    """The filter's Scope 2 ledger sums by every dimension, month and market: one ledger read per filter and
    reader, from which each breakdown of a page is grouped (the overview asks for about eight)."""
    from reports.dashboards.selectors.footprint import dimension_filtered

    def compute() -> list[dict[str, Any]]:
        rows = market_inputs.scope2_ledger(organisation_id=organisation_id, first=flt.start, last=flt.end)
        return market_inputs.scope2_sums(dimension_filtered(rows, flt), sorted(LEDGER_DIMS), where=scope.q())

    return dashboard_cached(organisation_id, f"scope2-rows:{scope.key}:{flt.cache_part}", compute)


def scope2_market_parts(
    *, organisation_id: int, scope: ProjectScope, flt: DashboardFilter, dims: list[str]
) -> dict[tuple[Any, ...], float]:
    """Market-based Scope 2 kg of the filter's rows, grouped by `dims` (rollup dimensions and "month")."""
    parts: dict[tuple[Any, ...], float] = defaultdict(float)
    for key, kg in _scope2_row_parts(organisation_id=organisation_id, scope=scope, flt=flt):
        parts[tuple(key[d] for d in dims)] += kg
    return parts


RowParts = list[tuple[dict[str, Any], float]]
_shared_row_parts: ContextVar[dict[tuple[Any, ...], RowParts] | None] = ContextVar("shared_row_parts", default=None)


@contextmanager
def scope2_rows_shared() -> Iterator[None]:
    """Inside this block, the Scope 2 rows of a reader scope and filter are read and shared out once, however
    many breakdowns ask for them (the overview asks about eight). Scoped to the block, not the process: nothing
    outlives the computation it serves, so no figure can come from before an import or a cache flush."""
    token = _shared_row_parts.set({})
    try:
        yield
    finally:
        _shared_row_parts.reset(token)


def _scope2_row_parts(*, organisation_id: int, scope: ProjectScope, flt: DashboardFilter) -> RowParts:
    """Each Scope 2 row of the filter as (its grouping values, its market-based kg), in the rows' order.

    Each grouping used to re-read the rows from the cache (unpickled every time), re-normalise every value and
    re-share every row's cell: on an organisation with tens of thousands of grouped rows, seconds of each cold
    overview. Inside `scope2_rows_shared` this runs once per scope and filter; the sums then run in the same
    order over the same per-row kg as before, so every figure is the same to the last bit.
    """
    shared = _shared_row_parts.get()
    memo = (organisation_id, scope.key, flt.cache_part)
    if shared is not None and memo in shared:
        return shared[memo]
    cells = market_cells_for(organisation_id=organisation_id, flt=flt)
    names = [*sorted(LEDGER_DIMS), "month"]
    out: RowParts = []
    for row in _scope2_rows(organisation_id=organisation_id, scope=scope, flt=flt):
        cell = cells.get((row["month"], row["country"].upper()))
        kg = (
            market_method.cell_part(cell, kwh=row["energy_kwh"], kg_market=row["kg_market"])
            if cell is not None
            else row["kg_market"]  # not reachable: the cells cover every month of the filter
        )
        out.append((dict(zip(names, _key(names, tuple(row[d] for d in names)), strict=True)), kg))
    if shared is not None:
        shared[memo] = out
    return out


def market_apply(
    frame: pd.DataFrame, *, organisation_id: int, scope: ProjectScope, flt: DashboardFilter, dims: list[str]
) -> pd.DataFrame:
    """Replace the rollup's market-based kg of a frame grouped by `dims` (which include "scope")."""
    if frame.empty:
        return frame
    if not (frame["scope"] == 2).any():
        # No Scope 2 in the rollups for this filter: no ledger read (it would scan the period for nothing).
        return frame.assign(kgco2e_market=frame["kgco2e_location"].astype("float64"))
    parts = scope2_market_parts(organisation_id=organisation_id, scope=scope, flt=flt, dims=dims)
    market = []
    for values, location, is_scope2 in zip(
        zip(*(frame[d] for d in dims), strict=True), frame["kgco2e_location"], frame["scope"] == 2, strict=True
    ):
        market.append(parts.get(_key(dims, values), 0.0) if is_scope2 else float(location))
    return frame.assign(kgco2e_market=market)


def footprint_totals(*, organisation_id: int, scope: ProjectScope, flt: DashboardFilter) -> dict[str, Any]:
    """Totals and `by_scope` (the summary object's figures) for a reader's scope and a filter."""
    from reports.dashboards.selectors.rollups import rollup_group

    def compute() -> dict[str, Any]:
        frame = rollup_group(
            organisation_id=organisation_id, scope=scope, flt=flt, dims=["source", "scope", "category"]
        )
        totals = aggregation.rollup_totals(frame)
        keys = [aggregation.scope_key(s, c) for s, c in zip(frame["scope"], frame["category"], strict=True)]
        return {
            **{metric: totals[metric] for metric in aggregation.METRICS},
            "by_scope": aggregation.by_scope_dict(frame.assign(scope_key=keys)),
        }

    return dashboard_cached(organisation_id, f"totals-route:{scope.key}:{flt.cache_part}", compute)


def regroup(frame: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """Sum a merged rollup frame over the dimensions not in `dims` (keeps `runs` and `records`)."""
    import pandas as pd

    columns = [c for c in ("records", "runs", *aggregation.SUM_COLUMNS.values()) if c in frame]
    if frame.empty:
        return frame[[*dims, *columns]]
    grouped = frame.groupby(dims, as_index=False, dropna=False)[columns].sum()
    if "project_id" in grouped:
        ids = [aggregation._as_id(v) for v in grouped["project_id"]]
        grouped["project_id"] = pd.Series(ids, dtype="object", index=grouped.index)
    return grouped


def experiment_market(*, runs: QuerySet[LedgerEntry], organisation_id: int, flt: DashboardFilter) -> dict[str, float]:
    """Market-based kg per experiment of a project's runs (the experiments table and experiment pages).

    Inventory runs follow the totals route (Scope 2 by the report's method, Scope 1 and 3 at location); runs
    another source already counts are outside the inventory and its cells, so they keep the ledger's figure.
    """
    from django.db.models import Sum
    from django.db.models.functions import Coalesce

    out: dict[str, float] = defaultdict(float)
    scope2_rows = market_inputs.scope2_sums(runs.filter(in_inventory=True, scope=2), ["experiment"])
    # The cells read the whole organisation's Scope 2 ledger rows of the period (1.4 s at 10M ledger rows, once per
    # import): only when these runs hold Scope 2 at all, as market_apply does for the rollups.
    cells = market_cells_for(organisation_id=organisation_id, flt=flt) if scope2_rows else {}
    for row in scope2_rows:
        cell = cells.get((row["month"], row["country"].upper()))
        kwh, kg_market = row["energy_kwh"], row["kg_market"]
        kg = kg_market if cell is None else market_method.cell_part(cell, kwh=kwh, kg_market=kg_market)
        out[row["experiment"]] += kg
    others = (
        runs.exclude(in_inventory=True, scope=2)
        .values("experiment", "in_inventory")
        .annotate(loc=Sum(Coalesce("kgco2e_location", 0.0)), mkt=Sum(Coalesce("kgco2e_market", 0.0)))
        .order_by()
    )
    for other in others:
        out[other["experiment"]] += float(other["loc"] if other["in_inventory"] else other["mkt"])
    return dict(out)
