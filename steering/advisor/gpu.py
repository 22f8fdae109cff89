"""GPU under-use: GPUs drawing power while mostly waiting. Batching or sharing does the same work in less GPU time."""

from __future__ import annotations

from steering.advisor.evidence import Finding, Run, Saving, by_experiment, per_month
from steering.advisor.parts import facility_saving

LOW_UTILISATION_PERCENT = 40.0
TARGET_UTILISATION_PERCENT = 80.0  # what batched inference or a shared GPU reaches in practice
MIN_RUNS = 3


def gpu_underuse(runs: list[Run], *, days: int) -> list[Finding]:
    findings = []
    for experiment, group in sorted(by_experiment(runs).items()):
        measured = [r for r in group if r.gpu_kwh and r.gpu_utilization is not None]
        if len(measured) < MIN_RUNS:
            continue
        gpu_kwh = sum(r.gpu_kwh or 0.0 for r in measured)
        # Energy-weighted, so a long busy run is not outvoted by short idle ones.
        utilisation = sum((r.gpu_utilization or 0.0) * (r.gpu_kwh or 0.0) for r in measured) / gpu_kwh
        if utilisation >= LOW_UTILISATION_PERCENT:
            continue
        share = 1 - utilisation / TARGET_UTILISATION_PERCENT
        kwh = kg_location = kg_market = 0.0
        for run in measured:
            part = facility_saving(run, (run.gpu_kwh or 0.0) * share)
            kwh, kg_location, kg_market = kwh + part[0], kg_location + part[1], kg_market + part[2]
        findings.append(
            Finding(
                detector="gpu_underuse",
                subject=experiment,
                title=f"The GPUs of {experiment} are {utilisation:.0f} % busy on average",
                action="Batch requests (or larger training batches), or share the GPU between jobs, so the same work "
                "takes less GPU time.",
                saving=Saving(
                    kwh=per_month(kwh, days),
                    kg_location=per_month(kg_location, days),
                    kg_market=per_month(kg_market, days),
                ),
                method=f"GPU energy × (1 − utilisation/{TARGET_UTILISATION_PERCENT:.0f} %) = × {share:.3f}, carried to "
                "facility energy and emissions with each run's PUE and grid factors, scaled to a month.",
                assumptions=(
                    f"Batching or sharing raises utilisation to {TARGET_UTILISATION_PERCENT:.0f} % for the same work.",
                    "GPU energy falls in proportion to GPU time.",
                ),
                evidence_entry_ids=tuple(r.entry_id for r in measured),
                details={"experiment": experiment, "gpu_utilization_percent": utilisation, "share_saved": share},
            )
        )
    return findings
