"""The members page picks an engineer's projects from a checklist, not a Ctrl-click multi-select (issue 14 item 7)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client

from greenesg.accounts.models import Membership, Project, Role

pytestmark = pytest.mark.django_db


def test_the_form_lists_the_projects_as_checkboxes_with_a_filter_script(
    officer_client: Client, project: Project, other_project: Project
) -> None:
    response = officer_client.get("/o/acme/members/")
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find("select", attrs={"multiple": True}) is None
    checklist = soup.find("fieldset", class_="checklist")
    assert checklist is not None and checklist.legend.get_text() == "Projects"
    boxes = checklist.find_all("input", attrs={"type": "checkbox", "name": "projects"})
    assert sorted(b["value"] for b in boxes) == sorted([str(project.pk), str(other_project.pk)])
    assert "ML platform (ml)" in checklist.get_text()  # names to filter by, not "acme/ml"
    assert soup.find("script", src=lambda src: bool(src) and "js/checklist" in src) is not None


def test_the_checked_projects_are_saved(officer_client: Client, org, project: Project, other_project: Project) -> None:
    nina = User.objects.create_user("nina", password="x")
    response = officer_client.post(
        "/o/acme/members/", {"username": "nina", "role": Role.ENGINEER, "projects": [project.pk, other_project.pk]}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=nina, organisation=org)
    assert set(membership.projects.all()) == {project, other_project}
    # Unticking one keeps only the other.
    officer_client.post("/o/acme/members/", {"username": "nina", "role": Role.ENGINEER, "projects": [other_project.pk]})
    assert list(membership.projects.all()) == [other_project]


def test_a_project_of_another_organisation_is_refused_beside_the_checklist(
    officer_client: Client, org, foreign_project: Project
) -> None:
    User.objects.create_user("nina", password="x")
    response = officer_client.post(
        "/o/acme/members/", {"username": "nina", "role": Role.ENGINEER, "projects": [foreign_project.pk]}
    )
    assert response.status_code == 400 and not Membership.objects.filter(user__username="nina").exists()
    soup = BeautifulSoup(response.content, "html.parser")
    alert = soup.find("fieldset", class_="checklist").find(attrs={"role": "alert"})
    assert alert is not None and "valid choice" in alert.get_text()


def test_auditors_see_members_without_the_form_or_script(auditor_client: Client, org) -> None:
    response = auditor_client.get("/o/acme/members/")
    assert response.status_code == 200
    assert b"checklist" not in response.content


def test_outsiders_get_no_member_page(outsider_client: Client, org) -> None:
    assert outsider_client.get("/o/acme/members/").status_code == 404
