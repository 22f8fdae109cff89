from __future__ import annotations

from django.urls import path

from greenesg.accounts import manage_views as views

urlpatterns = [
    path("o/<slug:org_slug>/projects/new/", views.project_create, name="project-create"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/settings/", views.project_settings, name="project-settings"),
    path("o/<slug:org_slug>/members/", views.org_members, name="org-members"),
    path("o/<slug:org_slug>/members/<int:membership_id>/remove/", views.member_remove, name="member-remove"),
    path("o/<slug:org_slug>/members/unlock/", views.member_unlock, name="member-unlock"),
    path("o/<slug:org_slug>/audit/", views.audit_log, name="org-audit"),
]
