"""The project token page, revocation and `manage.py create_token`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from greenesg.accounts.models import ApiToken, AuditLog
from greenesg.accounts.services import api_token_create

TOKENS = "/o/acme/p/ml/tokens/"


def test_the_url_names_resolve():
    assert reverse("project-tokens", args=["acme", "ml"]) == TOKENS
    assert reverse("project-token-revoke", args=["acme", "ml", 3]) == "/o/acme/p/ml/tokens/3/revoke"


@pytest.mark.parametrize("persona", ["officer_client", "engineer_client"])
def test_officers_and_engineers_create_a_token_shown_once(request, persona, project):
    client = request.getfixturevalue(persona)
    response = client.post(TOKENS, {"name": "GitHub Actions", "scopes": ["ingest", "ci-gate"]})

    assert response.status_code == 200
    token = ApiToken.objects.get()
    raw = response.context["new_token"].raw
    assert raw.startswith(f"ges_ci_{token.prefix}_") and raw in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert f"/api/v1/live/{raw}" in response.content.decode()
    assert raw not in client.get(TOKENS).content.decode()  # never again
    assert raw not in token.digest and token.name == "GitHub Actions"
    assert AuditLog.objects.filter(action="token.create").exists()


def test_a_created_token_works_as_bearer(officer_client, project):
    raw = officer_client.post(TOKENS, {"name": "ci", "scopes": ["read"]}).context["new_token"].raw
    response = Client().get("/api/v1/projects/acme/ml/imports", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


def test_the_list_shows_prefix_dates_and_revocation(officer_client, project, officer):
    token = api_token_create(project=project, name="nightly", created_by=officer).token
    page = officer_client.get(TOKENS).content.decode()
    assert "nightly" in page and token.prefix in page and "never" in page
    assert reverse("project-token-revoke", args=["acme", "ml", token.pk]) in page


def test_auditors_see_the_list_read_only(auditor_client, project, officer):
    token = api_token_create(project=project, name="nightly", created_by=officer).token
    page = auditor_client.get(TOKENS)
    assert page.status_code == 200 and b"nightly" in page.content
    assert b"Create token" not in page.content and b"/revoke" not in page.content
    assert auditor_client.post(TOKENS, {"name": "x"}).status_code == 403
    assert auditor_client.post(reverse("project-token-revoke", args=["acme", "ml", token.pk])).status_code == 403
    assert ApiToken.objects.count() == 1 and ApiToken.objects.get().revoked_at is None


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("outsider_client", TOKENS),
        ("engineer_client", "/o/acme/p/web/tokens/"),
    ],
)
def test_non_members_get_404(request, persona, url, other_project):
    client = request.getfixturevalue(persona)
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "x"}).status_code == 404
    assert not ApiToken.objects.exists()


def test_anonymous_is_sent_to_login(client, project):
    response = client.get(TOKENS)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_blank_name_is_refused(officer_client, project):
    response = officer_client.post(TOKENS, {"name": "  "})
    assert response.status_code == 400 and not ApiToken.objects.exists()


def test_revoking_takes_effect_at_once(engineer_client, project, project_token):
    token = ApiToken.objects.get()
    api = Client()
    assert api.get("/api/v1/projects/acme/ml/imports", HTTP_AUTHORIZATION=f"Bearer {project_token}").status_code == 200

    response = engineer_client.post(reverse("project-token-revoke", args=["acme", "ml", token.pk]))

    assert response.status_code == 302 and response["Location"] == TOKENS
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/api/v1/projects/acme/ml/imports", HTTP_AUTHORIZATION=f"Bearer {project_token}").status_code == 401
    assert AuditLog.objects.filter(action="token.revoke").count() == 1


def test_tokens_of_other_projects_cannot_be_revoked_through_this_one(officer_client, other_project, officer):
    token = api_token_create(project=other_project, name="web", created_by=officer).token
    response = officer_client.post(reverse("project-token-revoke", args=["acme", "ml", token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_is_post_only(officer_client, project_token):
    token = ApiToken.objects.get()
    assert officer_client.get(reverse("project-token-revoke", args=["acme", "ml", token.pk])).status_code == 405


def test_forms_need_the_csrf_token(officer, project_token):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    token = ApiToken.objects.get()
    assert client.post(TOKENS, {"name": "x"}).status_code == 403
    assert client.post(reverse("project-token-revoke", args=["acme", "ml", token.pk])).status_code == 403
    assert ApiToken.objects.count() == 1 and ApiToken.objects.get().revoked_at is None


def test_create_token_prints_only_a_usable_token(project):
    out, err = StringIO(), StringIO()
    call_command("create_token", "acme/ml", "--name", "deploy", "--scope", "read", stdout=out, stderr=err)

    raw = out.getvalue().strip()
    assert "\n" not in raw and raw.startswith("ges_ci_")
    assert ApiToken.objects.get().name == "deploy"
    response = Client().get("/api/v1/projects/acme/ml/imports", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


@pytest.mark.parametrize("label", ["acme/nope", "nope/ml", "acme", "acme/ml/x"])
def test_create_token_fails_for_unknown_projects(project, label):
    with pytest.raises(CommandError) as excinfo:
        call_command("create_token", label, stdout=StringIO(), stderr=StringIO())
    assert excinfo.value.returncode == 1
    assert not ApiToken.objects.exists()
