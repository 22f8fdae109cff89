from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from greenesg import health
from greenesg.observability import metrics_view

urlpatterns = [
    # Probes for load balancers and orchestrators: unauthenticated, tiny (greenesg/health.py).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # CSP allows scripts from our origin only: the split view serves Swagger UI's init script from this same
    # URL (?script=) instead of inline, and our Redoc page configures Redoc by attributes, not by a script.
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/v1/redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"),
        name="api-redoc",
    ),
    path("api/v1/", include("ingestion.api_urls")),
    path("api/v1/", include("reports.dashboards.api_urls")),
    path("api/v1/", include("ingestion.billing.api_urls")),
    path("api/v1/", include("steering.api_urls")),
    path("api/v1/", include("esg.api_urls")),
    path("", include("greenesg.accounts.urls")),
    path("", include("greenesg.accounts.manage_urls")),
    path("", include("ingestion.urls")),
    path("", include("ingestion.billing.urls")),
    path("", include("reports.dashboards.billing.urls")),
    path("", include("reports.dashboards.urls")),
    path("", include("reports.esrs.urls")),
    path("", include("steering.urls")),
    path("", include("esg.urls")),
]

handler403 = "greenesg.views.permission_denied"
handler404 = "greenesg.views.not_found"
handler500 = "greenesg.views.server_error"
