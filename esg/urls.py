from __future__ import annotations

from django.urls import path, re_path

from esg import inbox, views

# Periods are 2026 or 2026-Q3; the pattern keeps "import", "settings" … from reading as periods.
P = r"(?P<period>\d{4}(?:-Q[1-4])?)"
ORG = r"^o/(?P<org_slug>[-a-zA-Z0-9_]+)/esg/"

urlpatterns = [
    path("o/<slug:org_slug>/esg/", views.esg_overview, name="esg-overview"),
    path("o/<slug:org_slug>/esg/import/", views.esg_import, name="esg-import"),
    path("o/<slug:org_slug>/esg/template.csv", views.esg_template, name="esg-template"),
    path("o/<slug:org_slug>/esg/settings/", views.esg_settings, name="esg-settings"),
    path("o/<slug:org_slug>/esg/inbox/", inbox.esg_inbox, name="esg-inbox"),
    path(
        "o/<slug:org_slug>/esg/inbox/values/approve/", inbox.esg_inbox_values_approve, name="esg-inbox-values-approve"
    ),
    re_path(
        ORG + r"inbox/values/(?P<pk>\d+)/(?P<action>approve|reject)/$",
        inbox.esg_inbox_value_decide,
        name="esg-inbox-value-decide",
    ),
    re_path(
        ORG + r"inbox/factor-sets/(?P<pk>\d+)/(?P<action>approve|reject)/$",
        inbox.esg_inbox_factor_decide,
        name="esg-inbox-factor-decide",
    ),
    path("o/<slug:org_slug>/esg/factor-sets/", views.esg_factor_requests, name="esg-factor-requests"),
    re_path(
        ORG + r"factor-sets/(?P<pk>\d+)/(?P<action>approve|reject)/$",
        views.esg_factor_request_decide,
        name="esg-factor-request-decide",
    ),
    re_path(
        ORG + r"values/(?P<pk>\d+)/(?P<action>approve|reject|delete)/$", views.esg_value_decide, name="esg-value-decide"
    ),
    re_path(ORG + P + r"/enter/$", views.esg_enter, name="esg-enter"),
    re_path(ORG + P + r"/close/$", views.esg_period_close, name="esg-period-close"),
    re_path(ORG + P + r"/reopen/$", views.esg_period_reopen, name="esg-period-reopen"),
    re_path(ORG + P + r"/export\.csv$", views.esg_export, name="esg-export"),
    re_path(ORG + P + r"/m/(?P<code>[A-Za-z0-9._-]+)/$", views.esg_metric, name="esg-metric"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/esg/", views.esg_scorecard, name="esg-scorecard"),
]
