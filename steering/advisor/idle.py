"""Idle capacity: runs that did (almost) no work, and non-production compute billed around the clock."""

from __future__ import annotations

from steering.advisor.evidence import ComputeDay, Finding, Run, Saving, by_experiment, per_month, scaled_saving

IDLE_UTILISATION_PERCENT = 10.0  # mean CPU (and GPU, when present) utilisation below this is idle
MIN_RUNS = 3  # a pattern, not an accident
OFFICE_HOURS_PER_WEEK = 12 * 5  # what a non-production environment needs when scheduled: 12 h on weekdays
AROUND_THE_CLOCK_WEEKEND_RATIO = 0.8  # weekend usage at least this share of weekday usage
MIN_DAYS = 14  # two full weeks before we call it 24/7


def _idle(run: Run) -> bool:
    if run.cpu_utilization is None or run.cpu_utilization >= IDLE_UTILISATION_PERCENT:
        return False
    return run.gpu_utilization is None or run.gpu_utilization < IDLE_UTILISATION_PERCENT


def idle_runs(runs: list[Run], *, days: int) -> list[Finding]:
    """Per experiment, the runs whose mean utilisation stayed below the threshold: their whole energy is the saving."""
    findings = []
    for experiment, group in sorted(by_experiment(runs).items()):
        idle = [run for run in group if _idle(run)]
        if len(idle) < MIN_RUNS:
            continue
        mean_cpu = sum(run.cpu_utilization or 0.0 for run in idle) / len(idle)
        findings.append(
            Finding(
                detector="idle_runs",
                subject=experiment,
                title=f"{len(idle)} of {len(group)} runs of {experiment} were idle (mean CPU {mean_cpu:.1f} %)",
                action="Run these jobs only when there is work (a queue or a schedule), or scale the service to zero "
                "when it is idle.",
                saving=scaled_saving(idle, 1.0, days),
                method="The idle runs' facility energy and emissions over the window, scaled to a month.",
                assumptions=(
                    f"A run is idle when codecarbon's mean CPU utilisation (and GPU utilisation, if any) is below "
                    f"{IDLE_UTILISATION_PERCENT:.0f} %.",
                    "Idle runs did no useful work, so none of their energy is needed.",
                ),
                evidence_entry_ids=tuple(run.entry_id for run in idle),
                details={
                    "experiment": experiment,
                    "idle_runs": len(idle),
                    "runs": len(group),
                    "mean_cpu_utilization_percent": mean_cpu,
                },
            )
        )
    return findings


def always_on(days_billed: list[ComputeDay], *, non_production: bool, days: int) -> Finding | None:
    """Non-production compute billed 7 days a week as much on weekends as on weekdays: schedule it."""
    if not non_production or len(days_billed) < MIN_DAYS:
        return None
    weekday = [d.usage_hours for d in days_billed if d.day.weekday() < 5]
    weekend = [d.usage_hours for d in days_billed if d.day.weekday() >= 5]
    if not weekday or not weekend:
        return None
    weekday_mean, weekend_mean = sum(weekday) / len(weekday), sum(weekend) / len(weekend)
    if weekday_mean <= 0 or weekend_mean < AROUND_THE_CLOCK_WEEKEND_RATIO * weekday_mean:
        return None
    share = 1 - OFFICE_HOURS_PER_WEEK / (24 * 7)
    costs = [d.cost for d in days_billed if d.cost is not None]
    currency = next((d.currency for d in days_billed if d.currency), "")
    saving = Saving(
        kwh=per_month(sum(d.energy_kwh for d in days_billed) * share, days),
        kg_location=per_month(sum(d.kg_location for d in days_billed) * share, days),
        kg_market=per_month(sum(d.kg_market for d in days_billed) * share, days),
        cost=per_month(sum(costs) * share, days) if costs else None,
        currency=currency,
    )
    return Finding(
        detector="always_on",
        subject="billed compute",
        title=f"Non-production compute runs around the clock ({weekend_mean:.0f} h on weekend days, "
        f"{weekday_mean:.0f} h on weekdays)",
        action="Schedule the non-production environment to office hours (stop it at night and on weekends) or "
        "scale it to zero when unused.",
        saving=saving,
        method=f"Billed compute energy, emissions and cost × (1 − {OFFICE_HOURS_PER_WEEK}/168): the share of the "
        "week outside office hours, scaled to a month.",
        assumptions=(
            "The project is marked non-production in its steering settings.",
            f"Office hours are {OFFICE_HOURS_PER_WEEK} h a week (12 h on each weekday).",
            "Energy and cost scale with running hours.",
        ),
        evidence_entry_ids=tuple(entry for d in days_billed for entry in d.entry_ids),
        details={"weekday_hours": weekday_mean, "weekend_hours": weekend_mean, "share_saved": share},
    )
