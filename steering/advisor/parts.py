"""Energy saved in one part of a machine (CPU, GPU, RAM) carried to facility kWh and kgCO2e like the run itself."""

from __future__ import annotations

from steering.advisor.evidence import Run


def it_kwh(run: Run) -> float:
    return (run.cpu_kwh or 0.0) + (run.gpu_kwh or 0.0) + (run.ram_kwh or 0.0)


def facility_saving(run: Run, it_kwh_saved: float) -> tuple[float, float, float]:
    """(kWh, kg location, kg market) for IT energy saved in this run.

    The run's own ratios are reused: facility/IT energy (its PUE) and kg per facility kWh (its grid factors), so
    a saving is counted exactly as the inventory counted the energy it replaces.
    """
    total_it = it_kwh(run)
    if total_it <= 0 or run.energy_kwh <= 0:
        return 0.0, 0.0, 0.0
    kwh = it_kwh_saved * run.energy_kwh / total_it
    return kwh, kwh * run.kg_location / run.energy_kwh, kwh * run.kg_market / run.energy_kwh
