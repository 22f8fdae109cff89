from __future__ import annotations

from django.urls import path

from ingestion import api

urlpatterns = [
    path(
        "projects/<slug:org_slug>/<slug:project_slug>/imports",
        api.ProjectImportsView.as_view(),
        name="api-project-imports",
    ),
    path(
        "projects/<slug:org_slug>/<slug:project_slug>/imports/<uuid:job_id>",
        api.ImportDetailView.as_view(),
        name="api-import-detail",
    ),
    path(
        "projects/<slug:org_slug>/<slug:project_slug>/imports/<uuid:job_id>/errors",
        api.ImportErrorsView.as_view(),
        name="api-import-errors",
    ),
    # codecarbon posts to the exact URL it is given, so the token is the last path segment.
    path("live/<str:token>", api.LiveRecordView.as_view(), name="api-live-record"),
]
