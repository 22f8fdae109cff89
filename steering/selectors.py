"""Reads for budgets, the CI gate, region advice, SCI and the model-choice view.

Budget use comes from the daily rollup (LedgerDaily, in-inventory rows only): one indexed aggregate per budget,
and the same rows the dashboards total, so a budget never disagrees with the project page.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Max, Sum
from django.utils import timezone

from greenesg.accounts.access import OrgAccess
from greenesg.accounts.models import Project
from greenesg.footprint.factor_seed import canonical_azure_region
from greenesg.footprint.factors import visible_factors
from greenesg.footprint.models import EmissionFactor, FactorSetStatus, LedgerDaily, LedgerEntry
from greenesg.footprint.vocabulary import Source
from greenesg.lib.residency import ANY, SAME, residency_allows, residency_area
from steering import advice, budget, pareto, sci
from steering.grid_intensity import LiveProviderError, live_factors, live_provider_configured
from steering.models import Basis, Budget, OrgTarget, RegionMove, RunModel, UnitCount

PROVIDERS = ("aws", "gcp", "azure")
_BASIS_COLUMN = {Basis.LOCATION: "kgco2e_location", Basis.MARKET: "kgco2e_market"}


def today_utc() -> dt.date:
    # Ledger days are UTC days of period_end, so "today" must be the UTC day too.
    return timezone.now().astimezone(dt.UTC).date()


# ---------------------------------------------------------------------------------------------- budgets


def _daily(project: Project, period: budget.Period) -> Any:
    return LedgerDaily.objects.filter(project=project, in_inventory=True, day__gte=period.start, day__lte=period.end)


def budget_used_kg(*, project: Project, period: budget.Period, basis: str) -> float:
    column = _BASIS_COLUMN[Basis(basis)]
    return float(_daily(project, period).aggregate(kg=Sum(column))["kg"] or 0.0)


def budget_daily_kg(*, project: Project, period: budget.Period, basis: str) -> dict[dt.date, float]:
    column = _BASIS_COLUMN[Basis(basis)]
    rows = _daily(project, period).values("day").annotate(kg=Sum(column)).order_by("day")
    return {row["day"]: float(row["kg"] or 0.0) for row in rows}


def budget_get(*, project: Project, period: budget.Period) -> Budget | None:
    return Budget.objects.filter(project=project, period=period.key).first()


def budget_current(*, project: Project, today: dt.date) -> Budget | None:
    """The budget covering today, the most specific first (a month before its quarter before its year)."""
    for kind in ("month", "quarter", "year"):
        found = budget_get(project=project, period=budget.Period.containing(today, kind))
        if found is not None:
            return found
    return None


def job_max_run_kg(*, project: Project, job_id: Any, basis: str) -> float | None:
    """The largest run of an import job (codecarbon run rows; task rows are parts of runs)."""
    column = _BASIS_COLUMN[Basis(basis)]
    result = LedgerEntry.objects.filter(project=project, import_job_id=job_id, source=Source.CODECARBON).aggregate(
        kg=Max(column)
    )
    return None if result["kg"] is None else float(result["kg"])


def budget_status_for(*, item: Budget, today: dt.date, run_kg: float | None = None) -> budget.BudgetStatus:
    period = budget.period_parse(item.period)
    used = budget_used_kg(project=item.project, period=period, basis=item.basis)
    return budget.budget_status(
        budget_kg=item.kg, used_kg=used, period=period, today=today, run_kg=run_kg, run_limit_kg=item.run_limit_kg
    )


def budget_list(*, project: Project) -> list[Budget]:
    return list(Budget.objects.filter(project=project).select_related("project").order_by("-period"))


@dataclass(frozen=True)
class BudgetRow:
    project: Project
    item: Budget | None
    status: budget.BudgetStatus | None


def org_budget_table(*, access: OrgAccess, period: budget.Period, today: dt.date) -> list[BudgetRow]:
    """One row per visible project for a period, with its status when it has a budget."""
    budgets = {
        b.project_id: b
        for b in Budget.objects.filter(project__organisation=access.organisation, period=period.key).select_related(
            "project"
        )
    }
    rows = []
    for project in access.visible_projects().order_by("name"):
        item = budgets.get(project.pk)
        rows.append(BudgetRow(project, item, budget_status_for(item=item, today=today) if item else None))
    return rows


def org_target_get(*, access: OrgAccess) -> OrgTarget | None:
    return OrgTarget.objects.filter(organisation=access.organisation).prefetch_related("shares").first()


def base_year_kg_by_project(*, access: OrgAccess, year: int, basis: str) -> dict[int, float]:
    column = _BASIS_COLUMN[Basis(basis)]
    rows = (
        LedgerDaily.objects.filter(
            organisation=access.organisation, project__isnull=False, in_inventory=True, day__year=year
        )
        .values("project_id")
        .annotate(kg=Sum(column))
        .order_by()
    )
    return {row["project_id"]: float(row["kg"] or 0.0) for row in rows}


# ---------------------------------------------------------------------------------------------- regions


def region_zone(provider: str, region: str) -> str:
    """The registry's zone key for a cloud region (Azure names canonicalised, e.g. "West Europe" → westeurope)."""
    name = region.strip()
    if provider == "azure":
        name = canonical_azure_region(name) or "".join(name.lower().split())
    return f"{provider}/{name.lower()}"


def registry_factors(
    *, provider: str, regions: list[str], organisation_id: int | None = None
) -> dict[str, advice.RegionFactor]:
    """Latest vintage per zone from the active sets the organisation sees (its own overrides first, then the
    newest set version within a vintage); without an organisation, the global sets only.

    Provider "Unknown" means are never offered: ranking against an average would hide an unmapped region.
    """
    zones = {region_zone(provider, region): region for region in regions}
    rows = (
        visible_factors(organisation_id)
        .filter(zone__in=list(zones), is_fallback_mean=False)
        .select_related("factor_set")
        .order_by("zone", "-vintage_year", F("factor_set__organisation").desc(nulls_last=True), "-factor_set__version")
    )
    found: dict[str, advice.RegionFactor] = {}
    for row in rows:
        region = zones[row.zone]
        if region not in found:
            found[region] = advice.RegionFactor(
                region, row.g_co2e_per_kwh, advice.SOURCE_REGISTRY, f"{row.factor_set.label}, {row.vintage_year}"
            )
    return found


def registry_regions(*, provider: str) -> list[str]:
    """Every region of a provider the active registry knows (the Unknown mean excluded)."""
    zones = (
        EmissionFactor.objects.filter(
            zone__startswith=f"{provider}/", factor_set__status=FactorSetStatus.ACTIVE, is_fallback_mean=False
        )
        .values_list("zone", flat=True)
        .distinct()
    )
    return sorted({zone.partition("/")[2] for zone in zones})


def project_region_comparison(
    *, project: Project, period: budget.Period, alternatives: int = 5
) -> list[dict[str, Any]]:
    """Per (provider, region) the project used: what the same energy would have emitted in the cleanest regions
    of the same provider and residency area (none when the region cannot be placed: never cross a border)."""
    rows = []
    for usage in project_cloud_usage(project=project, period=period):
        provider, energy, actual = usage["provider"], float(usage["energy_kwh"] or 0.0), float(usage["kg"] or 0.0)
        here = region_zone(provider, usage["region"])
        regions = [
            r
            for r in registry_regions(provider=provider)
            if region_zone(provider, r) != here
            and residency_allows(SAME, provider=provider, current=usage["region"], candidate=r)
        ]
        factors = registry_factors(provider=provider, regions=regions, organisation_id=project.organisation_id)
        ranking = advice.rank_regions(regions, factors)
        options = advice.counterfactuals(energy_kwh=energy, actual_kg=actual, ranking=ranking)
        rows.append(
            {
                **usage,
                "energy_kwh": energy,
                "kg": actual,
                "area": residency_area(provider, usage["region"]),
                "alternatives": options[:alternatives],
            }
        )
    return rows


@dataclass(frozen=True)
class RegionAdvice:
    provider: str
    ranking: advice.Ranking
    source: str
    live_error: str
    residency: str = ANY
    excluded: list[tuple[str, str | None]] = field(default_factory=list)  # (region, area) left out by residency


def region_advice(
    *, provider: str, candidates: list[str], live: bool = True, residency: str = ANY, current: str = ""
) -> RegionAdvice:
    """Rank candidates live when a provider is configured, else (or when it fails) by the registry.

    The residency filter (any, same as `current`'s area, EU only) is applied first, so a live provider is never
    asked about a region the caller may not use.
    """
    allowed = [c for c in candidates if residency_allows(residency, provider=provider, current=current, candidate=c)]
    excluded = [(c, residency_area(provider, c)) for c in candidates if c not in allowed]
    error = ""
    if live and live_provider_configured() and allowed:
        try:
            factors = live_factors(provider=provider, regions=allowed)
            ranking = advice.rank_regions(allowed, factors)
            return RegionAdvice(provider, ranking, advice.SOURCE_LIVE, "", residency, excluded)
        except LiveProviderError as exc:
            error = str(exc)[:300]
    factors = registry_factors(provider=provider, regions=allowed)
    ranking = advice.rank_regions(allowed, factors)
    return RegionAdvice(provider, ranking, advice.SOURCE_REGISTRY, error, residency, excluded)


def project_cloud_usage(*, project: Project, period: budget.Period) -> list[dict[str, Any]]:
    """Facility energy and location-based kg per (provider, region) of the project's in-inventory records."""
    rows = (
        _daily(project, period)
        .exclude(provider="")
        .exclude(region="")
        .values("provider", "region")
        .annotate(energy_kwh=Sum("energy_facility_kwh"), kg=Sum("kgco2e_location"))
        .order_by("-kg")
    )
    return [{**row, "provider": row["provider"].lower()} for row in rows if row["provider"].lower() in PROVIDERS]


LOAD_MONTHS = 3


def last_full_months(today: dt.date, count: int = LOAD_MONTHS) -> list[budget.Period]:
    """The `count` whole calendar months before today's month, oldest first (today's month is still filling)."""
    months: list[budget.Period] = []
    day = today
    for _ in range(count):
        month = budget.Period.containing(budget.Period.containing(day, "month").start - dt.timedelta(days=1), "month")
        months.insert(0, month)
        day = month.start
    return months


def project_region_monthly_kwh(
    *, project: Project, provider: str, region: str, months: list[budget.Period]
) -> list[tuple[budget.Period, float]]:
    """Facility kWh of the project's in-inventory records in one provider region, per month (zero when idle).

    Regions are compared by registry zone, so an Azure display name ("West Europe") counts as westeurope.
    """
    zone = region_zone(provider, region)
    window = LedgerDaily.objects.filter(
        project=project, in_inventory=True, day__gte=months[0].start, day__lte=months[-1].end, provider__iexact=provider
    )
    names = [r for r in window.values_list("region", flat=True).distinct() if region_zone(provider, r) == zone]
    totals = []
    for month in months:
        kwh = (
            _daily(project, month)
            .filter(provider__iexact=provider, region__in=names)
            .aggregate(kwh=Sum("energy_facility_kwh"))["kwh"]
        )
        totals.append((month, float(kwh or 0.0)))
    return totals


@dataclass(frozen=True)
class CandidateAdvice:
    provider: str
    current_region: str
    residency: str
    current: advice.RegionFactor | None
    monthly_kwh: list[tuple[budget.Period, float]]
    kwh_per_month: float
    savings: list[advice.CandidateSaving]  # cleanest first, residency filter applied
    excluded: list[tuple[str, str | None]]  # (region, residency area) left out by the filter
    unmapped: list[str]


def project_candidate_savings(
    *, project: Project, provider: str, current_region: str, candidates: list[str], residency: str, today: dt.date
) -> CandidateAdvice:
    """Rank my candidate regions by the monthly saving on the project's actual load in its current region.

    The load is the mean facility kWh per month over the last three whole months; the saving per candidate is
    that load × (current factor − candidate factor). Candidates outside the residency filter are listed apart.
    """
    allowed = [
        c for c in candidates if residency_allows(residency, provider=provider, current=current_region, candidate=c)
    ]
    excluded = [(c, residency_area(provider, c)) for c in candidates if c not in allowed]
    factors = registry_factors(
        provider=provider, regions=[current_region, *allowed], organisation_id=project.organisation_id
    )
    monthly = project_region_monthly_kwh(
        project=project, provider=provider, region=current_region, months=last_full_months(today)
    )
    kwh_per_month = sum(kwh for _, kwh in monthly) / len(monthly)
    current = factors.get(current_region)
    ranking = advice.rank_regions(allowed, {r: f for r, f in factors.items() if r in allowed})
    savings = advice.monthly_savings(kwh_per_month=kwh_per_month, current=current, ranking=ranking) if current else []
    return CandidateAdvice(
        provider=provider,
        current_region=current_region,
        residency=residency,
        current=current,
        monthly_kwh=monthly,
        kwh_per_month=kwh_per_month,
        savings=savings,
        excluded=excluded,
        unmapped=ranking.unmapped if current else allowed,
    )


def region_move_list(*, project: Project) -> list[RegionMove]:
    return list(RegionMove.objects.filter(project=project).select_related("created_by"))


# ---------------------------------------------------------------------------------------------- SCI


def sci_trend(*, project: Project) -> list[dict[str, Any]]:
    """SCI per period that has a unit count, oldest first, from the project's in-inventory ledger figures."""
    points = []
    for count in UnitCount.objects.filter(project=project).order_by("period"):
        period = budget.period_parse(count.period)
        sums = _daily(project, period).aggregate(
            e=Sum("energy_facility_kwh"), kg=Sum("kgco2e_location"), m=Sum("kgco2e_embodied")
        )
        energy = float(sums["e"] or 0.0)
        intensity = sci.intensity_used(kgco2e_location=float(sums["kg"] or 0.0), energy_kwh=energy)
        result = sci.sci_compute(
            energy_kwh=energy, intensity_kg_per_kwh=intensity, embodied_kg=float(sums["m"] or 0.0), units=count.count
        )
        points.append({"period": period.key, "start": period.start, "result": result})
    return points


# ---------------------------------------------------------------------------------------------- models


def run_model_points(*, project: Project) -> list[dict[str, Any]]:
    """Runs with a model tag and their kgCO2e (location-based), flagged on or off the Pareto front.

    Each metric is its own comparison: a run scored by accuracy cannot dominate one scored by loss.
    """
    tags = {tag.run_id: tag for tag in RunModel.objects.filter(project=project)}
    kg_by_run = dict(
        LedgerEntry.objects.filter(project=project, source=Source.CODECARBON, run_id__in=list(tags)).values_list(
            "run_id", "kgco2e_location"
        )
    )
    groups: dict[tuple[str, bool], list[pareto.Point]] = {}
    for run_id, tag in tags.items():
        kg = kg_by_run.get(run_id)
        if kg is None or not math.isfinite(kg) or not math.isfinite(tag.metric_value):
            continue
        groups.setdefault((tag.metric_name, tag.higher_is_better), []).append(
            pareto.Point(run_id, kg, tag.metric_value)
        )
    rows = []
    for (metric, higher), points in sorted(groups.items()):
        for ranked in pareto.pareto_front(points, higher):
            tag = tags[ranked.point.key]
            rows.append(
                {
                    "run_id": tag.run_id,
                    "model": tag.model,
                    "metric_name": metric,
                    "higher_is_better": higher,
                    "metric_value": tag.metric_value,
                    "kg": ranked.point.kg,
                    "on_front": ranked.on_front,
                    "dominated_by": ranked.dominated_by,
                    "source": tag.source,
                }
            )
    return rows
