"""Emission-factor resolution and scope classification shared by every source (pure: no ORM, no Django).

The caller supplies a ``lookup(zone)`` that returns every vintage of that zone from the *active* factor sets
(docs/methodology.md §1.4, §2.8, §5.3); codecarbon runs, billing lines and other activities all resolve their
factor here, so one zone rule and one vintage rule hold for all of them.

Zone resolution (most specific first, see ``factor_zone_candidates``):
- cloud: ``provider/region`` (Azure canonicalised), then the country grid. A cloud record whose region is not in
  the registry falls back to the country grid **with the flag** ``region_unmapped``; it never falls back to the
  provider's Unknown mean silently (§1.4, §4.10 item 8). The Unknown means are never a candidate.
- on-prem: ``ISO3/region`` when a region is known (US state, Chinese province, Nordic bidding zone), then
  ``ISO3``. This mirrors codecarbon's own order (§2.8).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from greenesg.footprint.factor_seed import canonical_azure_region, canonical_china_province

SCOPE_2 = 2
SCOPE_3 = 3
# GHG Protocol Scope 3 category 1, sub-line 1.1 "cloud computing and data centre services" (ESRS E1 AR 51).
CATEGORY_CLOUD = "1.1"

FLAG_REGION_UNMAPPED = "region_unmapped"
FLAG_PROXY_VINTAGE = "proxy_vintage"
FLAG_FUTURE_VINTAGE = "future_vintage"
FLAG_NO_FACTOR = "no_factor"
FLAG_MB_FALLBACK = "mb_fallback_grid_average"

# §7.2 tier 5: without contractual instruments or a residual mix, market-based = grid average, flagged.
MB_BASIS_GRID_FALLBACK = "mb_fallback_grid_average"


@dataclass(frozen=True)
class FactorChoice:
    factor_id: int | None
    zone: str
    vintage_year: int
    g_co2e_per_kwh: float
    version_label: str


FactorLookup = Callable[[str], list[FactorChoice]]


def _cloud_zone(cloud_provider: str, cloud_region: str) -> str | None:
    provider = cloud_provider.strip().lower()
    region = cloud_region.strip()
    if not provider or not region:
        return None
    if provider == "azure":
        # An unknown Azure name is kept (lower-cased, spaces removed) so it misses and is flagged region_unmapped.
        region = canonical_azure_region(region) or "".join(region.lower().split())
    return f"{provider}/{region.lower()}"


def _subnational_zone(country: str, region: str) -> str | None:
    key = " ".join(region.lower().split())
    if not country or not key:
        return None
    if country == "CHN":
        # codecarbon reports a province name; the registry is keyed by ISO 3166-2 code.
        key = canonical_china_province(key) or key
    return f"{country}/{key}"


def factor_zone_candidates(
    *, on_cloud: bool, cloud_provider: str, cloud_region: str, country_iso: str, region: str
) -> list[str]:
    """Zones to look up, most specific first (see the module docstring for the fallback rule)."""
    country = country_iso.strip().upper()
    specific = _cloud_zone(cloud_provider, cloud_region) if on_cloud else _subnational_zone(country, region)
    return [zone for zone in (specific, country) if zone]


def is_cloud_zone(zone: str) -> bool:
    """Cloud zones start with a lower-case provider ("gcp/…"), grid zones with an upper-case ISO3 ("USA/…")."""
    prefix, sep, _ = zone.partition("/")
    return bool(sep) and prefix.islower()


def _pick_vintage(choices: list[FactorChoice], year: int) -> tuple[FactorChoice, list[str]]:
    """The vintage matching the year; else the latest earlier (proxy); else the earliest later one (§5.3)."""
    for choice in choices:
        if choice.vintage_year == year:
            return choice, []
    earlier = [choice for choice in choices if choice.vintage_year < year]
    if earlier:
        return max(earlier, key=lambda choice: choice.vintage_year), [FLAG_PROXY_VINTAGE]
    return min(choices, key=lambda choice: choice.vintage_year), [FLAG_FUTURE_VINTAGE]


def resolve_factor(
    candidates: list[str], year: int, lookup: Callable[[str], list[FactorChoice]]
) -> tuple[FactorChoice | None, list[str]]:
    """The factor of the first candidate zone that has any, and the flags describing the choice.

    ``lookup`` returns every vintage of a zone from the active sets (the caller filters on status). If several
    share a vintage, the first one returned wins, so the caller orders newest set version first.
    Falling past a cloud zone (a cloud run whose region is not in the registry) adds ``region_unmapped``.
    """
    for index, zone in enumerate(candidates):
        choices = lookup(zone)
        if not choices:
            continue
        choice, flags = _pick_vintage(choices, year)
        if index > 0 and is_cloud_zone(candidates[0]):
            flags.insert(0, FLAG_REGION_UNMAPPED)
        return choice, flags
    return None, [FLAG_NO_FACTOR]
