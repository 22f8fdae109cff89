from __future__ import annotations

from django.urls import path, re_path

from esg import api

ORG = r"^esg/(?P<org_slug>[-a-zA-Z0-9_]+)/"

urlpatterns = [
    path("esg/catalogue", api.CatalogueView.as_view(), name="api-esg-catalogue"),
    path("esg/<slug:org_slug>/values", api.ValuesView.as_view(), name="api-esg-values"),
    re_path(
        ORG + r"values/(?P<pk>\d+)/(?P<action>approve|reject)$",
        api.ValueDecisionView.as_view(),
        name="api-esg-value-decide",
    ),
    re_path(
        ORG + r"periods/(?P<period>\d{4}(?:-Q[1-4])?)/(?P<action>close|reopen)$",
        api.PeriodActionView.as_view(),
        name="api-esg-period-action",
    ),
    path(
        "esg/<slug:org_slug>/factor-set-changes", api.FactorSetChangesView.as_view(), name="api-esg-factor-set-changes"
    ),
    re_path(
        ORG + r"factor-set-changes/(?P<pk>\d+)/(?P<action>approve|reject)$",
        api.FactorSetDecisionView.as_view(),
        name="api-esg-factor-set-decide",
    ),
    path(
        "projects/<slug:org_slug>/<slug:project_slug>/accessibility-reports",
        api.AccessibilityReportsView.as_view(),
        name="api-esg-accessibility-reports",
    ),
    path(
        "projects/<slug:org_slug>/<slug:project_slug>/model-reviews",
        api.ModelReviewsView.as_view(),
        name="api-esg-model-reviews",
    ),
    path(
        "projects/<slug:org_slug>/<slug:project_slug>/esg-scorecard",
        api.ScorecardView.as_view(),
        name="api-esg-scorecard",
    ),
]
