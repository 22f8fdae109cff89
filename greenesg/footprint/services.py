"""Writes on the factor registry."""

from __future__ import annotations

from typing import Any

from greenesg.footprint.factor_seed import FactorSetSeed


def factor_sets_load(seeds: list[FactorSetSeed], *, set_model: Any, factor_model: Any) -> int:
    """Create the seeded factor sets that do not exist yet (by name and version); never overwrite one.

    Takes the model classes so the data migration can pass its historical models.
    """
    created = 0
    for seed in seeds:
        factor_set, new = set_model.objects.get_or_create(
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
