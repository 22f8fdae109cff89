from __future__ import annotations

from django.urls import path

from ingestion import views

urlpatterns = [
    path("o/<slug:org_slug>/p/<slug:project_slug>/upload", views.project_upload, name="project-upload"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/imports/", views.project_imports, name="project-imports"),
    path("o/<slug:org_slug>/imports/<uuid:job_id>/", views.import_detail, name="import-detail"),
    path("o/<slug:org_slug>/imports/<uuid:job_id>/status.json", views.import_status, name="import-status"),
    path("o/<slug:org_slug>/imports/<uuid:job_id>/rejected.csv", views.import_rejected_csv, name="import-rejected-csv"),
    path("o/<slug:org_slug>/imports/<uuid:job_id>/file", views.import_file, name="import-file"),
]
