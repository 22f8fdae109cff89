"""Cleaner-region advice: rank candidate regions and compute what the same energy would emit elsewhere.

Pure functions, no ORM and no network. Factors are g CO2e/kWh, location-based, one per region; a candidate the
registry does not know is reported as unmapped, never ranked with a guessed or averaged value
(docs/methodology.md §1.4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SOURCE_REGISTRY = "registry"
SOURCE_LIVE = "live"


@dataclass(frozen=True)
class RegionFactor:
    region: str
    g_co2e_per_kwh: float
    source: str  # "registry" (annual average, factor set label in `detail`) or "live"
    detail: str = ""


@dataclass(frozen=True)
class Ranking:
    ranked: list[RegionFactor]  # cleanest first
    unmapped: list[str]

    @property
    def best(self) -> RegionFactor | None:
        return self.ranked[0] if self.ranked else None


def rank_regions(candidates: Sequence[str], factors: Mapping[str, RegionFactor]) -> Ranking:
    """Rank candidates by factor, cleanest first; ties keep the caller's order (its stated preference)."""
    seen: list[str] = []
    for region in candidates:
        if region not in seen:
            seen.append(region)
    known = [factors[region] for region in seen if region in factors]
    ranked = sorted(known, key=lambda f: f.g_co2e_per_kwh)  # sorted() is stable
    return Ranking(ranked=ranked, unmapped=[region for region in seen if region not in factors])


def emissions_kg(energy_kwh: float, g_co2e_per_kwh: float) -> float:
    return energy_kwh * g_co2e_per_kwh / 1000.0


@dataclass(frozen=True)
class Counterfactual:
    region: str
    g_co2e_per_kwh: float
    kg: float  # what the energy would have emitted there
    difference_kg: float  # kg − actual: negative means the move would have saved emissions


def counterfactuals(*, energy_kwh: float, actual_kg: float, ranking: Ranking) -> list[Counterfactual]:
    """The same runs (same energy, PUE included) in each ranked region."""
    rows = []
    for factor in ranking.ranked:
        kg = emissions_kg(energy_kwh, factor.g_co2e_per_kwh)
        rows.append(Counterfactual(factor.region, factor.g_co2e_per_kwh, kg, kg - actual_kg))
    return rows


def avoided_kg(*, energy_kwh: float, from_g_per_kwh: float, to_g_per_kwh: float) -> float:
    """Emissions avoided by running `energy_kwh` in the cleaner region instead (negative when it is dirtier).

    Reported apart from the inventory and never netted against it: the inventory already holds the lower
    actual figure, so subtracting the avoided amount again would count the saving twice.
    """
    return emissions_kg(energy_kwh, from_g_per_kwh - to_g_per_kwh)


@dataclass(frozen=True)
class CandidateSaving:
    region: str
    g_co2e_per_kwh: float
    detail: str
    saving_kg_per_month: float  # positive: the candidate emits less for the same monthly load


def monthly_savings(*, kwh_per_month: float, current: RegionFactor, ranking: Ranking) -> list[CandidateSaving]:
    """Per ranked candidate (cleanest first): the project's monthly facility kWh × (current − candidate factor).

    Facility energy is kept as measured: regions of one provider share its PUE in our coefficients.
    """
    return [
        CandidateSaving(
            factor.region,
            factor.g_co2e_per_kwh,
            factor.detail,
            avoided_kg(
                energy_kwh=kwh_per_month, from_g_per_kwh=current.g_co2e_per_kwh, to_g_per_kwh=factor.g_co2e_per_kwh
            ),
        )
        for factor in ranking.ranked
    ]
