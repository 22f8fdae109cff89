"""Software Carbon Intensity, SCI = (E × I + M) / R (Green Software Foundation, ISO/IEC 21031:2024).

Pure functions, no ORM. SCI is a per-unit rate shown as an entity-specific metric beside the inventory; it is
never added into scope totals (docs/esrs.md §12: it uses marginal factors and amortised embodied emissions, the
inventory uses average factors and totals, so adding them double counts and mixes methods).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFINITION = (
    "SCI = (E × I + M) / R, per ISO/IEC 21031:2024. E: energy of the project's in-inventory records in the period "
    "(kWh, facility energy including PUE). I: the location-based grid factor GreenESG actually applied to that "
    "energy (kgCO2e of location-based emissions divided by E). M: embodied emissions recorded on the ledger "
    "(kgCO2e; zero for codecarbon runs, which carry none). R: the count of functional units posted for the period."
)
LIMITS = (
    "I is the annual average location-based factor of the registry, not the marginal intensity the standard "
    "prefers, so SCI here is an approximation. Market-based instruments and offsets cannot reduce it. M is "
    "missing for codecarbon runs and for storage, network and managed services, so SCI is a lower bound. The "
    "boundary is what the project's ledger holds; CI/CD, logging and idle capacity count only if imported. "
    "SCI is a rate and is never added to Scope 1, 2 or 3 totals. Not externally validated."
)


@dataclass(frozen=True)
class SciResult:
    energy_kwh: float
    intensity_kg_per_kwh: float | None
    embodied_kg: float
    units: float
    operational_kg: float
    sci_kg_per_unit: float | None


def intensity_used(*, kgco2e_location: float, energy_kwh: float) -> float | None:
    """The location-based factor actually applied (kgCO2e/kWh), recovered from the ledger's own figures."""
    if energy_kwh <= 0:
        return None
    return kgco2e_location / energy_kwh


def sci_compute(
    *, energy_kwh: float, intensity_kg_per_kwh: float | None, embodied_kg: float, units: float
) -> SciResult:
    """SCI for one period. No units (R ≤ 0) means no rate: the result carries None rather than a division error."""
    if energy_kwh < 0 or embodied_kg < 0:
        raise ValueError("energy and embodied emissions cannot be negative")
    operational = energy_kwh * (intensity_kg_per_kwh or 0.0)
    rate = (operational + embodied_kg) / units if units > 0 else None
    return SciResult(energy_kwh, intensity_kg_per_kwh, embodied_kg, units, operational, rate)
