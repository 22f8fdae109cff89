from __future__ import annotations

from django.urls import path

from ingestion.billing import api as billing_api

urlpatterns = [
    path("orgs/<slug:org_slug>/billing/imports", billing_api.BillingImportsView.as_view(), name="api-billing-imports"),
    path(
        "orgs/<slug:org_slug>/billing/imports/<uuid:job_id>",
        billing_api.BillingImportDetailView.as_view(),
        name="api-billing-import-detail",
    ),
]
