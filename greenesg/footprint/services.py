"""Writes on the factor registry."""

from __future__ import annotations

from typing import Any

from greenesg.footprint.factor_seed import FactorSetSeed


def factor_sets_load(seeds: list[FactorSetSeed], *, set_model: Any, factor_model: Any) -> int:
    """Create the seeded factor sets that do not exist yet (by name and version); never overwrite one.

    Takes the model classes so the data migration can pass its historical models.
    """
    created = 0
    # Seeds are global sets. The data migration's historical model predates organisation-owned sets.
    owner = {"organisation": None} if any(f.name == "organisation" for f in set_model._meta.fields) else {}
    for seed in seeds:
        factor_set, new = set_model.objects.get_or_create(
            **owner,
            name=seed.name,
            version=seed.version,
            defaults={"kind": seed.kind, "source": seed.source, "source_url": seed.source_url, "notes": seed.notes},
        )
        if not new:
            continue
        factor_model.objects.bulk_create(
            factor_model(
                factor_set=factor_set,
                zone=f.zone,
                label=f.label,
                vintage_year=f.vintage_year,
                g_co2e_per_kwh=f.g_co2e_per_kwh,
                gas_basis=f.gas_basis,
                source=f.source,
                is_fallback_mean=f.is_fallback_mean,
            )
            for f in seed.factors
        )
        created += 1
    return created


def global_factor_set_publish(
    *, name: str, kind: str, source: str, factors: list[dict[str, Any]], source_url: str = "", notes: str = ""
) -> Any:
    """A new active version of a global factor set, superseding the earlier active one (a platform decision:
    every organisation's new figures use it). Organisation-owned sets are never touched."""
    from django.db import transaction

    from greenesg.footprint.models import EmissionFactorSet, FactorSetStatus

    if not factors:
        raise ValueError("A factor set needs at least one factor.")
    with transaction.atomic():
        EmissionFactorSet.objects.select_for_update().filter(
            organisation=None, name=name, status=FactorSetStatus.ACTIVE
        ).update(status=FactorSetStatus.SUPERSEDED)
        return factor_set_version_create(
            organisation=None,
            name=name,
            kind=kind,
            source=source,
            factors=factors,
            status=FactorSetStatus.ACTIVE,
            source_url=source_url,
            notes=notes,
        )


def factor_set_version_create(
    *,
    organisation: Any,
    name: str,
    kind: str,
    source: str,
    factors: list[dict[str, Any]],
    status: str,
    source_url: str = "",
    notes: str = "",
) -> Any:
    """The next version of a set (global when `organisation` is None, else that organisation's) with its
    factors. Callers hold the transaction and decide what the new version supersedes."""
    from greenesg.footprint.models import EmissionFactor, EmissionFactorSet

    latest = (
        EmissionFactorSet.objects.select_for_update()
        .filter(organisation=organisation, name=name)
        .order_by("-version")
        .first()
    )
    factor_set = EmissionFactorSet.objects.create(
        organisation=organisation,
        name=name,
        version=(latest.version + 1) if latest else 1,
        kind=kind,
        source=source,
        source_url=source_url,
        notes=notes,
        status=status,
    )
    EmissionFactor.objects.bulk_create(EmissionFactor(factor_set=factor_set, **row) for row in factors)
    return factor_set
