"""A model that is good enough and cheaper in carbon than the one in use (the model review records)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from steering.advisor.evidence import Finding, Saving, per_month
from steering.pareto import Point, pareto_front


@dataclass(frozen=True)
class ModelRun:
    entry_id: int
    model: str
    metric_name: str
    metric_value: float
    higher_is_better: bool
    day: dt.date
    energy_kwh: float
    kg_location: float
    kg_market: float


@dataclass(frozen=True)
class _ModelMean:
    model: str
    runs: list[ModelRun]

    def mean(self, attribute: str) -> float:
        return sum(getattr(run, attribute) for run in self.runs) / len(self.runs)


def _within(candidate: float, in_use: float, tolerance: float, higher_is_better: bool) -> bool:
    allowed = abs(in_use) * tolerance
    return candidate >= in_use - allowed if higher_is_better else candidate <= in_use + allowed


def model_choice(runs: list[ModelRun], *, tolerance: float, days: int, since: dt.date | None = None) -> list[Finding]:
    """Per quality metric: the model of the latest run is in use; propose the lowest-carbon model on the Pareto front
    of the models' means whose quality is within `tolerance` (relative) of it. Quantized variants recorded as their
    own model names compete like any other model.

    The means use every tagged run (an evaluation done months ago still describes the model); the monthly saving
    counts only the runs of the model in use from `since`, the start of the `days`-long window."""
    findings = []
    groups: dict[tuple[str, bool], list[ModelRun]] = {}
    for run in runs:
        groups.setdefault((run.metric_name, run.higher_is_better), []).append(run)
    for (metric, higher_is_better), group in sorted(groups.items()):
        models: dict[str, list[ModelRun]] = {}
        for run in group:
            models.setdefault(run.model, []).append(run)
        if len(models) < 2:
            continue
        means = {name: _ModelMean(name, items) for name, items in models.items()}
        in_use = means[max(group, key=lambda r: (r.day, r.entry_id)).model]
        front = pareto_front(
            [Point(name, m.mean("kg_location"), m.mean("metric_value")) for name, m in means.items()],
            higher_is_better=higher_is_better,
        )
        quality = in_use.mean("metric_value")
        candidates = [
            means[ranked.point.key]
            for ranked in front
            if ranked.on_front
            and ranked.point.key != in_use.model
            and ranked.point.kg < in_use.mean("kg_location")
            and _within(ranked.point.quality, quality, tolerance, higher_is_better)
        ]
        if not candidates:
            continue
        best = min(candidates, key=lambda m: m.mean("kg_location"))
        runs_in_use = len([run for run in in_use.runs if since is None or run.day >= since])
        saving = Saving(
            kwh=per_month((in_use.mean("energy_kwh") - best.mean("energy_kwh")) * runs_in_use, days),
            kg_location=per_month((in_use.mean("kg_location") - best.mean("kg_location")) * runs_in_use, days),
            kg_market=per_month((in_use.mean("kg_market") - best.mean("kg_market")) * runs_in_use, days),
        )
        findings.append(
            Finding(
                detector="model_choice",
                subject=f"{in_use.model} ({metric})",
                title=f"{best.model} scores {best.mean('metric_value'):.4g} {metric} against {quality:.4g} for "
                f"{in_use.model}, at {best.mean('kg_location'):.3g} instead of {in_use.mean('kg_location'):.3g} "
                "kgCO2e per run",
                action=f"Use {best.model} instead of {in_use.model}: it is within the project's quality tolerance "
                f"({tolerance:.1%}) and on the quality/carbon Pareto front.",
                saving=saving,
                method="(mean per run of the model in use − mean per run of the proposed model) × runs of the model "
                "in use, scaled to a month.",
                assumptions=(
                    "The proposed model does the same job per run as the model in use.",
                    f"Quality within {tolerance:.1%} of the model in use is good enough (the project's tolerance).",
                ),
                evidence_entry_ids=tuple(run.entry_id for run in in_use.runs + best.runs),
                details={"model_in_use": in_use.model, "proposed_model": best.model, "metric": metric},
            )
        )
    return findings
