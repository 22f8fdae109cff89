"""Officer pages: project create/settings, members, audit log — per role, outsider and bad input."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client

from greenesg.accounts.models import AuditLog, Membership, Project, Role

pytestmark = pytest.mark.django_db


def test_an_officer_creates_a_project_and_it_is_audited(officer_client: Client, org) -> None:
    response = officer_client.post(
        "/o/acme/projects/new/",
        {
            "slug": "vision",
            "name": "Vision",
            "team": "CV",
            "host_timezone": "Europe/Berlin",
            "infrastructure": "own",
            "site_pue": "1.2",
            "inventory_source": "billing",
        },
    )
    assert response.status_code == 302
    project = Project.objects.get(organisation=org, slug="vision")
    assert (project.host_timezone, project.infrastructure, project.site_pue) == ("Europe/Berlin", "own", 1.2)
    entry = AuditLog.objects.get(action="project.create")
    assert entry.actor_label == "olivia" and entry.after["slug"] == "vision"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("host_timezone", "Mars/Olympus", "IANA"),
        ("site_pue", "0.5", "between 1.0"),
        ("slug", "ml", "already uses"),
        ("slug", "Not A Slug!", "slug"),
    ],
)
def test_invalid_project_settings_are_refused_with_a_message(
    officer_client: Client, project: Project, field: str, value: str, message: str
) -> None:
    data = {
        "slug": "new",
        "name": "New",
        "team": "",
        "host_timezone": "",
        "infrastructure": "auto",
        "site_pue": "",
        "inventory_source": "billing",
        field: value,
    }
    response = officer_client.post("/o/acme/projects/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Project.objects.filter(slug="new").exists()


def test_settings_changes_record_before_and_after(officer_client: Client, project: Project) -> None:
    response = officer_client.post(
        f"/o/acme/p/{project.slug}/settings/",
        {
            "slug": "ml",
            "name": "ML platform",
            "team": "DS",
            "host_timezone": "UTC",
            "infrastructure": "cloud",
            "site_pue": "",
            "inventory_source": "codecarbon",
        },
    )
    assert response.status_code == 302
    entry = AuditLog.objects.get(action="project.update")
    assert entry.before["infrastructure"] == "auto" and entry.after["infrastructure"] == "cloud"


@pytest.mark.parametrize("url", ["/o/acme/projects/new/", "/o/acme/p/ml/settings/"])
def test_engineers_and_auditors_cannot_change_settings(
    engineer_client: Client, auditor_client: Client, project: Project, url: str
) -> None:
    assert engineer_client.get(url).status_code == 403
    assert auditor_client.get(url).status_code == 403


@pytest.mark.parametrize(
    "url", ["/o/acme/projects/new/", "/o/acme/p/ml/settings/", "/o/acme/members/", "/o/acme/audit/"]
)
def test_outsiders_get_404_and_anonymous_users_go_to_login(
    outsider_client: Client, client: Client, project: Project, url: str
) -> None:
    assert outsider_client.get(url).status_code == 404
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_officer_adds_an_engineer_to_some_projects(
    officer_client: Client, org, project: Project, other_project: Project
) -> None:
    newbie = User.objects.create_user("nina", password="x")
    response = officer_client.post(
        "/o/acme/members/", {"username": "nina", "role": Role.ENGINEER, "projects": [project.pk]}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=newbie, organisation=org)
    assert list(membership.projects.all()) == [project]
    assert AuditLog.objects.filter(action="membership.create").exists()


def test_an_unknown_user_name_is_a_form_error(officer_client: Client, org) -> None:
    response = officer_client.post("/o/acme/members/", {"username": "ghost", "role": Role.AUDITOR})
    assert response.status_code == 400
    assert "No user with this name" in response.content.decode()


def test_auditors_read_members_and_the_audit_log_but_cannot_write(auditor_client: Client, officer, org) -> None:
    assert auditor_client.get("/o/acme/members/").status_code == 200
    assert auditor_client.post("/o/acme/members/", {"username": "olivia", "role": "auditor"}).status_code == 403
    assert auditor_client.get("/o/acme/audit/").status_code == 200


def test_engineers_cannot_read_the_audit_log(engineer_client: Client) -> None:
    assert engineer_client.get("/o/acme/audit/").status_code == 403


def test_the_audit_log_exports_formula_safe_csv(auditor_client: Client, officer_client: Client, org) -> None:
    officer_client.post(
        "/o/acme/projects/new/",
        {
            "slug": "x",
            "name": '=HYPERLINK("http://evil","y")',
            "team": "",
            "host_timezone": "",
            "infrastructure": "auto",
            "site_pue": "",
            "inventory_source": "billing",
        },
    )
    response = auditor_client.get("/o/acme/audit/?format=csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content if response.streaming else [response.content]).decode()
    assert "project.create" in body
    # Formula safety is about where a cell starts: the name may sit inside the JSON snapshot cell.
    cells = [cell for row in csv.reader(io.StringIO(body.lstrip("\ufeff"))) for cell in row]
    assert any('name: – → =HYPERLINK("http://evil","y")' in cell for cell in cells)
    assert not [cell for cell in cells if cell.startswith("=")]


def test_an_officer_cannot_remove_themselves(officer_client: Client, officer, org) -> None:
    membership = Membership.objects.get(user=officer)
    officer_client.post(f"/o/acme/members/{membership.pk}/remove/")
    assert Membership.objects.filter(pk=membership.pk).exists()
