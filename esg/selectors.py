"""Reads for the ESG pages, API and command: metric rows per period, completeness, trends, scorecards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.apps import apps
from django.core.exceptions import FieldError
from django.db import DatabaseError, transaction
from django.db.models import QuerySet, Sum

from esg import formulas
from esg.catalogue import Metric, catalogue
from esg.models import (
    AccessibilityReport,
    EsgSettings,
    MetricValue,
    ModelReview,
    PeriodStatus,
    ReportingPeriod,
    ValueStatus,
)
from greenesg.accounts.models import AuditLog, Organisation, Project
from greenesg.footprint.models import LedgerDaily
from greenesg.footprint.vocabulary import Method
from greenesg.lib.periods import Period  # the shared model: never reads ESG's `end`, so report periods pass too

VALUE_OBJECT_TYPE = "esg_value"
# Status of a figure derived from the footprint ledger: it has no approval step of its own.
LEDGER_STATUS = "computed"
ESTIMATED_METHODS = (Method.MODELLED, Method.EXTRAPOLATED, Method.SPEND_BASED)


def value_object_id(period: str, code: str) -> str:
    """The audit-log id of a datapoint: stable across delete and re-entry, so its history is one trail."""
    return f"{period}/{code}"


# ------------------------------------------------------------------------------------------ periods


def period_lock_row(organisation: Organisation, period: Period) -> ReportingPeriod | None:
    """The closed row that locks this period (its own, or its year's), if any."""
    keys = {period.key, period.year_period.key}
    return (
        ReportingPeriod.objects.filter(organisation=organisation, period__in=keys, status=PeriodStatus.CLOSED)
        .order_by("period")
        .first()
    )


def period_locked(organisation: Organisation, period: Period) -> bool:
    return period_lock_row(organisation, period) is not None


def locked_period_keys(organisation: Organisation) -> set[str]:
    closed = set(
        ReportingPeriod.objects.filter(organisation=organisation, status=PeriodStatus.CLOSED).values_list(
            "period", flat=True
        )
    )
    # A closed year locks its quarters as well.
    return closed | {f"{key}-Q{q}" for key in closed if len(key) == 4 for q in range(1, 5)}


# ------------------------------------------------------------------------------------------- values


def stored_values(organisation: Organisation, period_key: str) -> dict[str, MetricValue]:
    rows = MetricValue.objects.filter(organisation=organisation, period=period_key).select_related(
        "submitted_by", "approved_by"
    )
    return {row.metric_code: row for row in rows}


def existing_floats(organisation: Organisation, period_keys: Iterable[str]) -> dict[str, dict[str, float]]:
    """Stored, not rejected values per period: what consistency checks compare new input with."""
    result: dict[str, dict[str, float]] = {}
    rows = (
        MetricValue.objects.filter(organisation=organisation, period__in=list(period_keys))
        .exclude(status=ValueStatus.REJECTED)
        .values_list("period", "metric_code", "value")
    )
    for period, code, value in rows:
        result.setdefault(period, {})[code] = float(value)
    return result


def value_history(organisation: Organisation, period_key: str, code: str) -> QuerySet[AuditLog]:
    return AuditLog.objects.filter(
        organisation=organisation, object_type=VALUE_OBJECT_TYPE, object_id=value_object_id(period_key, code)
    )


@dataclass
class MetricRow:
    metric: Metric
    value: float | None
    status: str  # missing, submitted, approved (entered/computed) or "computed" (from the ledger)
    source: str
    record: MetricValue | None = None
    note: str = ""

    @property
    def code(self) -> str:
        return self.metric.code

    def as_dict(self) -> dict[str, Any]:
        m = self.metric
        return {
            "code": m.code,
            "name": m.name,
            "pillar": m.pillar,
            "level": m.level,
            "type": m.type,
            "unit": m.unit,
            "value": self.value,
            "status": self.status,
            "source": self.source,
            "reference": m.reference,
            "note": self.note,
            "evidence": self.record.evidence if self.record else "",
            "submitted_by": self.record.submitted_by.get_username()
            if self.record and self.record.submitted_by
            else None,
            "approved_by": self.record.approved_by.get_username() if self.record and self.record.approved_by else None,
        }


def _entered_row(metric: Metric, record: MetricValue | None) -> MetricRow:
    if record is None:
        return MetricRow(metric, None, "missing", "entered")
    if record.status == ValueStatus.REJECTED:
        return MetricRow(metric, None, "missing", record.source, record, note=f"rejected: {record.rejection_reason}")
    return MetricRow(metric, float(record.value), record.status, record.source, record)


def _computed_row(metric: Metric, inputs: list[MetricRow]) -> MetricRow:
    missing = [row.code for row in inputs if row.value is None]
    if missing:
        return MetricRow(metric, None, "missing", "computed", note=f"needs {', '.join(missing)}")
    value = formulas.FORMULAS[metric.formula](*[row.value for row in inputs])
    if value is None:
        return MetricRow(metric, None, "missing", "computed", note="undefined: the denominator is 0")
    # A computed figure is only as approved (and as complete) as the least approved of its inputs.
    status = min((row.status for row in inputs), key=lambda st: _STATUS_RANK.get(st, 0))
    if status not in ("partial", "approved"):
        status = "submitted"
    return MetricRow(metric, value, status, "computed", note=f"= {metric.formula}({', '.join(metric.inputs)})")


_STATUS_RANK = {"missing": 0, "partial": 1, "submitted": 2, "approved": 3}


def _aggregate(metric: Metric, quarters: list[tuple[str, MetricRow]]) -> MetricRow:
    """A year or year-to-date value from its quarters, by the metric's catalogue rule (sum, end or mean)."""
    present = [(key, row) for key, row in quarters if row.value is not None]
    missing = [key.rsplit("-", 1)[-1] for key, row in quarters if row.value is None]
    if not present:
        return MetricRow(metric, None, "missing", "entered", note=f"no quarter entered ({', '.join(missing)})")
    values = [row.value for _, row in present if row.value is not None]
    value: float | None
    if metric.aggregate == "sum":
        value = sum(values)
    elif metric.aggregate == "mean":
        value = sum(values) / len(values)
    else:  # "end": the stock at the end of the window, i.e. its last quarter
        value = present[-1][1].value
    # "end" needs the window's last quarter; sum and mean need every quarter to be complete.
    incomplete = missing and (metric.aggregate != "end" or quarters[-1][1].value is None)
    least = min((row.status for _, row in present), key=lambda status: _STATUS_RANK.get(status, 0))
    status = "partial" if incomplete else least
    note = f"{metric.aggregate} of {len(present)} of {len(quarters)} quarters"
    if missing:
        note += f"; missing {', '.join(missing)}"
    return MetricRow(metric, value, status, "entered", note=note)


def _entered_rows(organisation: Organisation, period: Period, metrics: list[Metric]) -> dict[str, MetricRow]:
    """Entered metrics for a quarter or a year as stored; for a year without its own value and for a
    year to date, aggregated from the quarters (a value entered for the whole year wins over its quarters)."""
    own = stored_values(organisation, period.key) if not period.is_ytd else {}
    if period.quarter is not None:
        return {m.code: _entered_row(m, own.get(m.code)) for m in metrics}
    by_quarter = {q.key: stored_values(organisation, q.key) for q in period.quarters}
    rows: dict[str, MetricRow] = {}
    for metric in metrics:
        if metric.code in own and own[metric.code].status != ValueStatus.REJECTED:
            rows[metric.code] = _entered_row(metric, own[metric.code])
            continue
        quarters = [(key, _entered_row(metric, values.get(metric.code))) for key, values in by_quarter.items()]
        rows[metric.code] = _aggregate(metric, quarters)
    return rows


def metric_rows(organisation: Organisation, period: Period) -> list[MetricRow]:
    """Every organisation-level metric of the catalogue for the period, in catalogue order."""
    cat = catalogue()
    ledger = ledger_metrics(organisation, period)
    rows: dict[str, MetricRow] = _entered_rows(
        organisation, period, [m for m in cat.organisation_metrics() if m.is_entered]
    )
    for metric in cat.organisation_metrics():
        if metric.is_entered:
            continue
        if metric.source == "ledger":
            value = ledger.get(metric.ledger)
            rows[metric.code] = MetricRow(metric, value, "missing" if value is None else LEDGER_STATUS, "ledger")
    for metric in cat.organisation_metrics():
        if metric.is_computed:
            rows[metric.code] = _computed_row(metric, [rows[code] for code in metric.inputs])
    return [rows[m.code] for m in cat.organisation_metrics()]


def completeness(rows: Iterable[MetricRow]) -> dict[str, Any]:
    required = [row for row in rows if row.metric.required]
    # A year value built from some of its quarters is not complete yet: it counts as missing here.
    missing = [row for row in required if row.status in ("missing", "partial")]
    done = len(required) - len(missing)
    return {
        "required": len(required),
        "present": done,
        "missing": missing,
        "percent": done / len(required) * 100 if required else 100.0,
    }


def trends(organisation: Organisation, period: Period, count: int = 4) -> dict[str, list[tuple[str, float | None]]]:
    """code → [(period, value)] over this period and the ones before it, for E, S and G trend tables."""
    series: dict[str, list[tuple[str, float | None]]] = {}
    for past in period.history(count):
        for row in metric_rows(organisation, past):
            series.setdefault(row.code, []).append((past.key, row.value))
    return series


# ------------------------------------------------------------------------------------------- ledger


def _ledger(organisation: Organisation, period: Period) -> QuerySet[LedgerDaily]:
    return LedgerDaily.objects.filter(
        organisation=organisation, day__gte=period.start, day__lt=period.end_exclusive, in_inventory=True
    )


def ledger_metrics(organisation: Organisation, period: Period) -> dict[str, float | None]:
    """E1-5/E1-6 figures from the daily rollup (kg → t ÷ 1000, kWh → MWh ÷ 1000; docs/esrs.md §8)."""
    rows = list(
        _ledger(organisation, period)
        .values("scope", "category", "project_id")
        .annotate(kwh=Sum("energy_facility_kwh"), loc=Sum("kgco2e_location"), mkt=Sum("kgco2e_market"))
    )
    if not rows:
        return {}

    def total(
        field_name: Literal["kwh", "loc", "mkt"], *, scopes: tuple[int, ...], category: str | None = None
    ) -> float:
        return sum(
            r[field_name] or 0.0
            for r in rows
            if r["scope"] in scopes and (category is None or r["category"] == category)
        )

    s1, s3 = total("loc", scopes=(1,)) / 1000, total("loc", scopes=(3,)) / 1000
    s2_loc, s2_mkt = total("loc", scopes=(2,)) / 1000, total("mkt", scopes=(2,)) / 1000
    all_kg = total("loc", scopes=(1, 2, 3))
    unallocated = sum(r["loc"] or 0.0 for r in rows if r["project_id"] is None)
    return {
        # E1 AR 32 / AR 51: own operations only; public cloud (Scope 3 cat. 1.1) is not E1-5 energy.
        "energy_own": total("kwh", scopes=(1, 2)) / 1000,
        "scope1": s1,
        "scope2_location": s2_loc,
        "scope2_market": s2_mkt,
        "scope3": s3,
        "scope3_cat1_1": total("loc", scopes=(3,), category="1.1") / 1000,
        "total_location": s1 + s2_loc + s3,
        "total_market": s1 + s2_mkt + s3,
        "unallocated_share": formulas.share(unallocated, all_kg),
    }


# ---------------------------------------------------------------------------------------- scorecard


@dataclass
class Scorecard:
    project: Project
    period: Period
    codecarbon_kwh: float = 0.0
    billed_kwh: float = 0.0
    coverage: float | None = None
    used_kg: float = 0.0
    budget: dict[str, Any] = field(default_factory=dict)
    approved_regions: list[str] = field(default_factory=list)
    approved_share: float | None = None
    region_kg: dict[str, float] = field(default_factory=dict)
    method_shares: dict[str, float] = field(default_factory=dict)
    estimated_share: float | None = None
    accessibility: list[AccessibilityReport] = field(default_factory=list)
    reviews: list[ModelReview] = field(default_factory=list)

    @property
    def latest_accessibility(self) -> AccessibilityReport | None:
        return self.accessibility[0] if self.accessibility else None


def approved_regions(organisation: Organisation) -> list[str]:
    settings_row = EsgSettings.objects.filter(organisation=organisation).first()
    return list(settings_row.approved_regions) if settings_row else []


def _region_key(provider: str, region: str) -> str:
    return f"{provider}/{region}" if provider and region else region or "(unknown)"


def region_in(provider: str, region: str, approved: Iterable[str]) -> bool:
    """An approved entry matches the bare region ("eu-north-1") or provider/region ("aws/eu-north-1")."""
    wanted = {entry.strip().lower() for entry in approved}
    return bool(region) and (region.lower() in wanted or f"{provider}/{region}".lower() in wanted)


def budget_cell(project: Project, period: Period, used_location_kg: float, used_market_kg: float) -> dict[str, Any]:
    """Budget adherence from the steering app's budgets, read lazily: that app may not have them yet."""
    na = {"percent": None, "budget_kg": None, "basis": "", "note": "n/a until budgets exist"}
    try:
        budget_model = apps.get_model("steering", "Budget")
    except LookupError:
        return na
    try:
        with transaction.atomic():  # a savepoint, so a failed read cannot poison the request's transaction
            budget = budget_model.objects.filter(project=project, period=period.key).first()
    except (FieldError, ValueError, TypeError, DatabaseError):
        return {**na, "note": "n/a: the budget model cannot be read by period yet"}
    kg = getattr(budget, "kg", None)
    if budget is None or kg is None:
        return {**na, "note": f"n/a: no budget for {period.key}"}
    basis = getattr(budget, "basis", "location")
    used = used_market_kg if basis == "market" else used_location_kg
    return {"percent": formulas.budget_used(used, float(kg)), "budget_kg": float(kg), "basis": basis, "note": ""}


def project_scorecard(project: Project, period: Period) -> Scorecard:
    card = Scorecard(project=project, period=period, approved_regions=approved_regions(project.organisation))
    daily = LedgerDaily.objects.filter(project=project, day__gte=period.start, day__lt=period.end_exclusive)
    by_source = dict(daily.values_list("source").annotate(kwh=Sum("energy_facility_kwh")))
    # codecarbon task rows repeat their run's energy, so only run rows count as measured.
    card.codecarbon_kwh, card.billed_kwh = by_source.get("codecarbon") or 0.0, by_source.get("billing") or 0.0
    card.coverage = formulas.measurement_coverage(card.codecarbon_kwh, card.billed_kwh)
    inventory = list(
        daily.filter(in_inventory=True)
        .values("provider", "region", "method")
        .annotate(kg=Sum("kgco2e_location"), mkt=Sum("kgco2e_market"))
    )
    card.used_kg = sum(row["kg"] or 0.0 for row in inventory)
    methods: dict[str, float] = {}
    for row in inventory:
        methods[row["method"]] = methods.get(row["method"], 0.0) + (row["kg"] or 0.0)
        key = _region_key(row["provider"], row["region"])
        card.region_kg[key] = card.region_kg.get(key, 0.0) + (row["kg"] or 0.0)
    card.method_shares = formulas.shares(methods)
    if card.method_shares:
        card.estimated_share = sum(card.method_shares.get(m, 0.0) for m in ESTIMATED_METHODS)
    if card.approved_regions and card.used_kg > 0:
        inside = sum(
            row["kg"] or 0.0 for row in inventory if region_in(row["provider"], row["region"], card.approved_regions)
        )
        card.approved_share = formulas.share(inside, card.used_kg)
    used_market = sum(row["mkt"] or 0.0 for row in inventory)
    card.budget = budget_cell(project, period, card.used_kg, used_market)
    end = dt.datetime.combine(period.end_exclusive, dt.time.min, tzinfo=dt.UTC)
    card.accessibility = list(project.accessibility_reports.filter(tested_at__lt=end)[:10])
    card.reviews = list(project.model_reviews.all()[:10])
    return card


def project_scorecard_rows(card: Scorecard) -> list[dict[str, Any]]:
    """The scorecard as catalogue metrics (code, value, unit, note) for the API and the command."""
    cat = catalogue()
    latest = card.latest_accessibility
    review = card.reviews[0] if card.reviews else None
    values: dict[str, tuple[Any, str]] = {
        "SW.measurement_coverage": (card.coverage, "" if card.coverage is not None else "no compute energy"),
        "SW.budget_adherence": (card.budget.get("percent"), card.budget.get("note", "")),
        "SW.approved_region_share": (
            card.approved_share,
            "" if card.approved_regions else "n/a: no approved regions configured",
        ),
        "SW.estimated_share": (card.estimated_share, ""),
        "SW.accessibility_score": (latest.score if latest else None, "" if latest else "no report"),
        "SW.accessibility_serious_violations": ((latest.critical + latest.serious) if latest else None, ""),
        "SW.model_review": (review.reviewed if review else None, "" if review else "no review record"),
    }
    return [
        {"code": code, "name": cat.metrics[code].name, "unit": cat.metrics[code].unit, "value": value, "note": note}
        for code, (value, note) in values.items()
    ]


def factor_change_requests(organisation: Organisation) -> QuerySet[Any]:
    from esg.models import FactorSetChangeRequest

    return FactorSetChangeRequest.objects.filter(organisation=organisation).select_related(
        "factor_set", "requested_by", "decided_by"
    )


# ------------------------------------------------------------------------------------- approvals inbox


def values_awaiting_approval(*, organisation: Organisation) -> QuerySet[MetricValue]:
    """Submitted values of the organisation, oldest period first: what an approver works through."""
    return (
        MetricValue.objects.filter(organisation=organisation, status=ValueStatus.SUBMITTED)
        .select_related("submitted_by")
        .order_by("period", "metric_code")
    )


def factor_changes_pending(*, organisation: Organisation) -> QuerySet[Any]:
    from esg.models import ChangeStatus, FactorSetChangeRequest

    return (
        FactorSetChangeRequest.objects.filter(organisation=organisation, status=ChangeStatus.PENDING)
        .select_related("factor_set", "requested_by")
        .order_by("requested_at", "id")
    )
