from __future__ import annotations

from django.urls import path

from reports.dashboards import quality_views, views

urlpatterns = [
    path("o/<slug:org_slug>/", views.org_overview, name="org-overview"),
    path("o/<slug:org_slug>/mine/", views.my_projects, name="my-projects"),
    # The filter form's project search box (JSON, at most 20 of the reader's projects).
    path("o/<slug:org_slug>/projects/search/", views.project_search, name="project-search"),
    # The ledger rows behind any figure, for the same filter (drill-down), and one row by id.
    path("o/<slug:org_slug>/records/", views.org_records, name="org-records"),
    path("o/<slug:org_slug>/data-quality/", quality_views.data_quality, name="data-quality"),
    path("glossary/", quality_views.glossary, name="glossary"),
    path("o/<slug:org_slug>/records/<int:pk>/", views.org_record_detail, name="org-record-detail"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/", views.project_detail, name="project-detail"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/compare/", views.experiment_compare, name="experiment-compare"),
    # `path`: codecarbon experiment ids are free text and may contain "/"; "" is the `_none` slug.
    path(
        "o/<slug:org_slug>/p/<slug:project_slug>/experiments/<path:experiment>/",
        views.experiment_detail,
        name="experiment-detail",
    ),
    path("o/<slug:org_slug>/p/<slug:project_slug>/records/<int:pk>/", views.ledger_detail, name="ledger-detail"),
]
