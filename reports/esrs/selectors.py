"""Reads for the ESRS E1 report: everything a report is computed from, as one JSON-ready snapshot.

The snapshot (`report_inputs`) is what signing freezes: ledger aggregates per month and dimension,
settings, instruments, residual-mix factors, the factors and source files behind the figures. The
pure `reports.esrs.facts.compute` turns it into facts, so a stored snapshot reproduces its report.
Inventory rows only, by `day` (the UTC day of the record's end). Whole months are read from the report-grain
rollup `LedgerReportMonthly` (refreshed with the dashboard rollups by every ledger change, see
greenesg/footprint/report_rollup.py), so the snapshot's cost follows the number of groups, not of ledger rows;
the days of a partial month at either end of a range (an instrument's consumption period) come from the ledger.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth

from greenesg.accounts.models import Organisation
from greenesg.footprint.models import EmissionFactor, LedgerEntry, LedgerReportMonthly
from greenesg.lib.periods import month_end, month_start
from ingestion.billing.coverage import billing_coverage_for
from reports import market_inputs
from reports.esrs import periods, signoff
from reports.models import (
    OtherActivity,
    QuarterRevenue,
    ReductionTarget,
    Report,
    ReportingSettings,
    ReportStatus,
    Scope3Screening,
)

INPUTS_SCHEMA = 1
MAX_SOURCE_FILES = 500
MAX_FACTORS = 500


def reporting_settings_get(*, organisation: Organisation) -> ReportingSettings:
    """The organisation's settings, unsaved defaults if none were entered yet."""
    found = ReportingSettings.objects.filter(organisation=organisation).first()
    return found or ReportingSettings(organisation=organisation, legal_name=organisation.name)


def report_period_parse(*, organisation: Organisation, text: str, today: dt.date | None = None) -> periods.Period:
    month = reporting_settings_get(organisation=organisation).fiscal_year_start_month
    return periods.period_parse(text, fiscal_start_month=month, today=today)


def report_period_choices(*, organisation: Organisation, today: dt.date | None = None) -> dict[str, Any]:
    """The period picker of the report list: fiscal periods grouped by year, the last closed quarter preselected."""
    month = reporting_settings_get(organisation=organisation).fiscal_year_start_month
    today = today or dt.datetime.now(dt.UTC).date()
    closed = periods.last_closed_quarter(today, fiscal_start_month=month)
    return {
        "choices": periods.period_choices(today, fiscal_start_month=month),
        "initial": f"{closed[0]:04d}-Q{closed[1]}",
        "fiscal_start_month": month,
    }


def _window(period: periods.Period) -> dict[str, Any]:
    return {
        "label": period.label,
        "title": period.title,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "quarters": [[q.year, q.quarter] for q in period.quarters],
    }


def report_windows(period: periods.Period) -> dict[str, dict[str, Any]]:
    windows = {"N": _window(period), "N-1": _window(period.previous_year())}
    if period.kind == "quarter" and period.quarter is not None:  # a quarter always carries its number
        windows["YTD"] = _window(period.year_to_date())
        windows["PQ"] = _window(period.previous())
    return windows


# Grouped sums of the report, as the ledger rows would give them (Count and Coalesce rules of the ledger) and as the
# report rollup gives them for whole months (the same rules applied when it was filled, greenesg/footprint/
# report_rollup.py). Same names, so both sources yield rows of one shape.
_LEDGER_SUMS: dict[str, Any] = {
    "records": Count("id"),
    "energy_kwh": Sum("energy_facility_kwh"),
    "kg_location": Sum(Coalesce("kgco2e_location", 0.0)),
    # A record without a market figure counts at its location figure (and is flagged by its basis).
    "kg_market": Sum(Coalesce("kgco2e_market", "kgco2e_location", 0.0)),
    "kg_embodied": Sum("kgco2e_embodied"),
    "cost": Sum(Coalesce("cost", 0.0)),
}
_ROLLUP_SUMS: dict[str, Any] = {
    "records": Sum("records"),
    "energy_kwh": Sum("energy_facility_kwh"),
    "kg_location": Sum("kgco2e_location"),
    "kg_market": Sum("kgco2e_market"),
    "kg_embodied": Sum("kgco2e_embodied"),
    "cost": Sum("cost"),
}
_LEDGER_DIMENSIONS = (
    "scope",
    "category",
    "source",
    "method",
    "provider",
    "region",
    "country_iso",
    "project_id",
    "market_basis",
    "resource_category",
)


@dataclass(frozen=True)
class _Split:
    """A day range cut into whole calendar months (read from the report rollup) and the days of its partial edge
    months (read from the ledger, as the dashboards read edge days from the daily rollup)."""

    months: tuple[dt.date, dt.date] | None
    edges: tuple[tuple[dt.date, dt.date], ...]


def _split(start: dt.date, end: dt.date) -> _Split:
    if start > end:
        return _Split(None, ())
    first = start if start.day == 1 else month_end(start) + dt.timedelta(days=1)
    last = end if end == month_end(end) else month_start(end) - dt.timedelta(days=1)
    if first > last:  # no whole month inside: the range lies within one or two partial months
        return _Split(None, ((start, end),))
    edges = []
    if start < first:
        edges.append((start, first - dt.timedelta(days=1)))
    if last < end:
        edges.append((last + dt.timedelta(days=1), end))
    return _Split((first, month_start(last)), tuple(edges))


def _grouped(organisation: Organisation, start: dt.date, end: dt.date, dims: tuple[str, ...]) -> list[dict[str, Any]]:
    """The in-inventory sums of [start, end] grouped by `dims` (ledger or rollup field names, plus "month").

    Whole months come from the report rollup, so the cost follows the number of groups, not of ledger rows;
    the days of partial edge months come from the ledger. Rows of the two sources are not merged here."""
    split = _split(start, end)
    rows: list[dict[str, Any]] = []
    for first, last in split.edges:
        ledger = LedgerEntry.objects.filter(organisation=organisation, in_inventory=True, day__gte=first, day__lte=last)
        if "month" in dims:
            ledger = ledger.annotate(month=TruncMonth("day"))
        rows.extend(ledger.values(*dims).annotate(**_LEDGER_SUMS).order_by())
    if split.months is not None:
        rollup = LedgerReportMonthly.objects.filter(
            organisation=organisation, month__gte=split.months[0], month__lte=split.months[1]
        )
        rows.extend(rollup.values(*dims).annotate(**_ROLLUP_SUMS).order_by())
    return rows


def _summed(rows: list[dict[str, Any]], dims: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows with equal `dims` added up: a key found both in the edge days and in the whole months."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[d] for d in dims)
        if key not in merged:
            merged[key] = dict(row)
            continue
        for name in _LEDGER_SUMS:
            merged[key][name] = (merged[key][name] or 0) + (row[name] or 0)
    return list(merged.values())


def _ledger_rows(organisation: Organisation, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    out = []
    # Edge days and whole months never share a month, so each (month, dimensions) group comes from one source.
    for row in _grouped(organisation, start, end, ("month", *_LEDGER_DIMENSIONS)):
        month = row["month"]
        category = row["resource_category"] or ""
        out.append(
            {
                "month": (month.date() if isinstance(month, dt.datetime) else month).isoformat(),
                "scope": row["scope"],
                "category": row["category"],
                "source": row["source"],
                "method": row["method"],
                "provider": row["provider"],
                "region": row["region"],
                "country": row["country_iso"],
                "project_id": row["project_id"],
                "market_basis": row["market_basis"],
                "fuel": category[5:] if category.startswith("fuel:") else "",
                "records": row["records"],
                "energy_kwh": float(row["energy_kwh"] or 0.0),
                "kg_location": float(row["kg_location"] or 0.0),
                "kg_market": float(row["kg_market"] or 0.0),
                "kg_embodied": float(row["kg_embodied"] or 0.0),
                "cost": float(row["cost"] or 0.0),
            }
        )
    out.sort(key=lambda r: tuple(str(r[k]) for k in ("month", "scope", "category", "project_id", "provider", "region")))
    return out


def _factors(organisation: Organisation, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    dims = ("factor_id", "factor_version")
    used = sorted(_summed(_grouped(organisation, start, end, dims), dims), key=lambda r: -(r["kg_location"] or 0.0))
    used = used[:MAX_FACTORS]
    by_id = {
        f.id: f
        for f in EmissionFactor.objects.select_related("factor_set").filter(
            id__in=[u["factor_id"] for u in used if u["factor_id"]]
        )
    }
    out = []
    for row in used:
        factor = by_id.get(row["factor_id"])
        out.append(
            {
                "factor_version": row["factor_version"] or (factor.factor_set.label if factor else ""),
                "zone": factor.zone if factor else "",
                "vintage": factor.vintage_year if factor else None,
                "g_per_kwh": factor.g_co2e_per_kwh if factor else None,
                "source": (factor.source or factor.factor_set.source) if factor else "",
                "kind": factor.factor_set.get_kind_display() if factor else "",
                "records": row["records"],
                "kg": float(row["kg_location"] or 0.0),
            }
        )
    out.sort(key=lambda r: (r["factor_version"], r["zone"], r["vintage"] or 0))
    return out


def _sources(organisation: Organisation, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    from ingestion.models import ImportJob

    jobs = _summed(_grouped(organisation, start, end, ("import_job_id",)), ("import_job_id",))
    counts = {str(j["import_job_id"]): j["records"] for j in jobs if j["import_job_id"] is not None}
    out = [
        {
            "kind": job.kind,
            "name": job.original_name,
            "sha256": job.sha256,
            "records": counts.get(str(job.pk), 0),
            "id": str(job.pk),
            "created": job.created_at.isoformat(),
        }
        for job in ImportJob.objects.filter(pk__in=list(counts)).order_by("created_at")[:MAX_SOURCE_FILES]
    ]
    for activity in OtherActivity.objects.filter(
        organisation=organisation, period_end__gte=start, period_end__lte=end
    ).order_by("id"):
        if activity.evidence_sha256:
            out.append(
                {
                    "kind": "evidence",
                    "name": activity.evidence_name,
                    "sha256": activity.evidence_sha256,
                    "records": 1,
                    "id": activity.natural_key,
                    "created": activity.created_at.isoformat(),
                }
            )
        if activity.import_sha256:
            out.append(
                {
                    "kind": "other_csv",
                    "name": activity.import_name,
                    "sha256": activity.import_sha256,
                    "records": 1,
                    "id": f"{activity.natural_key} row {activity.import_row}",
                    "created": activity.created_at.isoformat(),
                }
            )
    return out


def _flags(organisation: Organisation, start: dt.date, end: dt.date) -> dict[str, int]:
    """Records per flag: a record counts once for each flag in its list."""
    counts: dict[str, int] = {}
    split = _split(start, end)
    for first, last in split.edges:
        flagged = (
            LedgerEntry.objects.filter(organisation=organisation, in_inventory=True, day__gte=first, day__lte=last)
            .exclude(Q(flags=[]) | Q(flags=None))
            .values_list("flags", flat=True)
        )
        for flags in flagged.iterator(chunk_size=5000):
            _count_flags(counts, flags, 1)
    if split.months is not None:
        keyed = (
            LedgerReportMonthly.objects.filter(
                organisation=organisation, month__gte=split.months[0], month__lte=split.months[1]
            )
            .exclude(flags_json__in=("", "[]", "null"))
            .values("flags_json")
            .annotate(records=Sum("records"))
            .order_by()
        )
        for row in keyed:
            _count_flags(counts, json.loads(row["flags_json"]), row["records"])
    return dict(sorted(counts.items()))


def _count_flags(counts: dict[str, int], flags: Any, records: int) -> None:
    for flag in flags or []:
        counts[str(flag)] = counts.get(str(flag), 0) + records


def _settings_dict(organisation: Organisation) -> tuple[dict[str, Any], dict[str, Any]]:
    s = reporting_settings_get(organisation=organisation)
    org = {
        "slug": organisation.slug,
        "name": organisation.name,
        "legal_name": s.legal_name or organisation.name,
        "lei": s.lei,
        "currency": s.currency or "EUR",
        "fiscal_start_month": s.fiscal_year_start_month,
        "consolidation": s.get_consolidation_approach_display(),
        "nace": s.nace_code,
        "high_impact": s.high_climate_impact,
        "materiality": s.materiality_statement,
        "actions": s.actions_statement,
        "configured": s.pk is not None,
    }
    base = {
        "year": s.base_year,
        "scope1": s.base_scope1_t,
        "scope2_location": s.base_scope2_location_t,
        "scope2_market": s.base_scope2_market_t,
        "scope3": s.base_scope3_t,
        "energy_mwh": s.base_energy_mwh,
    }
    return org, base


def _instrument_dicts(organisation: Organisation) -> list[dict[str, Any]]:
    return market_inputs.instrument_dicts(organisation_id=organisation.pk)


class ReportSectionError(Exception):
    """A section of the report could not be computed; the generation fails with this message."""

    def __init__(self, section: str, cause: Exception) -> None:
        super().__init__(f"the {section} section could not be computed: {cause}")
        self.section = section


def _optional_sci(organisation: Organisation, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """SCI per project from the steering app, when it is installed (never added to totals, docs/esrs.md §12)."""
    try:
        from steering.selectors import sci_trend
    except ImportError:
        return []
    out: list[dict[str, Any]] = []
    try:
        for project in organisation.projects.order_by("name"):
            out.extend(
                {
                    "project": project.name,
                    "period": point["period"],
                    "sci_g_per_unit": point["result"].sci_kg_per_unit * 1000.0,
                    "units": point["result"].units,
                    "energy_kwh": point["result"].energy_kwh,
                }
                for point in sci_trend(project=project)
                if start <= point["start"] <= end and point["result"].sci_kg_per_unit is not None
            )
    except Exception as exc:
        # A signable report must not silently lack a section: the generation fails and shows why.
        raise ReportSectionError("SCI", exc) from exc
    return out


def _optional_reductions(organisation: Organisation, start: dt.date, end: dt.date) -> dict[str, list[dict[str, Any]]]:
    """E1-3 actions from the efficiency advisor (docs/methodology.md §10): reductions achieved (done by the period's
    end, measured before/after) and expected (open or accepted). Never netted against the inventory."""
    try:
        from steering.models import ACTIVE_RECOMMENDATION, Recommendation, RecommendationStatus
        from steering.recommendations import realised_per_month, recommendation_realised
    except ImportError:
        return {"achieved": [], "expected": []}
    achieved: list[dict[str, Any]] = []
    expected: list[dict[str, Any]] = []
    try:
        rows = Recommendation.objects.filter(project__organisation=organisation).select_related("project")
        for item in rows.filter(status=RecommendationStatus.DONE, done_at__date__lte=end).order_by("done_at", "pk"):
            realised = recommendation_realised(recommendation=item)
            achieved.append(
                {
                    "project": item.project.name,
                    "action": item.title,
                    "done_on": item.done_at.date().isoformat() if item.done_at else "",
                    "expected_kg_month": item.saving_kg_location_month,
                    "realised_kg_month": realised_per_month(recommendation=item, realised=realised)
                    if realised
                    else None,
                    "reduction_percent": realised.reduction_percent if realised else None,
                    "ci": [realised.ci_low, realised.ci_high] if realised else None,
                    "unit": realised.unit if realised else "",
                    "significant": realised.significant if realised else False,
                }
            )
        expected.extend(
            {
                "project": item.project.name,
                "action": item.title,
                "status": item.get_status_display(),
                "kg_year_location": item.saving_kg_location_month * 12,
                "kg_year_market": item.saving_kg_market_month * 12,
                "kwh_year": item.saving_kwh_month * 12,
            }
            for item in rows.filter(status__in=ACTIVE_RECOMMENDATION).order_by("-saving_kg_location_month", "pk")
        )
    except Exception as exc:
        # A signable report must not silently lack a section: the generation fails and shows why.
        raise ReportSectionError("E1-3 reductions", exc) from exc
    return {"achieved": achieved, "expected": expected}


def _optional_esg(organisation: Organisation, period: periods.Period) -> list[dict[str, Any]]:
    """S and G datapoints from the ESG app for calendar-aligned periods (a year or year to date adds up its
    quarters by each metric's rule), when such data exists."""
    if period.fiscal_start_month != 1:
        return []
    try:
        from esg.selectors import metric_rows
    except ImportError:
        return []
    try:
        rows = metric_rows(organisation, period)  # the same period model: a calendar quarter, year or YTD
        return [
            {k: r.as_dict()[k] for k in ("code", "name", "pillar", "unit", "value", "status")}
            for r in rows
            if r.value is not None and r.metric.pillar in {"S", "G"}
        ]
    except Exception as exc:
        raise ReportSectionError("S and G", exc) from exc


def report_inputs(
    *, organisation: Organisation, period: periods.Period, restates: Report | None = None, reason: str = ""
) -> dict[str, Any]:
    """The JSON snapshot a report is computed from (see module docstring)."""
    windows = report_windows(period)
    instruments = _instrument_dicts(organisation)
    starts = [dt.date.fromisoformat(w["start"]) for w in windows.values()]
    ends = [dt.date.fromisoformat(w["end"]) for w in windows.values()]
    starts += [dt.date.fromisoformat(i["consumption_start"]) for i in instruments]
    ends += [dt.date.fromisoformat(i["consumption_end"]) for i in instruments]
    org, base = _settings_dict(organisation)
    inputs: dict[str, Any] = {
        "schema": INPUTS_SCHEMA,
        "organisation": org,
        "period": {"label": period.label, "kind": period.kind, "title": period.title},
        "windows": windows,
        "base_year": base,
        "targets": [
            {
                "scope": t.scope,
                "scope_label": t.get_scope_display(),
                "target_year": t.target_year,
                "reduction_percent": t.reduction_percent,
                "absolute_target_t": t.absolute_target_t,
                "science_based": t.science_based,
            }
            for t in ReductionTarget.objects.filter(organisation=organisation)
        ],
        "revenue": [
            {
                "fiscal_year": r.fiscal_year,
                "quarter": r.quarter,
                "used": str(r.revenue_used),
                "other": str(r.revenue_other),
                "reference": r.statement_reference,
            }
            for r in QuarterRevenue.objects.filter(organisation=organisation)
        ],
        "screening": [
            {"category": s.category, "included": s.included, "reason": s.reason, "method": s.method}
            for s in Scope3Screening.objects.filter(organisation=organisation)
        ],
        "instruments": instruments,
        "residual_mix": market_inputs.residual_mix_dicts(organisation_id=organisation.pk),
        "ledger": _ledger_rows(organisation, min(starts), max(ends)),
        "projects": {str(p.id): p.name for p in organisation.projects.all()},
        "factors": _factors(organisation, period.start, period.end),
        "sources": _sources(organisation, period.start, period.end),
        "flags": _flags(organisation, period.start, period.end),
        "billing_coverage": billing_coverage_for(organisation_id=organisation.pk, start=period.start, end=period.end),
        "sci": _optional_sci(organisation, period.start, period.end),
        "reductions": _optional_reductions(organisation, period.start, period.end),
        "esg": _optional_esg(organisation, period),
        "restatements": [
            {"period": r.period, "version": r.version, "reason": r.restatement_reason, "restates": r.restates_id}
            for r in Report.objects.filter(organisation=organisation, period=period.label).exclude(restates=None)
        ],
    }
    if restates is not None:
        inputs["restated_from"] = {
            "report_id": restates.pk,
            "version": restates.version,
            "signed_at": restates.signed_at.isoformat(timespec="minutes") if restates.signed_at else None,
            "signed_by": restates.signed_by.get_username() if restates.signed_by else "",
            "reason": reason,
            "facts": {k: f["value"] for k, f in (restates.facts or {}).get("facts", {}).items()},
        }
    return inputs


def latest_signed_report(*, organisation: Organisation, period_label: str) -> Report | None:
    return (
        Report.objects.filter(organisation=organisation, period=period_label, status=ReportStatus.SIGNED)
        .order_by("-signed_at", "-id")
        .first()
    )


def report_open_items(*, report: Report) -> list[signoff.OpenItem]:
    """The sign-off list of a generated report, from the snapshot its documents were computed from."""
    from django.conf import settings

    from reports.esrs import facts

    if not report.inputs:
        return []
    limit = settings.REPORT_SIGN_UNESTIMATED_COST_LIMIT_PERCENT
    return signoff.open_items(report.inputs, facts.compute(report.inputs), unestimated_cost_limit_percent=limit)


# The report page's headline: the period's (window "N") E1-6 totals and E1-5 energy, read from the facts stored
# at generation, so the page shows the very figures of the documents below it.
HEADLINE_FACTS = (
    ("e1_6.total_location.N", "Total GHG emissions, location-based"),
    ("e1_6.total_market.N", "Total GHG emissions, market-based"),
    ("e1_5.total.N", "Total energy consumption"),
)


def report_headline(*, report: Report) -> list[dict[str, Any]]:
    """Label, value (None when not available), unit and decimals of each headline fact the report has."""
    stored = (report.facts or {}).get("facts") or {}
    headline = []
    for fact_id, label in HEADLINE_FACTS:
        fact = stored.get(fact_id)
        if fact is not None:
            # floatformat's "g" groups thousands; the decimals are the ones the report states for the datapoint.
            headline.append(
                {"label": label, "value": fact["value"], "unit": fact["unit"], "format": f"{fact['decimals']}g"}
            )
    return headline


def reports_awaiting_signoff(*, organisation: Organisation) -> QuerySet[Report]:
    """Reports generated and ready, not yet signed: the officers' sign-off queue (signing stays on its page)."""
    return (
        Report.objects.filter(organisation=organisation, status=ReportStatus.READY)
        .select_related("created_by")
        .order_by("period", "version")
    )
