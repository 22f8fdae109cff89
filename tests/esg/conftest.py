"""ESG fixtures: a second officer (four-eyes needs two), helpers to submit values."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from greenesg.accounts.models import Membership, Organisation, Role

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def second_officer(org: Organisation) -> User:
    user = User.objects.create_user(username="otto", password="pw-otto")
    Membership.objects.create(user=user, organisation=org, role=Role.OFFICER)
    return user


@pytest.fixture
def second_officer_client(second_officer: User) -> Client:
    client = Client()
    client.force_login(second_officer)
    return client


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


GOOD_Q3 = {
    "S1-6.headcount": "100",
    "S1-6.headcount_female": "40",
    "S1-6.headcount_male": "59",
    "S1-6.headcount_other": "1",
    "S1-6.leavers": "5",
    "S1-14.recordable_accidents": "2",
    "S1-14.hours_worked": "160000",
    "S1-16.avg_pay_male": "40",
    "S1-16.avg_pay_female": "35",
    "S1-16.highest_remuneration": "300000",
    "S1-16.median_remuneration": "60000",
}
