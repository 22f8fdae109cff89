"""Pure pandas aggregation for dashboards and summaries: DataFrame in, DataFrame (or dict) out, no ORM.

The input is the footprint frame that `reports.dashboards.selectors.footprint.footprint_frame` reads from the
daily rollup: one row per (project_id, month, source, scope, category) with the summed columns in `SUM_COLUMNS`.
Figures keep full precision here; templates and charts round only when presenting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from greenesg.footprint.vocabulary import Method, Source
from greenesg.lib.periods import QUARTER, Period

if TYPE_CHECKING:
    import pandas as pd

# Rollup columns, renamed to the public names of the summary API.
SUM_COLUMNS: dict[str, str] = {
    "energy_it_kwh": "energy_kwh_it",
    "energy_facility_kwh": "energy_kwh_facility",
    "kgco2e_location": "kgco2e_location",
    "kgco2e_market": "kgco2e_market",
    "water_l": "water_l",
}
METRICS: tuple[str, ...] = ("runs", *SUM_COLUMNS.values())
FRAME_COLUMNS: tuple[str, ...] = ("project_id", "month", "source", "scope", "category", "records", *SUM_COLUMNS)
NO_EXPERIMENT_LABEL = "(no experiment)"
UNALLOCATED_LABEL = "Unallocated"
# Only whole codecarbon runs count as runs; task rows and billing lines are records but not runs.
RUN_SOURCE = Source.CODECARBON
_SCOPE_LABELS = {
    "scope1": "Scope 1",
    "scope2": "Scope 2",
    "scope3": "Scope 3",
    # GHG Protocol Scope 3 category 1, sub-line 1.1 (ESRS E1 AR 51: cloud computing and data centres).
    "scope3.cat1.1": "Scope 3 cat. 1.1 (cloud)",
}


def scope_key(scope: int, category: str) -> str:
    """The key used, e.g. "scope2" or "scope3.cat1.1", in `by_scope` of the summary API and in chart legends."""
    return f"scope{int(scope)}" + (f".cat{category}" if category else "")


def scope_label(key: str) -> str:
    if key in _SCOPE_LABELS:
        return _SCOPE_LABELS[key]
    scope, _, category = key.partition(".cat")
    return f"Scope {scope.removeprefix('scope')}" + (f" cat. {category}" if category else "")


def _scope_sort(key: str) -> tuple[int, str]:
    scope, _, category = key.partition(".cat")
    return int(scope.removeprefix("scope") or 0), category


def empty_footprint_frame() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({column: [] for column in FRAME_COLUMNS})


def footprint_prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the public metric names, `runs` and `scope_key` to a raw footprint frame."""
    frame = frame.rename(columns=SUM_COLUMNS)
    is_run = frame["source"] == RUN_SOURCE
    frame = frame.assign(
        runs=frame["records"].where(is_run, 0).astype("int64"),
        scope_key=[scope_key(s, c) for s, c in zip(frame["scope"], frame["category"], strict=True)],
    )
    for column in SUM_COLUMNS.values():
        frame[column] = frame[column].astype("float64").fillna(0.0)
    return frame


def totals(frame: pd.DataFrame) -> dict[str, Any]:
    """Sum of every metric: `runs` as an int, the rest as floats (0.0 on an empty frame)."""
    result: dict[str, Any] = {"runs": int(frame["runs"].sum())}
    for column in SUM_COLUMNS.values():
        result[column] = float(frame[column].sum())
    return result


def _grouped(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    if frame.empty:
        import pandas as pd

        return pd.DataFrame({column: [] for column in (*by, *METRICS)})
    return frame.groupby(by, as_index=False, dropna=False)[list(METRICS)].sum()


def by_scope(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per scope key, in scope order (1, 2, 3 cat. 1.1, …)."""
    grouped = _grouped(frame, ["scope_key"])
    order = sorted(grouped["scope_key"], key=_scope_sort)
    grouped = grouped.set_index("scope_key").loc[order].reset_index()
    return grouped.assign(label=[scope_label(k) for k in grouped["scope_key"]])


def by_scope_dict(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """`by_scope` of the summary: {"scope2": {"runs": …, "energy_kwh_it": …, …}, …}."""
    rows = by_scope(frame)
    result: dict[str, dict[str, Any]] = {}
    for row in rows.itertuples(index=False):
        values = {metric: float(getattr(row, metric)) for metric in METRICS}
        values["runs"] = int(values["runs"])
        result[str(row.scope_key)] = values
    return result


def by_project(frame: pd.DataFrame, names: Mapping[int | None, str]) -> pd.DataFrame:
    """One row per project (None = the unallocated bucket), largest location-based emissions first."""
    import pandas as pd

    work = frame.assign(project_id=frame["project_id"].astype("object").where(frame["project_id"].notna(), None))
    grouped = _grouped(work, ["project_id"])
    grouped["project"] = [names.get(_as_id(pid), UNALLOCATED_LABEL) for pid in grouped["project_id"]]
    grouped["project_id"] = pd.Series([_as_id(pid) for pid in grouped["project_id"]], dtype="object")
    return grouped.sort_values(["kgco2e_location", "project"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def _as_id(value: Any) -> int | None:
    import pandas as pd

    return None if value is None or pd.isna(value) else int(value)


def by_month(frame: pd.DataFrame) -> pd.DataFrame:
    """Long frame: one row per (month, scope_key) with its label, months ascending, scopes in scope order."""
    grouped = _grouped(frame, ["month", "scope_key"])
    if grouped.empty:
        return grouped
    grouped["_order"] = [_scope_sort(k) for k in grouped["scope_key"]]
    grouped = grouped.sort_values(["month", "_order"]).drop(columns="_order").reset_index(drop=True)
    return grouped.assign(label=[scope_label(k) for k in grouped["scope_key"]])


def top_with_other(frame: pd.DataFrame, *, label_column: str, limit: int, other_label: str) -> pd.DataFrame:
    """Keep the first `limit` rows and fold the rest into one row, so a chart stays legible."""
    import pandas as pd

    if len(frame) <= limit:
        return frame
    head, tail = frame.iloc[:limit], frame.iloc[limit:]
    other: dict[str, Any] = {column: tail[column].sum() for column in METRICS}
    other[label_column] = other_label.format(count=len(tail))
    return pd.concat([head, pd.DataFrame([other])], ignore_index=True)


def experiment_label(experiment: str) -> str:
    return experiment or NO_EXPERIMENT_LABEL


def runs_series(frame: pd.DataFrame, *, limit: int = 7) -> pd.DataFrame:
    """Assign each run to a chart series: its experiment for the `limit` busiest ones, else "Other"."""
    if frame.empty:
        return frame.assign(series=[])
    counts = frame["experiment"].value_counts(sort=True)
    top = set(sorted(counts.index, key=lambda e: (-counts[e], e))[:limit])
    series = [experiment_label(e) if e in top else "Other experiments" for e in frame["experiment"]]
    return frame.assign(series=series)


# --- rollup groupings for the overview (issue 4) ------------------------------------------------------

ROLLUP_SUMS: tuple[str, ...] = ("records", *SUM_COLUMNS)
MEASURED = Method.MEASURED
NO_PROVIDER_LABEL = "(no cloud provider: own hardware)"
NO_REGION_LABEL = "(no region)"
NO_SERVICE_LABEL = "(not a billed service: codecarbon)"


def rollup_merge(frames: list[pd.DataFrame], dims: list[str]) -> pd.DataFrame:
    """Sum rollup parts (whole months and edge days) grouped by `dims`, with the public metric names.

    Missing project ids become None (the unallocated bucket), so equality with `None` keeps working.
    """
    import pandas as pd

    columns = [*dims, *ROLLUP_SUMS]
    parts = [frame for frame in frames if not frame.empty]
    if not parts:
        frame = pd.DataFrame({column: [] for column in columns})
    elif len(parts) == 1:
        frame = parts[0]
    else:
        frame = pd.concat(parts, ignore_index=True)
        # Without dimensions the parts fold into one row of totals (a frame, never a bare Series).
        frame = (
            frame.groupby(dims, as_index=False, dropna=False)[list(ROLLUP_SUMS)].sum()
            if dims
            else frame[list(ROLLUP_SUMS)].sum().to_frame().T
        )
    frame = frame.rename(columns=SUM_COLUMNS)
    for column in SUM_COLUMNS.values():
        frame[column] = frame[column].astype("float64").fillna(0.0)
    frame["records"] = frame["records"].fillna(0).astype("int64")
    if "project_id" in frame:
        frame["project_id"] = pd.Series([_as_id(v) for v in frame["project_id"]], dtype="object", index=frame.index)
    if "source" in frame:
        frame["runs"] = frame["records"].where(frame["source"] == RUN_SOURCE, 0).astype("int64")
    return frame


def rollup_totals(frame: pd.DataFrame) -> dict[str, Any]:
    """Totals of a merged rollup frame; `runs` needs the `source` dimension."""
    result: dict[str, Any] = {"records": int(frame["records"].sum()) if len(frame) else 0}
    result["runs"] = int(frame["runs"].sum()) if "runs" in frame and len(frame) else 0
    for column in SUM_COLUMNS.values():
        result[column] = float(frame[column].sum()) if len(frame) else 0.0
    return result


def change_ratio(current: float, previous: float) -> float | None:
    """Relative change (0.25 = +25 %); None when the previous period had nothing to compare with."""
    if not previous:
        return None
    return (current - previous) / previous


def method_shares(frame: pd.DataFrame) -> tuple[float | None, list[dict[str, Any]]]:
    """(share of location-based kgCO2e that was measured, one row per method with its share)."""
    total = float(frame["kgco2e_location"].sum()) if len(frame) else 0.0
    grouped = frame.groupby("method", as_index=False)[["kgco2e_location"]].sum() if len(frame) else frame
    rows: list[dict[str, Any]] = (
        [
            {"method": str(method), "kgco2e_location": float(kg)}  # grouped holds exactly these two columns
            for method, kg in grouped.sort_values("kgco2e_location", ascending=False).itertuples(index=False, name=None)
        ]
        if len(frame)
        else []
    )
    for row in rows:
        row["share"] = row["kgco2e_location"] / total if total else None
    measured = sum(row["kgco2e_location"] for row in rows if row["method"] == MEASURED)
    return (measured / total if total else None), rows


def trend(frame: pd.DataFrame, *, grain: str) -> pd.DataFrame:
    """Long frame (period, scope_key, label, metrics): months or calendar quarters, scopes in order.

    `period` is the first day of the month or quarter, so charts keep a date axis either way.
    """
    work = frame.assign(scope_key=[scope_key(s, c) for s, c in zip(frame["scope"], frame["category"], strict=True)])
    if grain == "quarter":
        work["month"] = [Period.containing(m, QUARTER).start for m in work["month"]]
    return by_month(work)
