"""Reads of the factor registry for the methodology (which itself never touches the ORM)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from greenesg.footprint.methodology.codecarbon import FactorChoice
from greenesg.footprint.models import EmissionFactor, FactorSetStatus


def factor_lookup() -> Callable[[str], list[FactorChoice]]:
    """A memoised zone → vintages lookup over the active factor sets, for one import."""

    @lru_cache(maxsize=4096)
    def lookup(zone: str) -> list[FactorChoice]:
        rows = (
            EmissionFactor.objects.filter(zone=zone, factor_set__status=FactorSetStatus.ACTIVE)
            .select_related("factor_set")
            .order_by("vintage_year", "-factor_set__version")
        )
        latest: dict[int, FactorChoice] = {}
        for row in rows:
            # One factor per vintage: the newest version of the set wins.
            latest.setdefault(
                row.vintage_year,
                FactorChoice(
                    factor_id=row.pk,
                    zone=row.zone,
                    vintage_year=row.vintage_year,
                    g_co2e_per_kwh=row.g_co2e_per_kwh,
                    version_label=row.factor_set.label,
                ),
            )
        return [latest[year] for year in sorted(latest)]

    return lookup
