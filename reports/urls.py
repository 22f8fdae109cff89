from __future__ import annotations

from django.urls import path

from reports import views

urlpatterns = [
    path("o/<slug:org_slug>/", views.org_overview, name="org-overview"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/", views.project_detail, name="project-detail"),
    # `path`: codecarbon experiment ids are free text and may contain "/"; "" is the `_none` slug.
    path(
        "o/<slug:org_slug>/p/<slug:project_slug>/experiments/<path:experiment>/",
        views.experiment_detail,
        name="experiment-detail",
    ),
    path("o/<slug:org_slug>/p/<slug:project_slug>/records/<int:pk>/", views.ledger_detail, name="ledger-detail"),
]
