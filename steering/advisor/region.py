"""Recurring work in a dirty region when a much cleaner one of the same provider and residency area exists."""

from __future__ import annotations

from collections.abc import Mapping

from greenesg.lib.residency import residency_area
from steering.advisor.evidence import Finding, Run, Saving, per_month

MIN_RUNS = 3  # recurring work, not a one-off
MIN_RATIO = 1.5  # the current region's factor is at least 1.5 × the alternative's


def region_moves(runs: list[Run], *, factors: Mapping[tuple[str, str], float], days: int) -> list[Finding]:
    """`factors` maps (provider, region) to g CO2e/kWh for every region of the providers in use (the registry)."""
    groups: dict[tuple[str, str, str], list[Run]] = {}
    for run in runs:
        if run.provider and run.cloud_region:
            key = (run.experiment or "(no experiment)", run.provider.lower(), run.cloud_region.lower())
            groups.setdefault(key, []).append(run)
    findings = []
    for (experiment, provider, region), group in sorted(groups.items()):
        current = factors.get((provider, region))
        area = residency_area(provider, region)
        if len(group) < MIN_RUNS or current is None or area is None:
            continue
        alternatives = [
            (factor, other)
            for (other_provider, other), factor in factors.items()
            if other_provider == provider and other != region and residency_area(provider, other) == area
        ]
        if not alternatives:
            continue
        best_factor, best = min(alternatives)
        if best_factor <= 0 or current < MIN_RATIO * best_factor:
            continue
        share = 1 - best_factor / current
        energy = sum(r.energy_kwh for r in group)
        findings.append(
            Finding(
                detector="region",
                subject=f"{experiment} in {provider} {region}",
                title=f"{experiment} runs in {provider} {region} ({current:.0f} g/kWh); {best} emits "
                f"{best_factor:.0f} g/kWh",
                action=f"Move the recurring {experiment} runs to {provider} {best} (same residency area: {area}).",
                saving=Saving(
                    kwh=0.0,
                    kg_location=per_month(sum(r.kg_location for r in group) * share, days),
                    kg_market=per_month(sum(r.kg_market for r in group) * share, days),
                ),
                method="Emissions × (1 − alternative factor / current factor), scaled to a month; the energy stays "
                "the same.",
                assumptions=(
                    "The registry's annual-average factors of both regions; the same energy in either region.",
                    "Market-based emissions fall in the same proportion (no instruments cover the new region).",
                    f"Only regions of the same provider in the same residency area ({area}) are considered.",
                ),
                evidence_entry_ids=tuple(r.entry_id for r in group),
                details={
                    "experiment": experiment,
                    "current_g_per_kwh": current,
                    "alternative": best,
                    "alternative_g_per_kwh": best_factor,
                    "energy_kwh": energy,
                },
            )
        )
    return findings
