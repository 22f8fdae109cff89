"""codecarbon records → ledger rows: period in UTC, methodology per distinct location, lineage.

The estimate is linear in energy, so the methodology runs once per distinct (location, PUE, year)
combination and the per-run arithmetic is vectorised; a 200,000-run file costs a few hundred
methodology calls, not 200,000.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from greenesg.footprint.methodology.codecarbon import FactorChoice, RunEstimate, estimate_run

LocationKey = tuple[bool, str, str, str, str, int, float]

# Columns kept per run for the engineer views (hardware, versions) and for audit (codecarbon's figure).
_ATTRIBUTE_COLUMNS = (
    "project_name", "codecarbon_version", "schema", "cpu_model", "gpu_model", "cpu_count", "gpu_count",
    "ram_total_size_gb", "tracking_mode", "os", "python_version", "country_name", "cloud_provider",
    "cloud_region", "cpu_energy_kwh", "gpu_energy_kwh", "ram_energy_kwh", "cpu_power_w", "gpu_power_w",
    "ram_power_w", "cpu_utilization_percent", "gpu_utilization_percent", "ram_utilization_percent",
    "emissions_rate_kg_s", "wue", "energy_consumed_kwh", "task_name",
)


@dataclass(frozen=True)
class ProjectContext:
    organisation_id: int
    project_id: int
    host_timezone: str
    infrastructure: str
    site_pue: float | None


def host_zone(name: str) -> tuple[ZoneInfo, bool]:
    """The hosts' zone and whether it was assumed (methodology §2.4: flag timezone_assumed)."""
    if name:
        try:
            return ZoneInfo(name), False
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC"), True


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar → plain Python for JSON
        return _clean(value.item())
    return value


def _natural_key(project_id: int, row: Any) -> str:
    if row.kind == "task":
        return f"cc:task:{project_id}:{row.run_key}:{row.task_name}:{row.timestamp_local.isoformat()}"
    return f"cc:run:{project_id}:{row.run_key}"


def _estimates_by_location(
    frame: Any, ctx: ProjectContext, lookup: Callable[[str], list[FactorChoice]]
) -> dict[LocationKey, RunEstimate]:
    keys = set(
        zip(
            frame["on_cloud"], frame["cloud_provider"], frame["cloud_region"], frame["country_iso"],
            frame["region"], frame["year"], frame["pue"], strict=True,
        )
    )
    estimates: dict[LocationKey, RunEstimate] = {}
    for key in keys:
        on_cloud, provider, cloud_region, country, region, year, pue = key
        estimates[key] = estimate_run(
            energy_consumed_kwh=1.0, codecarbon_pue=float(pue), water_l=0.0, codecarbon_emissions_kg=None,
            on_cloud=bool(on_cloud), infrastructure=ctx.infrastructure, cloud_provider=provider,
            cloud_region=cloud_region, country_iso=country, region=region, site_pue=ctx.site_pue,
            year=int(year), lookup=lookup,
        )
    return estimates


def ledger_rows_from_records(
    frame: Any, *, ctx: ProjectContext, job_id: str, lookup: Callable[[str], list[FactorChoice]]
) -> list[dict[str, Any]]:
    """Turn normalised codecarbon records (one per run or task) into ledger row dicts."""
    import pandas as pd

    if frame.empty:
        return []
    zone, assumed = host_zone(ctx.host_timezone)
    frame = frame.copy()
    # In the repeated hour of a DST change the earlier (summer-time) reading is taken.
    ambiguous = [True] * len(frame)
    end_local = frame["timestamp_local"].dt.tz_localize(zone, ambiguous=ambiguous, nonexistent="shift_forward")
    frame["period_end"] = end_local.dt.tz_convert("UTC")
    # Microseconds are the database's precision; rounding here keeps the stored window exact.
    frame["period_start"] = (frame["period_end"] - pd.to_timedelta(frame["duration_s"], unit="s")).dt.round("us")
    frame["year"] = frame["period_end"].dt.year
    estimates = _estimates_by_location(frame, ctx, lookup)
    base_flags = ["timezone_assumed"] if assumed else []
    rows = []
    for record in frame.itertuples(index=False):
        key = (record.on_cloud, record.cloud_provider, record.cloud_region, record.country_iso, record.region,
               record.year, record.pue)
        rows.append(_ledger_row(record, estimates[key], ctx, job_id, base_flags))
    return rows


def _ledger_row(record: Any, unit: RunEstimate, ctx: ProjectContext, job_id: str,
                base_flags: list[str]) -> dict[str, Any]:
    energy = float(record.energy_consumed_kwh)
    emissions = _clean(record.emissions_kg)
    implied = emissions / energy * 1000.0 if emissions is not None and energy > 0 else None
    flags = [*base_flags, *unit.flags]
    if record.run_id_missing:
        flags.append("run_id_missing")
    if implied is not None and not 0.0 <= implied <= 1200.0:
        flags.append("implied_factor_out_of_range")
    if record.duration_s < 1.0:
        flags.append("short_duration")
    factor = unit.factor
    attributes = {name: _clean(getattr(record, name)) for name in _ATTRIBUTE_COLUMNS if hasattr(record, name)}
    attributes.update(codecarbon_kg=emissions, implied_factor_g_per_kwh=implied, codecarbon_pue=float(record.pue))
    scale = energy  # the unit estimate was computed for 1 kWh of codecarbon energy
    return {
        "organisation_id": ctx.organisation_id,
        "project_id": ctx.project_id,
        "natural_key": _natural_key(ctx.project_id, record),
        "source": "codecarbon_task" if record.kind == "task" else "codecarbon",
        "period_start": record.period_start.to_pydatetime(),
        "period_end": record.period_end.to_pydatetime(),
        "day": record.period_end.date(),
        "experiment": record.experiment_id,
        "run_id": record.run_key,
        "provider": record.cloud_provider,
        "region": record.cloud_region or record.region,
        "country_iso": record.country_iso,
        "service": "codecarbon",
        "resource_category": "compute",
        "usage_amount": float(record.duration_s) / 3600.0,
        "usage_unit": "hours",
        "duration_s": float(record.duration_s),
        "energy_it_kwh": unit.energy_it_kwh * scale,
        "energy_facility_kwh": unit.energy_facility_kwh * scale,
        "kgco2e_location": None if unit.kgco2e_location is None else unit.kgco2e_location * scale,
        "kgco2e_market": None if unit.kgco2e_market is None else unit.kgco2e_market * scale,
        "kgco2e_embodied": 0.0,
        "water_l": float(record.water_l or 0.0),
        "cost": None,
        "currency": "",
        "scope": unit.scope,
        "category": unit.category,
        "method": unit.method,
        "pue_applied": unit.pue_applied,
        "factor_id": factor.factor_id if factor else None,
        "factor_g_per_kwh": factor.g_co2e_per_kwh if factor else None,
        "factor_version": factor.version_label if factor else "",
        "market_factor_g_per_kwh": factor.g_co2e_per_kwh if factor else None,
        "market_basis": unit.market_basis,
        "flags": sorted(set(flags)),
        "in_inventory": True,
        "import_job_id": job_id,
        "source_row": int(record.line),
        "attributes": attributes,
    }
