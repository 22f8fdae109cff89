"""The capabilities table (greenesg/accounts/access.py, docs/security.md §2) and the ways code reads it."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import Client

from greenesg.accounts.access import (
    ROLE_CAPABILITIES,
    Capability,
    capability_has,
    member_can,
    org_access_for_user,
    project_access_for_user,
    role_capabilities,
    roles_with,
)
from greenesg.accounts.models import Membership, Role

C = Capability
READ_EVERYTHING = {C.VIEW_WHOLE_ORG, C.VIEW_REPORTS, C.VIEW_ESG, C.VIEW_MEMBERS, C.VIEW_AUDIT_LOG}


def test_every_role_has_a_row_and_every_capability_a_holder() -> None:
    assert set(ROLE_CAPABILITIES) == set(Role.values)
    assert set().union(*ROLE_CAPABILITIES.values()) == set(Capability)


def test_the_officer_runs_the_organisation() -> None:
    # Officer / admin: reads every dashboard, uploads, sets factors, targets and budgets, generates and signs.
    assert role_capabilities(Role.OFFICER) == set(Capability)


def test_the_engineer_writes_into_own_projects_only() -> None:
    # Imports and project tokens, budget alerts; no organisation-wide page and nothing of ESG, reports, members.
    assert role_capabilities(Role.ENGINEER) == {C.WRITE_PROJECT_DATA, C.MANAGE_TOKENS, C.RECEIVE_BUDGET_ALERTS}


def test_the_auditor_reads_everything_and_writes_nothing() -> None:
    caps = role_capabilities(Role.AUDITOR)
    assert caps == READ_EVERYTHING
    assert C.VIEW_DRAFT_REPORTS not in caps  # signed reports only
    assert all(cap.value.startswith("view_") for cap in caps)


def test_an_unknown_role_may_do_nothing() -> None:
    assert role_capabilities("intern") == frozenset()
    assert not capability_has(Membership(role="intern"), C.VIEW_WHOLE_ORG)
    assert not capability_has(None, C.VIEW_WHOLE_ORG)


def test_roles_with_reads_the_table_backwards() -> None:
    assert roles_with(C.VIEW_WHOLE_ORG) == {Role.OFFICER, Role.AUDITOR}
    assert roles_with(C.WRITE_PROJECT_DATA) == {Role.OFFICER, Role.ENGINEER}
    assert roles_with(C.SIGN_REPORTS) == {Role.OFFICER}


@pytest.mark.django_db
def test_member_can_asks_the_membership_in_that_organisation(org, other_org, officer, auditor, outsider) -> None:
    assert member_can(organisation=org, user=officer, capability=C.MANAGE_ESG)
    assert not member_can(organisation=org, user=auditor, capability=C.MANAGE_ESG)
    assert not member_can(organisation=org, user=outsider, capability=C.VIEW_ESG)  # officer elsewhere only
    assert not member_can(organisation=org, user=None, capability=C.VIEW_ESG)


@pytest.mark.django_db
def test_org_and_project_access_read_the_table(officer, engineer, auditor) -> None:
    assert org_access_for_user(officer, "acme").can(C.MANAGE_BUDGETS)
    engineer_access = project_access_for_user(engineer, "acme", "ml")
    assert engineer_access.can(C.WRITE_PROJECT_DATA) and not engineer_access.can(C.VIEW_WHOLE_ORG)
    assert engineer_access.caps == role_capabilities(Role.ENGINEER)
    assert not project_access_for_user(auditor, "acme", "web").can(C.WRITE_PROJECT_DATA)


@pytest.mark.django_db
def test_the_template_filter_reads_the_table_and_refuses_unknown_names(officer, engineer) -> None:
    template = Template('{% load capabilities %}{% if subject|can:"view_whole_org" %}all{% else %}own{% endif %}')
    officer_membership = Membership.objects.get(user=officer)
    assert template.render(Context({"subject": officer_membership})) == "all"
    assert template.render(Context({"subject": org_access_for_user(engineer, "acme")})) == "own"
    assert template.render(Context({"subject": None})) == "own"
    with pytest.raises(ValueError, match="manage_everything"):
        Template('{% load capabilities %}{{ m|can:"manage_everything" }}').render(Context({"m": officer_membership}))


NAV_ALL = [
    "Overview",
    "My projects",
    "ESG",
    "Budgets",
    "Savings",
    "Cloud billing",
    "Reports",
    "Data quality",
    "Members",
    "Audit log",
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "labels"),
    [
        ("officer_client", [*NAV_ALL[:3], "Approvals", *NAV_ALL[3:]]),  # the inbox is for approvers
        ("auditor_client", NAV_ALL),
        ("engineer_client", ["Overview", "My projects", "Budgets", "Savings"]),
    ],
)
def test_navigation_shows_only_pages_the_role_may_open(persona: str, labels: list[str], request) -> None:
    client: Client = request.getfixturevalue(persona)
    response = client.get("/o/acme/")
    assert [link["label"] for link in response.context["org_nav"]] == labels
    for link in response.context["org_nav"]:
        assert client.get(link["url"]).status_code == 200, link
