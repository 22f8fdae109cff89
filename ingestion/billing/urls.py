from __future__ import annotations

from django.urls import path

from ingestion.billing import views as billing_views

urlpatterns = [
    path("o/<slug:org_slug>/billing/", billing_views.billing_home, name="billing-home"),
    path("o/<slug:org_slug>/billing/rules/", billing_views.billing_rules, name="billing-rules"),
    path("o/<slug:org_slug>/billing/rules/<int:pk>/", billing_views.billing_rule_edit, name="billing-rule-edit"),
    path(
        "o/<slug:org_slug>/billing/rules/<int:pk>/delete", billing_views.billing_rule_delete, name="billing-rule-delete"
    ),
    path("o/<slug:org_slug>/billing/rules/<int:pk>/move", billing_views.billing_rule_move, name="billing-rule-move"),
]
