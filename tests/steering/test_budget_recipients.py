"""Who is mailed when a project crosses a budget threshold: capability holders who can see the project."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.core import mail

from greenesg.accounts.models import Membership, Project, Role
from steering import budget, services
from tests.steering.conftest import add_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registry")]


def test_officers_and_the_projects_engineers_are_mailed_auditors_and_other_engineers_not(
    project: Project, other_project: Project, officer, engineer, auditor
) -> None:
    web_only = User.objects.create_user(username="wes", email="wes@example.org")
    Membership.objects.create(user=web_only, organisation=project.organisation, role=Role.ENGINEER).projects.add(
        other_project
    )
    period = budget.period_parse("2026-11")
    services.budget_set(project=project, period=period, kg=10.0, actor=None, actor_label="test")
    add_run(project, day=dt.date(2026, 11, 2), kg=5.5)  # 55 %: the 50 % threshold
    assert [n.threshold for n in services.budget_check_after_import(project_id=project.pk)] == [50]
    assert [sorted(m.to) for m in mail.outbox] == [["erin@example.org", "olivia@example.org"]]
