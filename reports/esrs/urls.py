"""URLs of the ESRS report pages (included at "" in greenesg/urls.py)."""

from __future__ import annotations

from django.urls import path

from reports.esrs import views

urlpatterns = [
    path("o/<slug:org_slug>/esrs/", views.report_list, name="esrs-reports"),
    path("o/<slug:org_slug>/esrs/<int:pk>/", views.report_detail, name="esrs-report-detail"),
    path("o/<slug:org_slug>/esrs/<int:pk>/sign/", views.report_sign, name="esrs-report-sign"),
    path("o/<slug:org_slug>/esrs/<int:pk>/view/", views.report_view, name="esrs-report-view"),
    path("o/<slug:org_slug>/esrs/<int:pk>/download/<str:fmt>/", views.report_download, name="esrs-report-download"),
    path("o/<slug:org_slug>/esrs/settings/", views.settings_general, name="esrs-settings"),
    path("o/<slug:org_slug>/esrs/settings/scope3/", views.settings_screening, name="esrs-screening"),
    path("o/<slug:org_slug>/esrs/settings/other/import/", views.other_import, name="esrs-other-import"),
    path(
        "o/<slug:org_slug>/esrs/settings/other/import/<int:pk>/",
        views.other_import_detail,
        name="esrs-other-import-detail",
    ),
    path("o/<slug:org_slug>/esrs/settings/<slug:section>/", views.settings_section, name="esrs-settings-section"),
    path(
        "o/<slug:org_slug>/esrs/settings/<slug:section>/<int:pk>/delete/",
        views.settings_delete,
        name="esrs-settings-delete",
    ),
]
