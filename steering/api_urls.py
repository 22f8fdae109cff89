from __future__ import annotations

from django.urls import path

from steering import api

urlpatterns = [
    path(
        "projects/<slug:org_slug>/<slug:project_slug>/budget",
        api.ProjectBudgetView.as_view(),
        name="api-project-budget",
    ),
    path(
        "projects/<slug:org_slug>/<slug:project_slug>/sci/units",
        api.SciUnitsView.as_view(),
        name="api-project-sci-units",
    ),
    # codecarbon run ids are UUIDs, but other trackers use any id without "/".
    path(
        "projects/<slug:org_slug>/<slug:project_slug>/runs/<str:run_id>/model",
        api.RunModelView.as_view(),
        name="api-run-model",
    ),
    path(
        "projects/<slug:org_slug>/<slug:project_slug>/recommendations",
        api.RecommendationsView.as_view(),
        name="api-project-recommendations",
    ),
    path("advice/regions", api.RegionAdviceView.as_view(), name="api-advice-regions"),
]
