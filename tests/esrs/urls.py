"""The project URLconf plus the ESRS report pages, until greenesg/urls.py includes them (test-only)."""

from __future__ import annotations

from django.urls import include, path

from greenesg.urls import handler404, handler500
from greenesg.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("", include("reports.report_urls"))]

__all__ = ["handler404", "handler500", "urlpatterns"]
