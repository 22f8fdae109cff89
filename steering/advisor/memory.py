"""Over-sized memory: an experiment whose runs never use more than a small part of the RAM they are given."""

from __future__ import annotations

import math

from steering.advisor.evidence import Finding, Run, Saving, by_experiment, per_month
from steering.advisor.parts import facility_saving

MAX_USED_SHARE = 0.5  # peak use at or below half the installed RAM
HEADROOM = 1.25  # the recommended size keeps a quarter above the observed peak
MIN_RUNS = 3


def oversized_memory(runs: list[Run], *, days: int) -> list[Finding]:
    """Per experiment and machine size (installed RAM): the peak use against what is installed."""
    groups: dict[tuple[str, float], list[Run]] = {}
    for experiment, group in by_experiment(runs).items():
        for run in group:
            if run.ram_total_gb and run.ram_used_gb is not None and run.ram_kwh:
                groups.setdefault((experiment, run.ram_total_gb), []).append(run)
    findings = []
    for (experiment, installed), measured in sorted(groups.items()):
        if len(measured) < MIN_RUNS:
            continue
        peak = max(r.ram_used_gb or 0.0 for r in measured)
        if peak > MAX_USED_SHARE * installed:
            continue
        recommended = max(1.0, math.ceil(peak * HEADROOM))
        share = 1 - recommended / installed
        if share <= 0:
            continue
        kwh = kg_location = kg_market = 0.0
        for run in measured:
            part = facility_saving(run, (run.ram_kwh or 0.0) * share)
            kwh, kg_location, kg_market = kwh + part[0], kg_location + part[1], kg_market + part[2]
        findings.append(
            Finding(
                detector="oversized_memory",
                subject=f"{experiment} on {installed:g} GB machines",
                title=f"{experiment} uses at most {peak:.1f} GB of {installed:g} GB RAM",
                action=f"Run {experiment} on a machine (or container limit) with about {recommended:.0f} GB of RAM.",
                saving=Saving(
                    kwh=per_month(kwh, days),
                    kg_location=per_month(kg_location, days),
                    kg_market=per_month(kg_market, days),
                ),
                method=f"RAM energy × (1 − recommended/installed) = × {share:.3f}, carried to facility energy and "
                "emissions with each run's own PUE and grid factors, scaled to a month.",
                assumptions=(
                    "codecarbon estimates RAM power from the installed size, so RAM energy falls in proportion to it.",
                    f"The recommended size is the peak use observed × {HEADROOM}, rounded up to a whole GB.",
                ),
                evidence_entry_ids=tuple(r.entry_id for r in measured),
                details={
                    "experiment": experiment,
                    "installed_gb": installed,
                    "peak_used_gb": peak,
                    "recommended_gb": recommended,
                },
            )
        )
    return findings
