"""ESG pages per role: officers enter, approve and close; auditors read everything including history;
engineers see their own project's scorecard only; outsiders get 404; anonymous users go to login."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from esg import services
from esg.models import EsgSettings, MetricValue, ModelReview, ReportingPeriod
from esg.periods import period_parse
from greenesg.accounts.models import AuditLog
from tests.esg.conftest import GOOD_Q3

pytestmark = pytest.mark.django_db

READ_PAGES = [
    "/o/acme/esg/?period=2026-Q3",
    "/o/acme/esg/2026-Q3/m/S1-6.headcount/",
    "/o/acme/esg/2026-Q3/export.csv",
    "/o/acme/esg/template.csv",
    "/o/acme/esg/factor-sets/",
]
OFFICER_PAGES = ["/o/acme/esg/2026-Q3/enter/", "/o/acme/esg/import/", "/o/acme/esg/settings/"]
POSTS = [
    "/o/acme/esg/2026-Q3/close/",
    "/o/acme/esg/2026-Q3/reopen/",
    "/o/acme/esg/values/1/approve/",
    "/o/acme/esg/factor-sets/1/approve/",
]


@pytest.fixture
def submitted(org, officer):
    services.metric_values_submit(
        organisation=org,
        actor=officer,
        period=period_parse("2026-Q3"),
        cells=GOOD_Q3,
        source="test",
        evidence="HR export July",
    )
    return MetricValue.objects.get(metric_code="S1-6.headcount")


@pytest.mark.parametrize("url", READ_PAGES + OFFICER_PAGES)
def test_officers_open_every_page(officer_client: Client, submitted, url: str) -> None:
    assert officer_client.get(url).status_code == 200


@pytest.mark.parametrize("url", READ_PAGES)
def test_auditors_read_but_cannot_write(auditor_client: Client, submitted, url: str) -> None:
    assert auditor_client.get(url).status_code == 200


@pytest.mark.parametrize("url", OFFICER_PAGES + POSTS)
def test_auditors_get_403_on_officer_pages(auditor_client: Client, submitted, url: str) -> None:
    response = auditor_client.post(url) if url in POSTS else auditor_client.get(url)
    assert response.status_code == 403


@pytest.mark.parametrize("url", READ_PAGES + OFFICER_PAGES)
def test_engineers_cannot_read_organisation_esg_data(engineer_client: Client, submitted, url: str) -> None:
    assert engineer_client.get(url).status_code == 403


@pytest.mark.parametrize("url", [*READ_PAGES, *OFFICER_PAGES, "/o/acme/p/ml/esg/"])
def test_outsiders_get_404_and_anonymous_users_go_to_login(
    outsider_client: Client, client: Client, project, url: str
) -> None:
    assert outsider_client.get(url).status_code == 404
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_overview_shows_sections_completeness_and_status(officer_client: Client, submitted) -> None:
    body = officer_client.get("/o/acme/esg/?period=2026-Q3").content.decode()
    for text in (
        "E · Environment",
        "S · Social",
        "G · Governance",
        "Missing for 2026-Q3",
        "S1-8.collective_bargaining_coverage",
        "submitted",
        'data-figure="fig-S"',
        'id="fig-S"',
    ):
        assert text in body
    assert "<script>" not in body  # CSP: no inline script


def test_a_bad_period_is_a_400_with_the_reason(officer_client: Client, org) -> None:
    response = officer_client.get("/o/acme/esg/?period=2026-Q9")
    assert response.status_code == 400 and "2026 or 2026-Q3" in response.content.decode()


def test_the_form_submits_values_and_shows_per_cell_messages(officer_client: Client, org) -> None:
    response = officer_client.post("/o/acme/esg/2026-Q3/enter/", {"S1-6.leavers": "4", "S1-14.hours_worked": "x"})
    assert response.status_code == 400
    assert "S1-14.hours_worked must be a number" in response.content.decode()
    assert not MetricValue.objects.exists()
    response = officer_client.post("/o/acme/esg/2026-Q3/enter/", {"S1-6.leavers": "4", "evidence": "HR"})
    assert response.status_code == 302
    assert MetricValue.objects.get().evidence == "HR"


def test_four_eyes_through_the_pages(officer_client: Client, second_officer_client: Client, submitted) -> None:
    url = f"/o/acme/esg/values/{submitted.pk}/approve/"
    officer_client.post(url)
    submitted.refresh_from_db()
    assert submitted.status == "submitted"
    second_officer_client.post(url)
    submitted.refresh_from_db()
    assert submitted.status == "approved"


def test_the_drill_down_shows_evidence_and_approval_history(auditor_client: Client, second_officer, submitted) -> None:
    services.metric_value_approve(value=submitted, actor=second_officer)
    body = auditor_client.get("/o/acme/esg/2026-Q3/m/S1-6.headcount/").content.decode()
    assert "HR export July" in body and "esg.value.create" in body and "esg.value.approve" in body
    assert "otto" in body and "Approve</button>" not in body


def test_closing_and_reopening_through_the_pages(officer_client: Client, org) -> None:
    officer_client.post("/o/acme/esg/2026-Q3/close/", {"reason": ""})
    assert ReportingPeriod.objects.get(period="2026-Q3").status == "closed"
    officer_client.post("/o/acme/esg/2026-Q3/reopen/", {"reason": ""})
    assert ReportingPeriod.objects.get(period="2026-Q3").status == "closed"  # no reason, no reopen
    officer_client.post("/o/acme/esg/2026-Q3/reopen/", {"reason": "HR correction"})
    assert ReportingPeriod.objects.get(period="2026-Q3").status == "open"


def test_the_import_page_lists_every_problem_and_imports_nothing(officer_client: Client, org) -> None:
    upload = SimpleUploadedFile("hr.csv", b"period,S1-6.headcount\n2026-Q3,=cmd|' /C calc'!A0\n", "text/csv")
    response = officer_client.post("/o/acme/esg/import/", {"kind": "metrics", "file": upload})
    assert response.status_code == 400
    assert "Nothing was imported" in response.content.decode() and not MetricValue.objects.exists()
    upload = SimpleUploadedFile("hr.csv", b"period,S1-6.headcount\n2026-Q3,12\n", "text/csv")
    assert officer_client.post("/o/acme/esg/import/", {"kind": "metrics", "file": upload}).status_code == 302
    assert MetricValue.objects.get().value == 12


def test_the_template_and_export_are_formula_safe_csv(officer_client: Client, submitted) -> None:
    response = officer_client.get("/o/acme/esg/template.csv?period=2026-Q3")
    header = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert header[0].startswith('"period","S1-6.headcount"') and header[1].startswith('"2026-Q3"')
    MetricValue.objects.filter(pk=submitted.pk).update(evidence='=HYPERLINK("http://x")')
    export = b"".join(officer_client.get("/o/acme/esg/2026-Q3/export.csv").streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in export


def test_settings_save_approved_regions(officer_client: Client, org) -> None:
    response = officer_client.post("/o/acme/esg/settings/", {"approved_regions": "eu-north-1\n\nSWE\n"})
    assert response.status_code == 302
    assert EsgSettings.objects.get().approved_regions == ["SWE", "eu-north-1"]


def test_engineers_see_and_record_reviews_on_their_own_project_only(engineer_client: Client, other_project) -> None:
    assert engineer_client.get("/o/acme/p/ml/esg/?period=2026-Q3").status_code == 200
    assert engineer_client.get("/o/acme/p/web/esg/").status_code == 404
    response = engineer_client.post(
        "/o/acme/p/ml/esg/?period=2026-Q3",
        {
            "subject": "fraud model",
            "reviewed": "on",
            "reviewed_on": "2026-07-30",
            "model_card_url": "https://models.example.test/fraud",
        },
    )
    assert response.status_code == 302
    assert ModelReview.objects.get().recorded_by == "erin"
    assert AuditLog.objects.filter(action="esg.review.create").exists()


def test_a_completed_review_needs_a_date(engineer_client: Client, project) -> None:
    response = engineer_client.post("/o/acme/p/ml/esg/", {"subject": "m", "reviewed": "on"})
    assert response.status_code == 400 and "needs its date" in response.content.decode()


def test_auditors_read_the_scorecard_but_cannot_record(auditor_client: Client, project) -> None:
    assert auditor_client.get("/o/acme/p/ml/esg/").status_code == 200
    assert auditor_client.post("/o/acme/p/ml/esg/", {"subject": "m"}).status_code == 403


def test_factor_set_requests_page_lets_another_officer_approve(officer, second_officer_client: Client, org) -> None:
    change = services.factor_set_change_submit(
        organisation=org,
        actor=officer,
        name="grid",
        kind="grid_country",
        source="src",
        reason="new data",
        factors=[{"zone": "FRA", "vintage_year": 2026, "g_co2e_per_kwh": 20.0}],
    )
    assert "grid@v1" in second_officer_client.get("/o/acme/esg/factor-sets/").content.decode()
    second_officer_client.post(f"/o/acme/esg/factor-sets/{change.pk}/approve/")
    change.refresh_from_db()
    assert change.status == "approved" and change.factor_set.status == "active"
