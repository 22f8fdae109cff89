from __future__ import annotations

from django.urls import path

from reports.dashboards import api

urlpatterns = [
    path(
        "projects/<slug:org_slug>/<slug:project_slug>/summary",
        api.ProjectSummaryView.as_view(),
        name="api-project-summary",
    ),
    path("orgs/<slug:org_slug>/summary", api.OrgSummaryView.as_view(), name="api-org-summary"),
    path("projects/<slug:org_slug>/<slug:project_slug>/runs", api.ProjectRunsView.as_view(), name="api-project-runs"),
]
