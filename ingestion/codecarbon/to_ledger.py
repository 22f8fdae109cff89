"""codecarbon records → a ledger frame: period in UTC, methodology per distinct location, lineage.

The estimate is linear in energy, so the methodology runs once per distinct (location, PUE, year)
combination and the per-run arithmetic is vectorised: a 100,000-run file costs a few dozen
methodology calls and no Python loop over runs except for the small flags column.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from greenesg.footprint.ledger import LEDGER_COLUMNS, codecarbon_run_key, ledger_columns_check
from greenesg.footprint.methodology.codecarbon import FactorChoice, RunEstimate, estimate_run
from greenesg.footprint.vocabulary import RUN_MEASUREMENTS, Source

# What codecarbon says about the machine (engineer views, audit): identical on every run of a machine, so stored once
# per distinct description in a MachineProfile. `source_timezone` and `codecarbon_pue` are added to it.
_MACHINE_COLUMNS = [
    "codecarbon_version",
    "schema",
    "cpu_model",
    "gpu_model",
    "cpu_count",
    "gpu_count",
    "ram_total_size_gb",
    "tracking_mode",
    "os",
    "python_version",
    "country_name",
]
# Text of the run itself, kept in the row's JSON attributes (the model-tag search reads project_name there).
_OWN_COLUMNS = ["project_name", "task_name"]
_LOCATION = ["on_cloud", "cloud_provider", "cloud_region", "country_iso", "region", "year", "pue"]


@dataclass(frozen=True)
class ProjectContext:
    organisation_id: int
    project_id: int
    host_timezone: str
    infrastructure: str
    site_pue: float | None


def host_zone(name: str) -> tuple[ZoneInfo, bool]:
    """The hosts' zone and whether it was assumed (docs/methodology.md §2.4: flag timezone_assumed)."""
    if name:
        try:
            return ZoneInfo(name), False
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC"), True


def _unit_estimates(frame: Any, ctx: ProjectContext, lookup: Callable[[str], list[FactorChoice]]) -> Any:
    """One methodology call per distinct location, for 1 kWh of codecarbon energy."""
    import pandas as pd

    combos = frame[_LOCATION].drop_duplicates().reset_index(drop=True)
    estimates: list[RunEstimate] = [
        estimate_run(
            energy_consumed_kwh=1.0,
            codecarbon_pue=float(c.pue),
            water_l=0.0,
            codecarbon_emissions_kg=None,
            on_cloud=bool(c.on_cloud),
            infrastructure=ctx.infrastructure,
            cloud_provider=c.cloud_provider,
            cloud_region=c.cloud_region,
            country_iso=c.country_iso,
            region=c.region,
            site_pue=ctx.site_pue,
            year=int(c.year),
            lookup=lookup,
        )
        for c in combos.itertuples(index=False)
    ]
    units = pd.DataFrame(
        {
            "u_it": [e.energy_it_kwh for e in estimates],
            "u_facility": [e.energy_facility_kwh for e in estimates],
            "u_location": [e.kgco2e_location for e in estimates],
            "u_market": [e.kgco2e_market for e in estimates],
            "scope": [e.scope for e in estimates],
            "category": [e.category for e in estimates],
            "method": [e.method for e in estimates],
            "pue_applied": [e.pue_applied for e in estimates],
            "factor_id": [e.factor.factor_id if e.factor else None for e in estimates],
            "factor_g_per_kwh": [e.factor.g_co2e_per_kwh if e.factor else None for e in estimates],
            "factor_version": [e.factor.version_label if e.factor else "" for e in estimates],
            "market_basis": [e.market_basis for e in estimates],
            "unit_flags": [tuple(e.flags) for e in estimates],
        }
    )
    return pd.concat([combos, units], axis=1)


def _flags_column(frame: Any, implied: Any, assumed_tz: bool) -> list[str]:
    """JSON list of flags per row; memoised because few distinct combinations occur."""
    memo: dict[tuple[Any, ...], str] = {}
    out: list[str] = []
    columns = zip(
        frame["unit_flags"],
        frame["run_id_missing"],
        implied.notna() & ((implied < 0) | (implied > 1200)),
        frame["duration_s"] < 1.0,
        strict=True,
    )
    for key in columns:
        text = memo.get(key)
        if text is None:
            unit_flags, missing, out_of_range, short = key
            flags = set(unit_flags)
            flags.update(
                name
                for name, on in (
                    ("run_id_missing", missing),
                    ("implied_factor_out_of_range", out_of_range),
                    ("short_duration", short),
                    ("timezone_assumed", assumed_tz),
                )
                if on
            )
            text = memo[key] = json.dumps(sorted(flags))
        out.append(text)
    return out


def _json_objects(values: dict[str, Any], index: Any) -> Any:
    """One JSON object per row, built column-wise in Arrow, keys in the given order: numbers at full precision (the
    shortest text that reads back as the same double, where pandas' writer rounds to 15 digits), text encoded once
    per distinct value."""
    import pandas as pd
    import pyarrow.compute as pc

    parts: list[Any] = []
    for position, (key, series) in enumerate(values.items()):
        parts.append(("{" if position == 0 else ",") + json.dumps(key) + ":")
        parts.append(_json_values(series))
    parts.append("}")
    joined = pc.binary_join_element_wise(*parts, "")
    return pd.Series(pd.arrays.ArrowStringArray(joined), index=index)


def machine_descriptions(records: Any, host_timezone: str) -> Any:
    """Per record (in the order of `ledger_frame_from_records`' rows), its machine's description as JSON text, keys
    in one fixed order: the same machine gives the same text, which names its MachineProfile."""
    import pandas as pd

    frame = records.reset_index(drop=True)
    zone, _ = host_zone(host_timezone)
    values = {c: frame[c] for c in _MACHINE_COLUMNS if c in frame.columns}
    # The zone the file's local timestamps were read in: records show the source time in it beside UTC.
    values["source_timezone"] = pd.Series(zone.key, index=frame.index)
    values["codecarbon_pue"] = frame["pue"]
    return _json_objects(values, frame.index)


def _json_values(series: Any) -> Any:
    """A column as JSON value texts (an Arrow string array); missing values are null."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        text = pc.cast(pa.array(series.astype("float64"), from_pandas=True), pa.string())
        # Whole numbers keep their ".0" (16.0, not 16), as the JSON readers of these attributes always saw them.
        whole = pc.match_substring_regex(text, r"^-?[0-9]+$")
        text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
        return pc.fill_null(text, "null")
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    encoded = pa.array([json.dumps(str(u)) for u in uniques] + ["null"], type=pa.string())
    return encoded.take(pa.array(codes).cast(pa.int64()).to_numpy() % (len(uniques) + 1))


def _measurement(frame: Any, name: str) -> Any:
    # Older codecarbon versions lack some columns (utilisation came in 2.x): null, not zero.
    return frame[name].astype("float64") if name in frame.columns else None


def ledger_frame_from_records(
    records: Any, *, ctx: ProjectContext, job_id: str, lookup: Callable[[str], list[FactorChoice]]
) -> Any:
    """Normalised codecarbon records (one per run or task) → a frame of LedgerRow columns (checked)."""
    import pandas as pd

    if records.empty:
        return pd.DataFrame(columns=list(LEDGER_COLUMNS))
    zone, assumed = host_zone(ctx.host_timezone)
    frame = records.reset_index(drop=True)
    # In the repeated hour of a DST change the earlier (summer-time) reading is taken.
    end = frame["timestamp_local"].dt.tz_localize(zone, ambiguous=[True] * len(frame), nonexistent="shift_forward")
    frame["period_end"] = end.dt.tz_convert("UTC")
    # Microseconds are the database's precision; rounding keeps the stored window exact.
    frame["period_start"] = (frame["period_end"] - pd.to_timedelta(frame["duration_s"], unit="s")).dt.round("us")
    frame["year"] = frame["period_end"].dt.year
    frame = frame.merge(_unit_estimates(frame, ctx, lookup), on=_LOCATION, how="left", validate="many_to_one")
    energy = frame["energy_consumed_kwh"]
    implied = (frame["emissions_kg"] / energy * 1000.0).where(energy > 0)
    is_task = frame["kind"] == "task"
    prefix = codecarbon_run_key(ctx.project_id)
    task_key = (
        f"cc:task:{ctx.project_id}:"
        + frame["run_key"]
        + ":"
        + frame["task_name"]
        + ":"
        + frame["timestamp_local"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    )
    out = pd.DataFrame(
        {
            "organisation_id": ctx.organisation_id,
            "project_id": ctx.project_id,
            "natural_key": task_key.where(is_task, prefix + frame["run_key"]),
            "source": is_task.map({True: Source.CODECARBON_TASK, False: Source.CODECARBON}),
            "period_start": frame["period_start"],
            "period_end": frame["period_end"],
            "day": frame["period_end"].dt.date,
            "experiment": frame["experiment_id"],
            "run_id": frame["run_key"],
            "provider": frame["cloud_provider"],
            "region": frame["cloud_region"].where(frame["cloud_region"] != "", frame["region"]),
            "country_iso": frame["country_iso"],
            "service": "codecarbon",
            "resource_category": "compute",
            "usage_amount": frame["duration_s"] / 3600.0,
            "usage_unit": "hours",
            "duration_s": frame["duration_s"],
            "energy_it_kwh": frame["u_it"] * energy,
            "energy_facility_kwh": frame["u_facility"] * energy,
            "kgco2e_location": frame["u_location"].astype(float) * energy,
            "kgco2e_market": frame["u_market"].astype(float) * energy,
            "kgco2e_embodied": 0.0,
            "water_l": frame["water_l"].fillna(0.0),
            "cost": None,
            "currency": "",
            "scope": frame["scope"],
            "category": frame["category"],
            "method": frame["method"],
            "pue_applied": frame["pue_applied"],
            "factor_id": frame["factor_id"].astype("Int64"),
            "factor_g_per_kwh": frame["factor_g_per_kwh"],
            "factor_version": frame["factor_version"],
            "market_factor_g_per_kwh": frame["factor_g_per_kwh"],
            "market_basis": frame["market_basis"],
            "flags": _flags_column(frame, implied, assumed),
            "in_inventory": True,
            "import_job_id": job_id,
            "source_row": frame["line"].astype("int64"),
            "attributes": _json_objects({c: frame[c] for c in _OWN_COLUMNS if c in frame.columns}, frame.index),
            # Filled by the importer from `machine_descriptions` (it needs the database).
            "machine_id": None,
            **{name: _measurement(frame, name) for name in RUN_MEASUREMENTS},
            "source_energy_kwh": energy,
            "source_kgco2e": frame["emissions_kg"],
        }
    )
    return ledger_columns_check(out)
