"""Billing dashboard page: provider, service, region, resource category, cost next to kgCO2e, the unallocated
bucket, method shares and codecarbon coverage. Officers and auditors (billing data spans the organisation)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from greenesg.accounts.access import Capability, OrgAccess, org_access_for_request
from ingestion.billing.coverage import coverage_rows
from reports.dashboards.billing import charts as billing_charts
from reports.dashboards.billing.selectors import billing_dashboard, billing_reconciliation_rows
from reports.dashboards.filters import InvalidFilter, dashboard_filter_parse


def _get_org_for_reader(request: HttpRequest, org_slug: str) -> OrgAccess:
    access = org_access_for_request(request, org_slug)  # outsiders: 404
    if not access.can(Capability.VIEW_WHOLE_ORG):
        raise PermissionDenied("Billing data covers the whole organisation: officers and auditors only.")
    return access


@login_required
@require_GET
def billing_dashboard_view(request: HttpRequest, org_slug: str) -> HttpResponse:
    access = _get_org_for_reader(request, org_slug)
    try:
        flt = dashboard_filter_parse(request.GET)
    except InvalidFilter as error:
        return render(request, "reports/bad_filter.html", {"message": str(error), "path": request.path}, status=400)
    board = billing_dashboard(organisation=access.organisation, flt=flt)
    figures = {}
    if not board.is_empty:
        figures = {
            "provider": billing_charts.cost_and_carbon_bar(board.by_provider, title="By provider"),
            "service": billing_charts.cost_and_carbon_bar(board.by_service, title="By service"),
            "region": billing_charts.cost_and_carbon_bar(board.by_region, title="By region"),
            "category": billing_charts.cost_and_carbon_bar(board.by_category, title="By resource category"),
            "method": billing_charts.method_pie(board.by_method),
        }
    context = {
        "access": access,
        "org": access.organisation,
        "flt": flt,
        "board": board,
        "figures": figures,
        "coverage_rows": coverage_rows(board.estimation),
        "breadcrumbs": [
            {"label": access.organisation.name, "url": reverse("org-overview", args=[org_slug])},
            {"label": "Billing dashboard", "url": ""},
        ],
    }
    return render(request, "reports/billing_dashboard.html", context)


@login_required
@require_GET
def billing_reconciliation(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Our billing estimate next to the provider's own carbon figures (a reports page; ingestion stores both)."""
    access = _get_org_for_reader(request, org_slug)
    context = {
        "access": access,
        "organisation": access.organisation,
        "rows": billing_reconciliation_rows(organisation=access.organisation),
        "breadcrumbs": [
            {"label": access.organisation.name, "url": reverse("org-overview", args=[org_slug])},
            {"label": "Cloud billing", "url": reverse("billing-home", args=[org_slug])},
            {"label": "Reconciliation"},
        ],
    }
    return render(request, "ingestion/billing_reconciliation.html", context)
