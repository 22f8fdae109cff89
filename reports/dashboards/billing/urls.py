from __future__ import annotations

from django.urls import path

from reports.dashboards.billing import views as billing_views

urlpatterns = [
    path("o/<slug:org_slug>/billing/dashboard/", billing_views.billing_dashboard_view, name="billing-dashboard"),
    path(
        "o/<slug:org_slug>/billing/reconciliation/", billing_views.billing_reconciliation, name="billing-reconciliation"
    ),
]
