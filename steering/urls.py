from __future__ import annotations

from django.urls import path

from steering import advisor_views, views

urlpatterns = [
    path("o/<slug:org_slug>/savings/", advisor_views.org_recommendations, name="steering-org-recommendations"),
    path(
        "o/<slug:org_slug>/p/<slug:project_slug>/savings/",
        advisor_views.project_recommendations,
        name="steering-project-recommendations",
    ),
    path(
        "o/<slug:org_slug>/p/<slug:project_slug>/savings/refresh/",
        advisor_views.project_recommendations_refresh,
        name="steering-project-recommendations-refresh",
    ),
    path(
        "o/<slug:org_slug>/p/<slug:project_slug>/savings/<int:pk>/status/",
        advisor_views.recommendation_status,
        name="steering-recommendation-status",
    ),
    path("o/<slug:org_slug>/budgets/", views.org_budgets, name="steering-org-budgets"),
    path("o/<slug:org_slug>/budgets/target/", views.org_target, name="steering-org-target"),
    path("o/<slug:org_slug>/budgets/target/apply/", views.org_target_apply, name="steering-org-target-apply"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/budget/", views.project_budget, name="steering-project-budget"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/budget/edit/", views.budget_edit, name="steering-budget-edit"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/budget/settings/", views.steering_settings, name="steering-settings"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/advice/", views.project_advice, name="steering-project-advice"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/sci/", views.project_sci, name="steering-project-sci"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/models/", views.project_models, name="steering-project-models"),
]
