"""The efficiency advisor's reads and writes: inputs for the detectors, recommendations and their proof.

Detectors are pure (steering/advisor/); this module reads the ledger and the steering records into their plain
inputs, keeps one active recommendation per (project, detector, subject), audits every status change and
measures the realised reduction once a recommendation is done (docs/methodology.md §10).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max, Min, QuerySet, Sum
from django.utils import timezone

from greenesg.accounts.access import OrgAccess
from greenesg.accounts.models import Project
from greenesg.accounts.services import audit_log_write
from greenesg.footprint.models import RUN_MEASUREMENTS, LedgerEntry, Source, run_attributes_merged
from steering.advisor import gpu, idle, memory, model_choice, region
from steering.advisor.evidence import DAYS_PER_MONTH, ComputeDay, Finding, Run, per_month
from steering.advisor.proof import Realised, realised_reduction
from steering.models import (
    ACTIVE_RECOMMENDATION,
    ProjectSteering,
    Recommendation,
    RecommendationStatus,
    RunModel,
)
from steering.selectors import PROVIDERS, registry_factors, registry_regions

WINDOW_DAYS = 90  # the advisor looks at the last 90 days of a project's data
PROOF_WINDOW_DAYS = 30  # before and after a recommendation is done
MIN_REASON = 5


class RecommendationError(Exception):
    pass


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _run(row: dict[str, Any]) -> Run:
    measured = {name: row[name] for name in RUN_MEASUREMENTS}
    attributes = run_attributes_merged(row["attributes"], row["machine__attributes"], measured, None, None)
    kg_location = float(row["kgco2e_location"] or 0.0)
    return Run(
        entry_id=row["id"],
        run_id=row["run_id"],
        experiment=row["experiment"],
        day=row["day"],
        duration_s=float(row["duration_s"] or 0.0),
        energy_kwh=float(row["energy_facility_kwh"] or 0.0),
        kg_location=kg_location,
        kg_market=float(row["kgco2e_market"] if row["kgco2e_market"] is not None else kg_location),
        provider=(row["provider"] or "").lower(),
        cloud_region=row["region"] or "",
        cpu_kwh=_float(attributes.get("cpu_energy_kwh")),
        gpu_kwh=_float(attributes.get("gpu_energy_kwh")),
        ram_kwh=_float(attributes.get("ram_energy_kwh")),
        cpu_utilization=_float(attributes.get("cpu_utilization_percent")),
        gpu_utilization=_float(attributes.get("gpu_utilization_percent")),
        ram_total_gb=_float(attributes.get("ram_total_size_gb")),
        ram_used_gb=_float(attributes.get("ram_used_gb")),
    )


_RUN_FIELDS = (
    "id",
    "run_id",
    "experiment",
    "day",
    "duration_s",
    "energy_facility_kwh",
    "kgco2e_location",
    "kgco2e_market",
    "provider",
    "region",
    "attributes",
    "machine__attributes",
    *RUN_MEASUREMENTS,
)


@dataclass(frozen=True)
class AdvisorInputs:
    start: dt.date
    end: dt.date
    runs: list[Run]
    compute_days: list[ComputeDay]
    model_runs: list[model_choice.ModelRun]
    factors: dict[tuple[str, str], float]
    non_production: bool
    tolerance: float

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _runs(project: Project, start: dt.date, end: dt.date) -> list[Run]:
    rows = LedgerEntry.objects.filter(project=project, source=Source.CODECARBON, day__gte=start, day__lte=end)
    return [_run(row) for row in rows.values(*_RUN_FIELDS).order_by("day", "id").iterator(chunk_size=5000)]


def _compute_days(project: Project, start: dt.date, end: dt.date) -> list[ComputeDay]:
    rows = LedgerEntry.objects.filter(
        project=project, source=Source.BILLING, resource_category="compute", day__gte=start, day__lte=end
    ).values(
        "id",
        "day",
        "usage_amount",
        "usage_unit",
        "energy_facility_kwh",
        "kgco2e_location",
        "kgco2e_market",
        "cost",
        "currency",
    )
    by_day: dict[dt.date, dict[str, Any]] = defaultdict(
        lambda: {"hours": 0.0, "kwh": 0.0, "kgl": 0.0, "kgm": 0.0, "cost": None, "currency": "", "ids": []}
    )
    for row in rows.iterator(chunk_size=5000):
        day = by_day[row["day"]]
        unit = (row["usage_unit"] or "").lower()
        if unit.startswith("h") or "hour" in unit:
            day["hours"] += float(row["usage_amount"] or 0.0)
        day["kwh"] += float(row["energy_facility_kwh"] or 0.0)
        location = float(row["kgco2e_location"] or 0.0)
        day["kgl"] += location
        day["kgm"] += float(row["kgco2e_market"] if row["kgco2e_market"] is not None else location)
        if row["cost"] is not None:
            day["cost"] = (day["cost"] or 0.0) + float(row["cost"])
            day["currency"] = day["currency"] or row["currency"]
        day["ids"].append(row["id"])
    return [
        ComputeDay(day, d["hours"], d["kwh"], d["kgl"], d["kgm"], d["cost"], d["currency"], tuple(d["ids"]))
        for day, d in sorted(by_day.items())
    ]


def _model_runs(project: Project) -> list[model_choice.ModelRun]:
    """Every tagged run, whenever it ran: model evaluations describe the model, not this month's load."""
    tags = {tag.run_id: tag for tag in RunModel.objects.filter(project=project)}
    if not tags:
        return []
    rows = LedgerEntry.objects.filter(project=project, source=Source.CODECARBON, run_id__in=list(tags)).values(
        "id", "run_id", "day", "energy_facility_kwh", "kgco2e_location", "kgco2e_market"
    )
    found = []
    for row in rows:
        tag = tags[row["run_id"]]
        location = float(row["kgco2e_location"] or 0.0)
        if not math.isfinite(tag.metric_value):
            continue
        found.append(
            model_choice.ModelRun(
                entry_id=row["id"],
                model=tag.model,
                metric_name=tag.metric_name,
                metric_value=tag.metric_value,
                higher_is_better=tag.higher_is_better,
                day=row["day"],
                energy_kwh=float(row["energy_facility_kwh"] or 0.0),
                kg_location=location,
                kg_market=float(row["kgco2e_market"] if row["kgco2e_market"] is not None else location),
            )
        )
    return found


def _factors(project: Project, runs: list[Run]) -> dict[tuple[str, str], float]:
    factors: dict[tuple[str, str], float] = {}
    for provider in sorted({run.provider for run in runs if run.provider in PROVIDERS}):
        regions = registry_regions(provider=provider)
        found = registry_factors(provider=provider, regions=regions, organisation_id=project.organisation_id)
        factors.update({(provider, name.lower()): item.g_co2e_per_kwh for name, item in found.items()})
    return factors


def advisor_inputs(*, project: Project) -> AdvisorInputs | None:
    """Up to the last WINDOW_DAYS of the project's data, ending at its latest ledger day; None without data."""
    latest = LedgerEntry.objects.filter(project=project).aggregate(day=Max("day"))["day"]
    if latest is None:
        return None
    # A project with less history is scaled over the days it has, not over an empty 90 days.
    earliest = LedgerEntry.objects.filter(
        project=project, day__gte=latest - dt.timedelta(days=WINDOW_DAYS - 1)
    ).aggregate(day=Min("day"))["day"]
    start = earliest or latest
    runs = _runs(project, start, latest)
    settings_row = ProjectSteering.objects.filter(project=project).first()
    return AdvisorInputs(
        start=start,
        end=latest,
        runs=runs,
        compute_days=_compute_days(project, start, latest),
        model_runs=_model_runs(project),
        factors=_factors(project, runs),
        non_production=bool(settings_row and settings_row.non_production),
        tolerance=(settings_row.quality_tolerance_percent if settings_row else 1.0) / 100,
    )


def findings_for(inputs: AdvisorInputs) -> list[Finding]:
    days = inputs.days
    findings: list[Finding] = []
    findings += idle.idle_runs(inputs.runs, days=days)
    always_on = idle.always_on(inputs.compute_days, non_production=inputs.non_production, days=days)
    findings += [always_on] if always_on else []
    findings += memory.oversized_memory(inputs.runs, days=days)
    findings += gpu.gpu_underuse(inputs.runs, days=days)
    findings += region.region_moves(inputs.runs, factors=inputs.factors, days=days)
    findings += model_choice.model_choice(inputs.model_runs, tolerance=inputs.tolerance, days=days, since=inputs.start)
    return findings


def _values(finding: Finding, inputs: AdvisorInputs) -> dict[str, Any]:
    return {
        "title": finding.title[:500],
        "action": finding.action,
        "method": finding.method,
        "assumptions": list(finding.assumptions),
        "details": finding.details,
        "evidence_entry_ids": list(finding.evidence_entry_ids),
        "saving_kwh_month": finding.saving.kwh,
        "saving_kg_location_month": finding.saving.kg_location,
        "saving_kg_market_month": finding.saving.kg_market,
        "saving_cost_month": finding.saving.cost,
        "currency": finding.saving.currency,
        "window_start": inputs.start,
        "window_end": inputs.end,
    }


@transaction.atomic
def recommendations_refresh(*, project: Project) -> list[Recommendation]:
    """Run every detector; update the active recommendation of each subject or open a new one.

    A subject dismissed or done before is not reopened (the team decided). Open recommendations whose finding is
    gone are removed: nobody acted on them and the data no longer supports them. Accepted ones stay.
    """
    inputs = advisor_inputs(project=project)
    findings = findings_for(inputs) if inputs is not None else []
    active = {
        (r.detector, r.subject): r
        for r in Recommendation.objects.select_for_update().filter(project=project, status__in=ACTIVE_RECOMMENDATION)
    }
    closed = set(
        Recommendation.objects.filter(project=project)
        .exclude(status__in=ACTIVE_RECOMMENDATION)
        .values_list("detector", "subject")
    )
    kept = []
    for finding in findings:
        key = (finding.detector, finding.subject[:300])
        values = _values(finding, inputs)  # type: ignore[arg-type]  # inputs is set when there are findings
        if key in active:
            item = active.pop(key)
            for name, value in values.items():
                setattr(item, name, value)
            item.save()
            kept.append(item)
        elif key not in closed:
            kept.append(Recommendation.objects.create(project=project, detector=key[0], subject=key[1], **values))
    stale = [item.pk for item in active.values() if item.status == RecommendationStatus.OPEN]
    Recommendation.objects.filter(pk__in=stale).delete()
    return kept


def recommendation_list(*, project: Project) -> QuerySet[Recommendation]:
    return Recommendation.objects.filter(project=project).order_by("-saving_kg_location_month", "pk")


def org_recommendation_list(*, access: OrgAccess, status: str = "") -> QuerySet[Recommendation]:
    """The organisation's recommendations the reader may see (engineers: their projects), largest saving first."""
    rows = Recommendation.objects.filter(project__in=access.visible_projects()).select_related("project")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-saving_kg_location_month", "pk")


def org_recommendation_totals(*, access: OrgAccess) -> dict[str, float]:
    rows = org_recommendation_list(access=access).filter(status__in=ACTIVE_RECOMMENDATION)
    sums = rows.aggregate(
        kwh=Sum("saving_kwh_month"), kg=Sum("saving_kg_location_month"), market=Sum("saving_kg_market_month")
    )
    return {key: float(value or 0.0) for key, value in sums.items()}


_TRANSITIONS = {
    RecommendationStatus.OPEN: {
        RecommendationStatus.ACCEPTED,
        RecommendationStatus.DONE,
        RecommendationStatus.DISMISSED,
    },
    RecommendationStatus.ACCEPTED: {
        RecommendationStatus.DONE,
        RecommendationStatus.DISMISSED,
        RecommendationStatus.OPEN,
    },
    RecommendationStatus.DONE: set(),
    RecommendationStatus.DISMISSED: {RecommendationStatus.OPEN},
}


@transaction.atomic
def recommendation_status_set(
    *, recommendation: Recommendation, status: str, reason: str, actor: User | None
) -> Recommendation:
    """Move a recommendation along open → accepted → done / dismissed (a dismissal needs a reason); audited."""
    item = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
    target = RecommendationStatus(status)
    reason = (reason or "").strip()
    if target not in _TRANSITIONS[RecommendationStatus(item.status)]:
        raise RecommendationError(
            f"A recommendation that is {item.get_status_display().lower()} cannot become {target.label.lower()}."
        )
    if target == RecommendationStatus.DISMISSED and len(reason) < MIN_REASON:
        raise RecommendationError("Say why the recommendation is dismissed (at least five characters).")
    if (
        target in ACTIVE_RECOMMENDATION
        and Recommendation.objects.filter(
            project=item.project, detector=item.detector, subject=item.subject, status__in=ACTIVE_RECOMMENDATION
        )
        .exclude(pk=item.pk)
        .exists()
    ):
        raise RecommendationError("A newer recommendation for the same subject is already open.")
    before = {"status": item.status}
    now = timezone.now()
    item.status, item.status_reason = target, reason
    item.status_changed_at, item.status_changed_by = now, actor if actor and actor.is_authenticated else None
    if target == RecommendationStatus.DONE:
        item.done_at = now
    item.save()
    audit_log_write(
        organisation=item.project.organisation,
        actor=actor,
        action=f"recommendation.{target.value}",
        object_type="recommendation",
        object_id=str(item.pk),
        before=before,
        after={"status": target.value, "title": item.title, "saving_kg_location_month": item.saving_kg_location_month},
        reason=reason,
    )
    return item


# ---------------------------------------------------------------------------------------------- proof


def _scope(item: Recommendation) -> QuerySet[LedgerEntry]:
    """The ledger rows the recommendation is about, outside any window: the same experiment (and region), the
    model's runs, or the project's billed compute."""
    rows = LedgerEntry.objects.filter(project=item.project)
    if item.detector == "always_on":
        return rows.filter(source=Source.BILLING, resource_category="compute")
    rows = rows.filter(source=Source.CODECARBON)
    if item.detector == "model_choice":
        run_ids = RunModel.objects.filter(project=item.project, metric_name=item.details.get("metric", "")).values(
            "run_id"
        )
        return rows.filter(run_id__in=run_ids)
    experiment = str(item.details.get("experiment", item.subject))
    return rows.filter(experiment="" if experiment == "(no experiment)" else experiment)


def recommendation_realised(*, recommendation: Recommendation) -> Realised | None:
    """kgCO2e (location-based) per run — per day for billed compute — in the 30 days before and after done."""
    if recommendation.done_at is None:
        return None
    done_day = recommendation.done_at.astimezone(dt.UTC).date()
    before_start = done_day - dt.timedelta(days=PROOF_WINDOW_DAYS)
    after_end = done_day + dt.timedelta(days=PROOF_WINDOW_DAYS)
    rows = _scope(recommendation).filter(day__gte=before_start, day__lte=after_end)
    if recommendation.detector == "always_on":
        daily = rows.values("day").annotate(kg=Sum("kgco2e_location")).values_list("day", "kg")
        before = [float(kg or 0.0) for day, kg in daily if day < done_day]
        after = [float(kg or 0.0) for day, kg in daily if day > done_day]
        return realised_reduction(before, after, unit="day")
    pairs = list(rows.values_list("day", "kgco2e_location"))
    before = [float(kg or 0.0) for day, kg in pairs if day < done_day]
    after = [float(kg or 0.0) for day, kg in pairs if day > done_day]
    return realised_reduction(before, after, unit="run")


def realised_per_month(*, recommendation: Recommendation, realised: Realised) -> float:
    """The per-unit reduction × units per month after the change (runs or days observed after it)."""
    if realised.unit == "day":
        return realised.reduction * DAYS_PER_MONTH
    done_day = recommendation.done_at.astimezone(dt.UTC).date()  # type: ignore[union-attr]
    latest = _scope(recommendation).filter(day__gt=done_day).aggregate(day=Max("day"))["day"]
    observed = max(1, min(PROOF_WINDOW_DAYS, (latest - done_day).days if latest else 1))
    return per_month(realised.reduction * realised.n_after, observed)


def recommendation_payload(item: Recommendation) -> dict[str, Any]:
    """One recommendation as the API, the `advise` command and the CI gate print it."""
    realised = recommendation_realised(recommendation=item)
    return {
        "id": item.pk,
        "project": str(item.project),
        "detector": item.detector,
        "subject": item.subject,
        "title": item.title,
        "action": item.action,
        "status": item.status,
        "status_reason": item.status_reason,
        "saving_per_month": {
            "kwh": item.saving_kwh_month,
            "kgco2e_location": item.saving_kg_location_month,
            "kgco2e_market": item.saving_kg_market_month,
            "cost": item.saving_cost_month,
            "currency": item.currency or None,
        },
        "method": item.method,
        "assumptions": item.assumptions,
        "window": {"start": item.window_start.isoformat(), "end": item.window_end.isoformat()},
        "evidence_entry_ids": item.evidence_entry_ids,
        "done_at": item.done_at.isoformat() if item.done_at else None,
        "realised": None
        if realised is None
        else {
            "unit": realised.unit,
            "n_before": realised.n_before,
            "n_after": realised.n_after,
            "kgco2e_per_unit_before": realised.mean_before,
            "kgco2e_per_unit_after": realised.mean_after,
            "reduction_per_unit": realised.reduction,
            "ci95": [realised.ci_low, realised.ci_high],
            "kgco2e_per_month": realised_per_month(recommendation=item, realised=realised),
        },
    }


def recommendation_top(*, project: Project) -> Recommendation | None:
    """The open or accepted recommendation with the largest saving: what the CI gate prints when a budget is at risk."""
    return (
        Recommendation.objects.filter(project=project, status__in=ACTIVE_RECOMMENDATION)
        .order_by("-saving_kg_location_month", "pk")
        .first()
    )
