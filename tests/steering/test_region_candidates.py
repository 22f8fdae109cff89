"""Ranking my candidate regions on the advice page: savings per month on the project's actual load, the
residency filter, bad input, permissions, and the "same runs elsewhere" panel kept within provider and area."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from greenesg.accounts.models import Project
from steering import selectors
from tests.steering.conftest import TODAY, add_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registry")]

URL = "/o/acme/p/ml/advice/"
# Seeded registry (cloud-aws-ccf-2022), g CO2e/kWh.
FRANKFURT, STOCKHOLM, PARIS, LONDON, OREGON = 311.0, 8.8, 51.1, 225.0, 322.167


@pytest.fixture
def load(project: Project) -> Project:
    # TODAY is 2026-11-10: the load window is August, September and October 2026.
    add_run(project, day=dt.date(2026, 8, 2), kg=1.0, kwh=30.0, provider="aws", region="eu-central-1")
    add_run(project, day=dt.date(2026, 9, 5), kg=1.0, kwh=60.0, provider="aws", region="eu-central-1")
    add_run(project, day=dt.date(2026, 10, 9), kg=1.0, kwh=90.0, provider="AWS", region="eu-central-1")
    # Outside the load: this month (still filling), July, another region, and a record outside the inventory.
    add_run(project, day=dt.date(2026, 11, 2), kg=1.0, kwh=1000.0, provider="aws", region="eu-central-1")
    add_run(project, day=dt.date(2026, 7, 30), kg=1.0, kwh=1000.0, provider="aws", region="eu-central-1")
    add_run(project, day=dt.date(2026, 9, 6), kg=1.0, kwh=500.0, provider="aws", region="eu-north-1")
    add_run(
        project, day=dt.date(2026, 9, 7), kg=1.0, kwh=700.0, provider="aws", region="eu-central-1", in_inventory=False
    )
    return project


def _rank(client: Client, residency: str = "any", candidates: str = "eu-west-2,eu-north-1,us-west-2,eu-west-3"):
    query = {"provider": "aws", "current_region": "eu-central-1", "candidates": candidates, "residency": residency}
    return client.get(URL, query)


def test_the_load_window_is_the_last_three_whole_months() -> None:
    assert [m.key for m in selectors.last_full_months(TODAY)] == ["2026-08", "2026-09", "2026-10"]
    assert [m.key for m in selectors.last_full_months(dt.date(2026, 2, 28))] == ["2025-11", "2025-12", "2026-01"]


def test_savings_per_month_by_hand(engineer_client: Client, load: Project) -> None:
    response = _rank(engineer_client)
    assert response.status_code == 200
    ranked = response.context["ranked"]
    assert [kwh for _, kwh in ranked.monthly_kwh] == [30.0, 60.0, 90.0]
    assert ranked.kwh_per_month == pytest.approx(60.0)
    assert ranked.current.g_co2e_per_kwh == FRANKFURT
    rows = {row.region: row.saving_kg_per_month for row in ranked.savings}
    assert [row.region for row in ranked.savings] == ["eu-north-1", "eu-west-3", "eu-west-2", "us-west-2"]
    # 60 kWh a month × (311 − 8.8) g/kWh = 18.132 kg; × (311 − 51.1) = 15.594; × (311 − 225) = 5.16;
    # Oregon is dirtier: 60 × (311 − 322.167) = −0.67002 kg.
    assert rows["eu-north-1"] == pytest.approx(18.132)
    assert rows["eu-west-3"] == pytest.approx(15.594)
    assert rows["eu-west-2"] == pytest.approx(5.16)
    assert rows["us-west-2"] == pytest.approx(-0.67002)
    assert "18.1" in response.content.decode()


def test_eu_only_excludes_london(engineer_client: Client, load: Project) -> None:
    ranked = _rank(engineer_client, residency="eu").context["ranked"]
    assert [row.region for row in ranked.savings] == ["eu-north-1", "eu-west-3"]
    assert ranked.excluded == [("eu-west-2", "GB"), ("us-west-2", "US")]


def test_same_jurisdiction_keeps_only_the_same_country(engineer_client: Client, load: Project) -> None:
    query = {"provider": "aws", "current_region": "us-east-1", "candidates": "us-west-2,ca-central-1,eu-north-1"}
    ranked = engineer_client.get(URL, {**query, "residency": "same"}).context["ranked"]
    assert [row.region for row in ranked.savings] == ["us-west-2"]
    assert [region for region, _ in ranked.excluded] == ["ca-central-1", "eu-north-1"]
    assert ranked.kwh_per_month == 0.0  # no load in us-east-1: nothing to save yet
    assert ranked.savings[0].saving_kg_per_month == 0.0


def test_a_multi_select_sends_one_parameter_per_region(auditor_client: Client, load: Project) -> None:
    query = {"provider": "aws", "current_region": "eu-central-1", "candidates": ["eu-north-1", "eu-west-3"]}
    response = auditor_client.get(URL, query)  # auditors read: ranking changes nothing
    assert response.status_code == 200
    assert [row.region for row in response.context["ranked"].savings] == ["eu-north-1", "eu-west-3"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"candidates": "eu-north-1,atlantis-1"}, "candidates", "atlantis-1"),
        ({"candidates": ""}, "candidates", "required"),
        ({"candidates": " , ,"}, "candidates", "at least one"),
        ({"current_region": "atlantis-1"}, "current_region", "atlantis-1"),
        ({"candidates": "europe-north1"}, "candidates", "europe-north1"),  # a GCP region, not AWS
        ({"residency": "nearby"}, "residency", "nearby"),
        ({"provider": "oracle"}, "provider", "oracle"),
    ],
)
def test_bad_input_is_a_form_error(
    engineer_client: Client, load: Project, change: dict, field: str, message: str
) -> None:
    query = {"provider": "aws", "current_region": "eu-central-1", "candidates": "eu-north-1", "residency": "any"}
    response = engineer_client.get(URL, {**query, **change})
    assert response.status_code == 400
    assert response.context["ranked"] is None
    assert message in " ".join(response.context["rank_form"].errors[field])


def test_outsiders_get_404_and_anonymous_users_go_to_login(
    outsider_client: Client, client: Client, load: Project
) -> None:
    query = {"provider": "aws", "current_region": "eu-central-1", "candidates": "eu-north-1"}
    assert outsider_client.get(URL, query).status_code == 404
    assert client.get(URL, query).status_code == 302


def test_same_runs_elsewhere_stay_within_provider_and_residency_area(engineer_client: Client, project: Project) -> None:
    add_run(project, day=dt.date(2026, 11, 2), kg=3.11, kwh=10.0, provider="aws", region="eu-central-1")
    add_run(project, day=dt.date(2026, 11, 3), kg=3.79, kwh=10.0, provider="aws", region="us-east-1")
    add_run(project, day=dt.date(2026, 11, 4), kg=2.25, kwh=10.0, provider="aws", region="eu-west-2")
    add_run(project, day=dt.date(2026, 11, 5), kg=1.0, kwh=10.0, provider="aws", region="xx-mars-1")
    page = engineer_client.get(URL + "?period=2026-11")
    rows = {row["region"]: row for row in page.context["comparison"]}
    frankfurt = [alt.region for alt in rows["eu-central-1"]["alternatives"]]
    assert frankfurt[0] == "eu-north-1" and "eu-west-2" not in frankfurt and "eu-central-1" not in frankfurt
    assert all(region.startswith("eu-") for region in frankfurt)
    assert rows["eu-central-1"]["alternatives"][0].kg == pytest.approx(10.0 * STOCKHOLM / 1000)
    assert {alt.region[:3] for alt in rows["us-east-1"]["alternatives"]} == {"us-"}
    assert rows["eu-west-2"]["alternatives"] == []  # London is the only AWS region in GB
    assert rows["xx-mars-1"]["alternatives"] == []  # cannot be placed: no border crossed by accident
    assert "cannot place xx-mars-1" in page.content.decode()
