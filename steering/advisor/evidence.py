"""The records detectors read and the findings they return (plain data, no ORM)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Run:
    """One codecarbon run of a project, as the ledger holds it."""

    entry_id: int
    run_id: str
    experiment: str
    day: dt.date
    duration_s: float
    energy_kwh: float  # facility energy (PUE applied), what the inventory counts
    kg_location: float
    kg_market: float
    provider: str = ""
    cloud_region: str = ""
    cpu_kwh: float | None = None
    gpu_kwh: float | None = None
    ram_kwh: float | None = None
    cpu_utilization: float | None = None  # percent, codecarbon's mean over the run
    gpu_utilization: float | None = None
    ram_total_gb: float | None = None
    ram_used_gb: float | None = None


@dataclass(frozen=True)
class ComputeDay:
    """Billed compute of one project on one day (billing ledger rows summed by day)."""

    day: dt.date
    usage_hours: float
    energy_kwh: float
    kg_location: float
    kg_market: float
    cost: float | None
    currency: str
    entry_ids: tuple[int, ...]


@dataclass(frozen=True)
class Saving:
    """An estimated saving per month: energy, location- and market-based kgCO2e, and money when known."""

    kwh: float
    kg_location: float
    kg_market: float
    cost: float | None = None
    currency: str = ""


@dataclass(frozen=True)
class Finding:
    detector: str
    subject: str  # what it is about (an experiment, "billed compute", a model): one open finding per subject
    title: str
    action: str
    saving: Saving
    method: str
    assumptions: tuple[str, ...]
    evidence_entry_ids: tuple[int, ...]
    details: dict[str, float | str] = field(default_factory=dict)


def per_month(value: float, window_days: float) -> float:
    """A total over the observed window scaled to an average month."""
    return value * DAYS_PER_MONTH / window_days if window_days > 0 else 0.0


def scaled_saving(runs: list[Run], share: float, days: int) -> Saving:
    """`share` of the runs' energy and emissions, per month; market-based follows each run's own factor."""
    return Saving(
        kwh=per_month(sum(r.energy_kwh for r in runs) * share, days),
        kg_location=per_month(sum(r.kg_location for r in runs) * share, days),
        kg_market=per_month(sum(r.kg_market for r in runs) * share, days),
    )


def by_experiment(runs: list[Run]) -> dict[str, list[Run]]:
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.experiment or "(no experiment)", []).append(run)
    return groups
