from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from greenesg.accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("o/<slug:org_slug>/p/<slug:project_slug>/tokens/", views.project_tokens, name="project-tokens"),
    path(
        "o/<slug:org_slug>/p/<slug:project_slug>/tokens/<int:token_id>/revoke",
        views.project_token_revoke,
        name="project-token-revoke",
    ),
]
