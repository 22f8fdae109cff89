"""ESG API per role and token: values, decisions, periods, accessibility reports, reviews, factor sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from esg import services
from esg.models import AccessibilityReport, MetricValue, ModelReview
from esg.periods import period_parse
from tests.esg.conftest import GOOD_Q3

pytestmark = pytest.mark.django_db
VALUES = "/api/v1/esg/acme/values"
A11Y = "/api/v1/projects/acme/ml/accessibility-reports"
REVIEWS = "/api/v1/projects/acme/ml/model-reviews"


def _post(client: Client, url: str, body: object, **extra) -> object:
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_officers_post_values_and_get_them_back(officer_client: Client, org) -> None:
    response = _post(officer_client, VALUES, {"period": "2026-Q3", "values": GOOD_Q3, "evidence": "HRIS"})
    assert response.status_code == 201 and len(response.json()["submitted"]) == len(GOOD_Q3)
    body = officer_client.get(VALUES + "?period=2026-Q3").json()
    rows = {row["code"]: row for row in body["metrics"]}
    assert rows["S1-14.accident_rate"]["value"] == pytest.approx(12.5)
    assert (rows["S1-6.headcount"]["status"], rows["S1-6.headcount"]["submitted_by"]) == ("submitted", "olivia")
    assert body["closed"] is False and body["completeness"]["required"] > 0


def test_invalid_values_get_per_cell_details_in_the_error_shape(officer_client: Client, org) -> None:
    response = _post(
        officer_client, VALUES, {"period": "2026-Q3", "values": {"S1-6.headcount": -1, "S1-6.leavers": 1.5}}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert {d["column"] for d in error["details"]} == {"S1-6.headcount", "S1-6.leavers"}
    assert not MetricValue.objects.exists()


def test_a_bad_period_is_a_400(officer_client: Client, org) -> None:
    response = officer_client.get(VALUES + "?period=Q3")
    assert response.status_code == 400 and "period" in response.json()["error"]["details"]


def test_four_eyes_and_locking_through_the_api(officer_client: Client, second_officer_client: Client, org) -> None:
    _post(officer_client, VALUES, {"period": "2026-Q3", "values": {"S1-6.leavers": 3}})
    pk = MetricValue.objects.get().pk
    assert _post(officer_client, f"/api/v1/esg/acme/values/{pk}/approve", {}).status_code == 403
    assert _post(second_officer_client, f"/api/v1/esg/acme/values/{pk}/approve", {}).status_code == 200
    assert _post(officer_client, "/api/v1/esg/acme/periods/2026-Q3/close", {}).status_code == 200
    response = _post(officer_client, VALUES, {"period": "2026-Q3", "values": {"S1-6.leavers": 4}})
    assert response.status_code == 409 and "closed" in response.json()["error"]["message"]
    assert _post(officer_client, "/api/v1/esg/acme/periods/2026-Q3/reopen", {}).status_code == 409
    assert (
        _post(officer_client, "/api/v1/esg/acme/periods/2026-Q3/reopen", {"reason": "Payroll correction"}).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", VALUES),
        ("post", VALUES),
        ("get", "/api/v1/esg/catalogue"),
        ("get", "/api/v1/esg/acme/factor-set-changes"),
    ],
)
def test_roles_on_organisation_routes(
    engineer_client: Client, auditor_client: Client, outsider_client: Client, client: Client, org, method: str, url: str
) -> None:
    def call(c: Client) -> int:
        body = {"period": "2026-Q3", "values": {"S1-6.leavers": 1}}
        return (_post(c, url, body) if method == "post" else c.get(url)).status_code

    assert call(client) == 401
    if url.endswith("catalogue"):
        assert call(engineer_client) == 200
        return
    assert call(engineer_client) == 403
    assert call(auditor_client) == (403 if method == "post" else 200)
    assert call(outsider_client) == 404


def test_project_tokens_cannot_touch_organisation_data(project_token: str, client: Client, org) -> None:
    assert client.get(VALUES, **_bearer(project_token)).status_code == 403
    assert client.get("/api/v1/esg/catalogue", **_bearer(project_token)).status_code == 403


def test_ci_posts_an_axe_report_with_the_project_token(client: Client, project_token: str, fixtures_dir: Path) -> None:
    body = (fixtures_dir / "axe_result.json").read_bytes()
    response = client.post(A11Y, body, content_type="application/json", **_bearer(project_token))
    assert response.status_code == 201
    report = response.json()["reports"][0]
    assert report["violations"] == {"critical": 1, "serious": 1, "moderate": 2, "minor": 0, "unknown": 0}
    # a CI retry of the same body is recorded once
    again = client.post(A11Y, body, content_type="application/json", **_bearer(project_token))
    assert again.status_code == 200 and AccessibilityReport.objects.count() == 1
    assert AccessibilityReport.objects.get().posted_by.startswith("token ci (")


def test_a_lighthouse_report_from_an_engineer_session(engineer_client: Client, fixtures_dir: Path) -> None:
    body = (fixtures_dir / "lighthouse_report.json").read_bytes()
    response = engineer_client.post(A11Y, body, content_type="application/json")
    assert response.status_code == 201 and response.json()["reports"][0]["score"] == pytest.approx(87.0)
    assert engineer_client.get(A11Y).json()["reports"][0]["tool"] == "lighthouse"


def test_bad_reports_and_wrong_projects_are_refused(
    client: Client,
    project_token: str,
    other_project,
    engineer_client: Client,
    auditor_client: Client,
    outsider_client: Client,
) -> None:
    response = client.post(A11Y, b"{not json", content_type="application/json", **_bearer(project_token))
    assert response.status_code == 400 and "not valid JSON" in json.dumps(response.json())
    response = client.post(A11Y, b'{"x": 1}', content_type="application/json", **_bearer(project_token))
    assert response.status_code == 400
    other = "/api/v1/projects/acme/web/accessibility-reports"
    assert client.post(other, b"{}", content_type="application/json", **_bearer(project_token)).status_code == 404
    assert engineer_client.post(other, b"{}", content_type="application/json").status_code == 404
    assert auditor_client.post(A11Y, b"{}", content_type="application/json").status_code == 403
    assert outsider_client.get(A11Y).status_code == 404
    assert client.post(A11Y, b"{}", content_type="application/json").status_code == 401
    assert client.get(A11Y, **_bearer(project_token)).status_code == 403  # tokens only post


def test_review_records_through_the_api(client: Client, project_token: str, engineer_client: Client) -> None:
    response = _post(
        client,
        REVIEWS,
        {
            "subject": "churn model v2",
            "reviewed": True,
            "reviewed_on": "2026-08-01",
            "model_card_url": "https://models.example.test/churn",
        },
        **_bearer(project_token),
    )
    assert response.status_code == 201 and ModelReview.objects.get().reviewed is True
    response = _post(engineer_client, REVIEWS, {"subject": "x", "reviewed": True})
    assert response.status_code == 400 and "reviewed_on" in response.json()["error"]["details"]
    assert engineer_client.get(REVIEWS).json()["reviews"][0]["subject"] == "churn model v2"


def test_the_scorecard_api(engineer_client: Client, project) -> None:
    body = engineer_client.get("/api/v1/projects/acme/ml/esg-scorecard?period=2026-Q3").json()
    assert body["period"] == "2026-Q3"
    assert {row["code"] for row in body["metrics"]} >= {"SW.measurement_coverage", "SW.budget_adherence"}


def test_factor_set_changes_through_the_api(
    officer_client: Client, second_officer_client: Client, auditor_client: Client, org
) -> None:
    body = {
        "name": "api-grid",
        "kind": "grid_country",
        "source": "Agency 2026",
        "reason": "2026 vintage",
        "factors": [{"zone": "DEU", "vintage_year": 2026, "g_co2e_per_kwh": 350.5}],
    }
    response = _post(officer_client, "/api/v1/esg/acme/factor-set-changes", body)
    assert response.status_code == 201 and response.json()["set_status"] == "pending"
    pk = response.json()["id"]
    assert _post(officer_client, f"/api/v1/esg/acme/factor-set-changes/{pk}/approve", {}).status_code == 403
    assert _post(auditor_client, f"/api/v1/esg/acme/factor-set-changes/{pk}/approve", {}).status_code == 403
    response = _post(second_officer_client, f"/api/v1/esg/acme/factor-set-changes/{pk}/approve", {})
    assert response.status_code == 200 and response.json()["set_status"] == "active"
    assert auditor_client.get("/api/v1/esg/acme/factor-set-changes").json()["requests"][0]["decided_by"] == "otto"


def test_the_schema_builds(officer_client: Client, org) -> None:
    response = officer_client.get("/api/v1/schema/")
    assert response.status_code == 200 and b"/api/v1/esg/{org_slug}/values" in response.content


def test_services_used_by_api_keep_approved_values_untouched(org, officer, second_officer) -> None:
    services.metric_values_submit(
        organisation=org, actor=officer, period=period_parse("2026"), source="api", cells={"S1-17.fines_eur": 0}
    )
    assert MetricValue.objects.get().source == "api"
