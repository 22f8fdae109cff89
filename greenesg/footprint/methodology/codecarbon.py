"""Recompute a codecarbon run with GreenESG's own factor registry and PUE rules (docs/methodology.md §1, §2.8, §4.6).

Pure functions, no ORM and no Django: the caller supplies the reporting year and a ``lookup(zone)`` that returns
every vintage of that zone from the *active* factor sets, and writes the RunEstimate to the ledger.

codecarbon's ``energy_consumed`` already includes its ``pue`` (since 2.2.3), so IT energy = energy_consumed / pue
and GreenESG applies its own PUE choice on top. codecarbon's ``emissions`` is never used as the result (§1.5);
it is kept, with the implied factor, for audit.

Zone candidates, vintage choice and the scope constants are shared with the billing estimate and other
activities: they live in ``methodology/factors.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from greenesg.footprint.methodology.coefficients import (
    IMPLIED_FACTOR_MAX_G_PER_KWH,
    IMPLIED_FACTOR_MIN_G_PER_KWH,
    PUE,
    provider_pue,
)
from greenesg.footprint.methodology.factors import (
    CATEGORY_CLOUD,
    FLAG_MB_FALLBACK,
    FLAG_REGION_UNMAPPED,
    MB_BASIS_GRID_FALLBACK,
    SCOPE_2,
    SCOPE_3,
    FactorChoice,
    FactorLookup,
    factor_zone_candidates,
    is_cloud_zone,
    resolve_factor,
)
from greenesg.footprint.vocabulary import Method

INFRA_AUTO = "auto"
INFRA_OWN = "own"
INFRA_CLOUD = "cloud"

FLAG_PUE_PROVIDER_DEFAULT = "pue_provider_default"
FLAG_PUE_PROVIDER_UNKNOWN = "pue_provider_unknown"
FLAG_PUE_SITE_ASSUMED = "pue_site_assumed"
FLAG_PUE_CODECARBON_IGNORED = "pue_codecarbon_ignored"
FLAG_IMPLIED_OUT_OF_RANGE = "implied_factor_out_of_range"


@dataclass(frozen=True)
class RunEstimate:
    energy_it_kwh: float
    energy_facility_kwh: float
    kgco2e_location: float | None
    kgco2e_market: float | None
    market_basis: str
    water_l: float
    scope: int
    category: str
    pue_applied: float
    factor: FactorChoice | None
    flags: tuple[str, ...]
    codecarbon_kg: float | None
    implied_factor_g_per_kwh: float | None
    method: str = Method.MEASURED


def decide_scope(*, on_cloud: bool, infrastructure: str) -> tuple[int, str]:
    """(scope, Scope 3 category) of a run.

    ``infrastructure`` comes from the asset register (project -> infrastructure) and wins over codecarbon's
    ``on_cloud``, which is only set when codecarbon detects the provider (§1.6); ``"auto"`` trusts on_cloud.
    """
    if infrastructure == INFRA_AUTO:
        infrastructure = INFRA_CLOUD if on_cloud else INFRA_OWN
    if infrastructure == INFRA_CLOUD:
        # ESRS E1 AR 51: public cloud is Scope 3 category 1 (1.1), and it stays out of the E1-5 energy table.
        return SCOPE_3, CATEGORY_CLOUD
    if infrastructure == INFRA_OWN:
        # Own or controlled hardware: purchased electricity, Scope 2 (LB and MB), counted in E1-5.
        return SCOPE_2, ""
    raise ValueError(f"unknown infrastructure {infrastructure!r}: expected auto, own or cloud")


def choose_pue(
    *, codecarbon_pue: float, scope: int, provider: str, cloud_region: str, site_pue: float | None
) -> tuple[float, list[str]]:
    """PUE to apply to IT energy, and the flags recording how it was chosen (§4.6)."""
    if site_pue is not None and site_pue < 1.0:
        raise ValueError(f"site PUE {site_pue} is below 1.0, which no facility can reach")
    flags: list[str] = []
    if not math.isclose(codecarbon_pue, 1.0, abs_tol=1e-9):
        if codecarbon_pue > 1.0:
            # The user told codecarbon the PUE of this machine's facility: that beats any default.
            return codecarbon_pue, flags
        flags.append(FLAG_PUE_CODECARBON_IGNORED)  # Below 1.0 is physically impossible: treat as unset.
    if scope == SCOPE_3:
        pue = provider_pue(provider, cloud_region)
        if pue is None:
            # A cloud we have no PUE for: the conservative survey average, flagged.
            return PUE.own_site_unknown, [*flags, FLAG_PUE_PROVIDER_UNKNOWN]
        return pue, [*flags, FLAG_PUE_PROVIDER_DEFAULT]
    if site_pue is not None:
        return site_pue, flags
    return PUE.own_site_unknown, [*flags, FLAG_PUE_SITE_ASSUMED]


def _implied_factor(emissions_kg: float | None, energy_kwh: float) -> tuple[float | None, list[str]]:
    """codecarbon's own factor (g/kWh), for audit; §2.4 flags values outside 0-1200 g/kWh."""
    if emissions_kg is None or energy_kwh <= 0:
        return None, []
    implied = emissions_kg / energy_kwh * 1000.0
    if not IMPLIED_FACTOR_MIN_G_PER_KWH <= implied <= IMPLIED_FACTOR_MAX_G_PER_KWH:
        return implied, [FLAG_IMPLIED_OUT_OF_RANGE]
    return implied, []


def _dedupe(flags: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(flags))


def _run_factor(
    *,
    is_cloud: bool,
    cloud_provider: str,
    cloud_region: str,
    country_iso: str,
    region: str,
    year: int,
    lookup: FactorLookup,
) -> tuple[FactorChoice | None, list[str]]:
    candidates = factor_zone_candidates(
        on_cloud=is_cloud,
        cloud_provider=cloud_provider,
        cloud_region=cloud_region,
        country_iso=country_iso,
        region=region,
    )
    factor, flags = resolve_factor(candidates, year, lookup)
    if is_cloud and (factor is None or not is_cloud_zone(factor.zone)):
        # §1.4, also when codecarbon reported no provider or region for a run the asset register puts on cloud.
        flags.append(FLAG_REGION_UNMAPPED)
    return factor, flags


def estimate_run(
    *,
    energy_consumed_kwh: float,
    codecarbon_pue: float,
    water_l: float,
    codecarbon_emissions_kg: float | None,
    on_cloud: bool,
    infrastructure: str,
    cloud_provider: str,
    cloud_region: str,
    country_iso: str,
    region: str,
    site_pue: float | None,
    year: int,
    lookup: Callable[[str], list[FactorChoice]],
) -> RunEstimate:
    """Energy and location/market-based emissions of one codecarbon run (its last, cumulative row).

    1. Scope from the asset register (``infrastructure``), falling back to codecarbon's on_cloud.
    2. IT energy = energy_consumed / codecarbon pue; facility energy = IT energy x the chosen PUE (§4.6).
    3. Factor from the registry for ``year``; kg = facility kWh x g/kWh / 1000.
    4. Market-based = location-based, flagged, until contractual instruments exist (§7.1).
    """
    if not math.isfinite(energy_consumed_kwh) or energy_consumed_kwh < 0:
        raise ValueError(f"energy_consumed {energy_consumed_kwh} kWh is not a usable energy")
    if not codecarbon_pue > 0:
        raise ValueError(f"codecarbon pue {codecarbon_pue} cannot be divided out")
    scope, category = decide_scope(on_cloud=on_cloud, infrastructure=infrastructure)
    pue, pue_flags = choose_pue(
        codecarbon_pue=codecarbon_pue,
        scope=scope,
        provider=cloud_provider,
        cloud_region=cloud_region,
        site_pue=site_pue,
    )
    energy_it = energy_consumed_kwh / codecarbon_pue
    factor, factor_flags = _run_factor(
        is_cloud=on_cloud or scope == SCOPE_3,
        cloud_provider=cloud_provider,
        cloud_region=cloud_region,
        country_iso=country_iso,
        region=region,
        year=year,
        lookup=lookup,
    )
    kg = None if factor is None else energy_it * pue * factor.g_co2e_per_kwh / 1000.0
    implied, implied_flags = _implied_factor(codecarbon_emissions_kg, energy_consumed_kwh)
    market_flags = [] if kg is None else [FLAG_MB_FALLBACK]
    return RunEstimate(
        energy_it_kwh=energy_it,
        energy_facility_kwh=energy_it * pue,
        kgco2e_location=kg,
        kgco2e_market=kg,
        market_basis=MB_BASIS_GRID_FALLBACK if kg is not None else "",
        water_l=water_l,
        scope=scope,
        category=category,
        pue_applied=pue,
        factor=factor,
        flags=_dedupe([*factor_flags, *pue_flags, *market_flags, *implied_flags]),
        codecarbon_kg=codecarbon_emissions_kg,
        implied_factor_g_per_kwh=implied,
    )
