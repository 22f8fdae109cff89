"""The approvals inbox (issue 14 item 4): what waits for an officer, decided in place, four-eyes kept."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from esg import services
from esg.inbox import inbox_count
from esg.models import FactorSetChangeRequest, MetricValue
from esg.periods import period_parse
from greenesg.accounts.models import Membership
from reports.models import Report, ReportStatus
from tests.esg.conftest import GOOD_Q3

pytestmark = pytest.mark.django_db

INBOX = "/o/acme/esg/inbox/"
BULK = "/o/acme/esg/inbox/values/approve/"


def _submit(org, actor, cells: dict[str, str], period: str = "2026-Q3") -> None:
    services.metric_values_submit(
        organisation=org, actor=actor, period=period_parse(period), cells=cells, source="test", evidence="HR export"
    )


@pytest.fixture
def waiting(org, officer, second_officer):
    """Olivia (officer) submitted Q3's headcounts; Otto submitted two Q2 values and a factor-set change."""
    _submit(org, officer, {k: v for k, v in GOOD_Q3.items() if k.startswith("S1-6.")})
    _submit(org, second_officer, {"S1-14.recordable_accidents": "1", "S1-14.hours_worked": "150000"}, "2026-Q2")
    change = services.factor_set_change_submit(
        organisation=org,
        actor=second_officer,
        name="grid",
        kind="grid_country",
        source="src",
        reason="new data",
        factors=[{"zone": "FRA", "vintage_year": 2026, "g_co2e_per_kwh": 20.0}],
    )
    report = Report.objects.create(organisation=org, period="2026-Q3", status=ReportStatus.READY)
    Report.objects.create(organisation=org, period="2026-Q2", status=ReportStatus.SIGNED)
    return {"change": change, "report": report}


def _value(code: str) -> MetricValue:
    return MetricValue.objects.get(metric_code=code)


def test_it_lists_values_factor_changes_and_reports_waiting(officer_client: Client, waiting) -> None:
    response = officer_client.get(INBOX)
    page = response.content.decode()
    assert response.status_code == 200
    assert "S1-14.hours_worked" in page and "S1-6.headcount" in page
    assert "grid@v1" in page
    assert f"/o/acme/esrs/{waiting['report'].pk}/sign/" in page  # signing stays on its confirmation page
    assert "2026-Q2 v1" not in page  # a signed report waits for nobody


def test_own_submissions_have_no_approve_button(officer_client: Client, waiting) -> None:
    page = officer_client.get(INBOX).content.decode()
    own, others = _value("S1-6.headcount"), _value("S1-14.hours_worked")
    assert f"/inbox/values/{own.pk}/approve/" not in page
    assert f"/inbox/values/{others.pk}/approve/" in page
    assert f"/inbox/factor-sets/{waiting['change'].pk}/approve/" in page  # Otto's change: Olivia may decide


def test_it_approves_and_rejects_a_value_in_place(officer_client: Client, waiting) -> None:
    accidents, hours = _value("S1-14.recordable_accidents"), _value("S1-14.hours_worked")
    response = officer_client.post(f"{INBOX}values/{accidents.pk}/approve/")
    assert response.status_code == 302 and response["Location"] == INBOX
    response = officer_client.post(f"{INBOX}values/{hours.pk}/reject/", {"reason": "hours look too low"})
    assert response.status_code == 302
    accidents.refresh_from_db(), hours.refresh_from_db()
    assert accidents.status == "approved" and hours.status == "rejected"
    assert hours.rejection_reason == "hours look too low"


def test_approving_ones_own_value_in_place_is_refused(officer_client: Client, waiting) -> None:
    own = _value("S1-6.headcount")
    assert officer_client.post(f"{INBOX}values/{own.pk}/approve/").status_code == 403
    own.refresh_from_db()
    assert own.status == "submitted"


def test_a_rejection_without_a_reason_is_a_400(officer_client: Client, waiting) -> None:
    hours = _value("S1-14.hours_worked")
    response = officer_client.post(f"{INBOX}values/{hours.pk}/reject/", {"reason": "no"})
    assert response.status_code == 400 and "at least 5 characters" in response.content.decode()
    hours.refresh_from_db()
    assert hours.status == "submitted"


def test_a_value_decided_meanwhile_is_a_409(officer_client: Client, second_officer, waiting) -> None:
    hours = _value("S1-14.hours_worked")
    # Another officer withdraws it (a rejection needs no second pair of eyes) while Olivia's page is open.
    services.metric_value_reject(value=hours, actor=second_officer, reason="typo in the hours")
    response = officer_client.post(f"{INBOX}values/{hours.pk}/approve/")
    assert response.status_code == 409 and "Only submitted values" in response.content.decode()
    hours.refresh_from_db()
    assert hours.status == "rejected"


def test_bulk_approval_skips_and_reports_ones_own_submissions(officer_client: Client, waiting) -> None:
    picked = [_value("S1-14.hours_worked"), _value("S1-14.recordable_accidents"), _value("S1-6.headcount")]
    response = officer_client.post(BULK, {"value": [v.pk for v in picked]}, follow=True)
    page = response.content.decode()
    assert "2 value(s) approved" in page
    assert "Skipped 1 you submitted (four-eyes): S1-6.headcount (2026-Q3)" in page
    statuses = {v.metric_code: MetricValue.objects.get(pk=v.pk).status for v in picked}
    assert statuses == {
        "S1-14.hours_worked": "approved",
        "S1-14.recordable_accidents": "approved",
        "S1-6.headcount": "submitted",
    }


def test_bulk_approval_needs_a_selection_of_submitted_values(officer_client: Client, waiting, other_org) -> None:
    assert officer_client.post(BULK, {}).status_code == 400
    foreign = MetricValue.objects.create(
        organisation=other_org,
        metric_code="S1-6.headcount",
        period="2026-Q3",
        value=1,
        submitted_at="2026-07-01T00:00Z",
    )
    response = officer_client.post(BULK, {"value": [foreign.pk]})
    assert response.status_code == 400
    foreign.refresh_from_db()
    assert foreign.status == "submitted"


def test_factor_changes_are_decided_in_place_with_four_eyes(
    officer_client: Client, second_officer_client: Client, waiting
) -> None:
    change: FactorSetChangeRequest = waiting["change"]
    assert second_officer_client.post(f"{INBOX}factor-sets/{change.pk}/approve/").status_code == 403
    assert officer_client.post(f"{INBOX}factor-sets/{change.pk}/reject/", {"reason": ""}).status_code == 400
    response = officer_client.post(f"{INBOX}factor-sets/{change.pk}/reject/", {"reason": "source is outdated"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == "rejected" and change.decision_reason == "source is outdated"


def test_anonymous_users_go_to_login(client: Client, waiting) -> None:
    response = client.get(INBOX)
    assert response.status_code == 302 and "/login/" in response["Location"]
    value = _value("S1-14.hours_worked")
    assert "/login/" in client.post(f"{INBOX}values/{value.pk}/approve/")["Location"]
    assert _value("S1-14.hours_worked").status == "submitted"


def test_outsiders_get_404(outsider_client: Client, waiting) -> None:
    value = _value("S1-14.hours_worked")
    assert outsider_client.get(INBOX).status_code == 404
    assert outsider_client.post(f"{INBOX}values/{value.pk}/approve/").status_code == 404
    assert outsider_client.post(BULK, {"value": [value.pk]}).status_code == 404
    assert _value("S1-14.hours_worked").status == "submitted"


@pytest.mark.parametrize("persona", ["engineer_client", "auditor_client"])
def test_members_without_the_approve_capability_get_403(persona: str, request, waiting) -> None:
    client: Client = request.getfixturevalue(persona)
    value = _value("S1-14.hours_worked")
    assert client.get(INBOX).status_code == 403
    assert client.post(f"{INBOX}values/{value.pk}/approve/").status_code == 403
    assert client.post(BULK, {"value": [value.pk]}).status_code == 403
    assert _value("S1-14.hours_worked").status == "submitted"


def test_the_nav_count_is_what_waits_for_me_in_one_query(officer, org, waiting) -> None:
    membership = Membership.objects.select_related("organisation").get(user=officer, organisation=org)
    with CaptureQueriesContext(connection) as queries:
        count = inbox_count(membership, officer)
    # Otto's two values and his factor change, the ready report; not Olivia's own four values.
    assert count == 4
    assert len(queries) == 1


def test_the_nav_shows_the_badge_to_approvers_only(officer_client: Client, auditor_client: Client, waiting) -> None:
    page = officer_client.get("/o/acme/esg/?period=2026-Q3").content.decode()
    assert 'href="/o/acme/esg/inbox/"' in page and '<span class="nav-badge">4<' in page
    page = auditor_client.get("/o/acme/esg/?period=2026-Q3").content.decode()
    assert "/o/acme/esg/inbox/" not in page and "nav-badge" not in page
