"""Reads for the billing dashboard and the reconciliation page (officers and auditors: org-wide data).

Totals by provider, service, region and method come from the daily rollup; the resource-category split,
coverage and reconciliation need ledger columns the rollup does not keep (resource_category, the account in
`attributes`), so they group the ledger in SQL. Everything is cached under the organisation's dashboard
generation (docs/operations.md §11), which every import and re-attribution bumps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from greenesg.accounts.models import Organisation
from greenesg.footprint.inventory import COMPUTE_CATEGORIES
from greenesg.footprint.models import LedgerDaily, LedgerEntry
from greenesg.footprint.vocabulary import Source
from greenesg.lib.periods import month_start
from ingestion.billing.coverage import billing_coverage_for
from ingestion.billing.estimate import OurFigure, TheirFigure, coverage_ratio, reconcile
from ingestion.models import BillingDelivery, DeliveryStatus, ProviderFigure
from reports.dashboards.cache import dashboard_cached
from reports.dashboards.filters import DashboardFilter

UNALLOCATED_LABEL = "Unallocated"
BILLING_SUMS = {"cost": "cost", "kwh": "energy_facility_kwh", "kg": "kgco2e_location", "kg_embodied": "kgco2e_embodied"}


def _days(queryset: QuerySet[Any], flt: DashboardFilter) -> QuerySet[Any]:
    if flt.start is not None:
        queryset = queryset.filter(day__gte=flt.start)
    if flt.end is not None:
        queryset = queryset.filter(day__lte=flt.end)
    return queryset


def _month(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _project_names(organisation: Organisation) -> dict[int | None, str]:
    return {None: UNALLOCATED_LABEL, **dict(organisation.projects.values_list("id", "name"))}


# ---------------------------------------------------------------------------------------------- dashboard


def _grouped(queryset: QuerySet[Any], column: str) -> list[dict[str, Any]]:
    sums = {name: Sum(field) for name, field in BILLING_SUMS.items()}
    rows = queryset.values(column).annotate(records=Sum("records"), **sums).order_by("-kg", column)
    return [{"label": row[column] or "(none)", **{k: float(row[k] or 0.0) for k in BILLING_SUMS}} for row in rows]


def _by_category(organisation: Organisation, flt: DashboardFilter) -> list[dict[str, Any]]:
    queryset = _days(LedgerEntry.objects.filter(organisation=organisation, source=Source.BILLING), flt)
    sums = {name: Sum(field) for name, field in BILLING_SUMS.items()}
    rows = queryset.values("resource_category").annotate(**sums).order_by("-kg", "resource_category")
    return [
        {"label": row["resource_category"] or "(none)", **{k: float(row[k] or 0.0) for k in BILLING_SUMS}}
        for row in rows
    ]


def _method_shares(organisation: Organisation, flt: DashboardFilter) -> list[dict[str, Any]]:
    """Share of the inventory's location-based kgCO2e by method flag (measured, modelled, extrapolated …)."""
    queryset = _days(LedgerDaily.objects.filter(organisation=organisation, in_inventory=True), flt)
    rows = list(
        queryset.values("method").annotate(kg=Sum("kgco2e_location"), records=Sum("records")).order_by("method")
    )
    total = sum(float(r["kg"] or 0.0) for r in rows)
    return [
        {
            "label": r["method"],
            "kg": float(r["kg"] or 0.0),
            "records": int(r["records"] or 0),
            "share": (float(r["kg"] or 0.0) / total) if total else 0.0,
        }
        for r in rows
    ]


@dataclass(frozen=True)
class BillingDashboard:
    totals: dict[str, float]
    unallocated: dict[str, float]
    by_provider: list[dict[str, Any]]
    by_service: list[dict[str, Any]]
    by_region: list[dict[str, Any]]
    by_category: list[dict[str, Any]]
    by_method: list[dict[str, Any]]
    coverage: list[dict[str, Any]]
    not_estimated: dict[str, float]
    # Share of billed cost and lines modelled, extrapolated, not estimated, unsupported (ingestion.billing.coverage).
    estimation: dict[str, Any] | None = None

    @property
    def is_empty(self) -> bool:
        return not self.by_provider


def _totals(queryset: QuerySet[Any]) -> dict[str, float]:
    sums = queryset.aggregate(**{name: Sum(field) for name, field in BILLING_SUMS.items()})
    return {name: float(value or 0.0) for name, value in sums.items()}


def _not_estimated(organisation: Organisation, flt: DashboardFilter) -> dict[str, float]:
    deliveries = BillingDelivery.objects.filter(organisation=organisation, status=DeliveryStatus.ACTIVE)
    if flt.start is not None:
        deliveries = deliveries.filter(month__gte=month_start(flt.start))
    if flt.end is not None:
        deliveries = deliveries.filter(month__lte=flt.end)
    sums = deliveries.aggregate(
        lines=Sum("lines_unestimated"),
        cost=Sum("cost_unestimated"),
        unsupported=Sum("lines_unsupported"),
        unsupported_cost=Sum("cost_unsupported"),
    )
    return {name: float(value or 0.0) for name, value in sums.items()}


def billing_dashboard(*, organisation: Organisation, flt: DashboardFilter) -> BillingDashboard:
    def compute() -> BillingDashboard:
        daily = _days(LedgerDaily.objects.filter(organisation=organisation, source=Source.BILLING), flt)
        return BillingDashboard(
            totals=_totals(daily),
            unallocated=_totals(daily.filter(project__isnull=True)),
            by_provider=_grouped(daily, "provider"),
            by_service=_grouped(daily, "service"),
            by_region=_grouped(daily, "region"),
            by_category=_by_category(organisation, flt),
            by_method=_method_shares(organisation, flt),
            coverage=billing_coverage(organisation=organisation, flt=flt),
            not_estimated=_not_estimated(organisation, flt),
            estimation=billing_coverage_for(
                organisation_id=organisation.id, start=flt.start or dt.date.min, end=flt.end or dt.date.max
            ),
        )

    return dashboard_cached(organisation.id, f"dashboard:{flt.cache_part}", compute, namespace="billing")


# ---------------------------------------------------------------------------------------------- coverage


def _energy_by(queryset: QuerySet[Any]) -> dict[tuple[int, str, dt.date], float]:
    rows = (
        queryset.annotate(month=TruncMonth("day"))
        .values("project_id", "provider", "month")
        .annotate(kwh=Sum("energy_facility_kwh"))
        .order_by()
    )
    return {(r["project_id"], r["provider"].lower(), _month(r["month"])): float(r["kwh"] or 0.0) for r in rows}


def billing_coverage(*, organisation: Organisation, flt: DashboardFilter) -> list[dict[str, Any]]:
    """Per (project, provider, month) with both sources: codecarbon-measured kWh / billed compute kWh."""
    base = _days(LedgerEntry.objects.filter(organisation=organisation, project__isnull=False), flt)
    billed = _energy_by(base.filter(source=Source.BILLING, resource_category__in=COMPUTE_CATEGORIES))
    measured = _energy_by(base.filter(source=Source.CODECARBON).exclude(provider=""))
    names = _project_names(organisation)
    inventory = dict(organisation.projects.values_list("id", "inventory_source"))
    rows = []
    for key in sorted(set(billed) & set(measured), key=lambda k: (k[2], names.get(k[0], ""), k[1])):
        ratio = coverage_ratio(measured[key], billed[key])
        rows.append(
            {
                "project_id": key[0],
                "project": names.get(key[0], "?"),
                "provider": key[1],
                "month": key[2],
                "measured_kwh": measured[key],
                "billed_compute_kwh": billed[key],
                "coverage": ratio,
                "counted": inventory.get(key[0], "billing"),
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------- reconciliation


def _our_figures(organisation: Organisation) -> list[OurFigure]:
    rows = (
        LedgerEntry.objects.filter(organisation=organisation, source=Source.BILLING)
        .annotate(month=TruncMonth("day"))
        .values("project_id", "provider", "attributes__account", "month", "service")
        .annotate(kg=Sum("kgco2e_location"), embodied=Sum("kgco2e_embodied"), n=Count("id"))
        .order_by()
    )
    return [
        OurFigure(
            r["project_id"],
            r["provider"],
            str(r["attributes__account"] or ""),
            _month(r["month"]),
            r["service"],
            float(r["kg"] or 0.0),
            float(r["embodied"] or 0.0),
        )
        for r in rows
    ]


def _their_figures(organisation: Organisation) -> list[TheirFigure]:
    figures = ProviderFigure.objects.filter(organisation=organisation, status=DeliveryStatus.ACTIVE).filter(
        Q(kg_location__isnull=False)
    )
    return [
        TheirFigure(
            f.provider,
            f.account,
            f.month,
            f.service,
            float(f.kg_location or 0.0),
            any(key.startswith("scope3") for key in (f.scopes or {})),
        )
        for f in figures.only("provider", "account", "month", "service", "kg_location", "scopes")
    ]


def billing_reconciliation_rows(*, organisation: Organisation) -> list[dict[str, Any]]:
    """Our estimate next to the provider-reported figure per (project, provider, month), with gap and driver."""

    def compute() -> list[dict[str, Any]]:
        names = _project_names(organisation)
        rows = reconcile(_our_figures(organisation), _their_figures(organisation))
        return [
            {
                "project": names.get(r.project_id, "?"),
                "project_id": r.project_id,
                "provider": r.provider,
                "month": r.month,
                "ours_operational": r.ours_operational,
                "ours_embodied": r.ours_embodied,
                "compared_ours": r.compared_ours,
                "provider_kg": r.provider_kg,
                "gap_kg": r.gap_kg,
                "gap_percent": r.gap_percent,
                "driver": r.driver,
            }
            for r in rows
        ]

    return dashboard_cached(organisation.id, "reconciliation", compute, namespace="billing")
