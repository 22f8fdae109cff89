"""The project URLconf plus the billing modules, until greenesg/urls.py includes them (test-only)."""

from __future__ import annotations

from django.urls import include, path

from greenesg.urls import handler404, handler500
from greenesg.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/v1/", include("ingestion.billing_api_urls")),
    path("", include("ingestion.billing_urls")),
    path("", include("reports.billing_urls")),
    *project_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
