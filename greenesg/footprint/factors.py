"""Reads of the factor registry for the methodology (which itself never touches the ORM)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import F, Q, QuerySet

from greenesg.footprint.methodology.factors import FactorChoice
from greenesg.footprint.models import EmissionFactor, FactorSetStatus


def factor_lookup(organisation_id: int | None) -> Callable[[str], list[FactorChoice]]:
    """A zone → vintages lookup over the active factor sets an organisation sees, for one import.

    Those are the global sets and the organisation's own: an own set's factor wins over a global one for the
    same zone and year, so one organisation's override never reaches another (docs/methodology.md §5).
    The whole registry an organisation sees is read at once (hundreds of rows, one query): the lookup itself then
    never touches the database, so an import can estimate in a background thread while its connection is busy
    with a COPY (ingestion/codecarbon/pipeline.py).
    """
    rows = (
        visible_factors(organisation_id)
        .select_related("factor_set")
        .order_by("zone", "vintage_year", F("factor_set__organisation").desc(nulls_last=True), "-factor_set__version")
    )
    by_zone: dict[str, dict[int, FactorChoice]] = {}
    for row in rows:
        # One factor per vintage: the organisation's own set first, then the newest version of the set.
        by_zone.setdefault(row.zone, {}).setdefault(
            row.vintage_year,
            FactorChoice(
                factor_id=row.pk,
                zone=row.zone,
                vintage_year=row.vintage_year,
                g_co2e_per_kwh=row.g_co2e_per_kwh,
                version_label=row.factor_set.label,
            ),
        )
    table = {zone: [years[year] for year in sorted(years)] for zone, years in by_zone.items()}

    def lookup(zone: str) -> list[FactorChoice]:
        return table.get(zone, [])  # shared between calls, as the memoised lookup's lists were

    return lookup


def visible_factors(organisation_id: int | None) -> QuerySet[EmissionFactor]:
    """Active factors an organisation's figures may use: global ones and its own overrides."""
    visible = Q(factor_set__organisation=None)
    if organisation_id is not None:
        visible |= Q(factor_set__organisation_id=organisation_id)
    return EmissionFactor.objects.filter(visible, factor_set__status=FactorSetStatus.ACTIVE)
