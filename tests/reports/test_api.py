"""Summary and runs API: token or session, 404 for other projects, error shape, paging, schema."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from greenesg.accounts.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/projects/{org}/{project}/summary"
RUNS = "/api/v1/projects/{org}/{project}/runs"


def _summary(org="acme", project="ml", query=""):
    return SUMMARY.format(org=org, project=project) + query


def _runs(org="acme", project="ml", query=""):
    return RUNS.format(org=org, project=project) + query


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _cli(*args: str) -> dict:
    out = StringIO()
    call_command("footprint", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


class TestSummary:
    def test_it_answers_a_project_token(self, client, ledger, project_token):
        response = client.get(_summary(), **_bearer(project_token))
        assert response.status_code == 200
        body = response.json()
        assert body["organisation"] == "acme"
        assert body["project"] == "ml"
        assert body["start"] is None and body["end"] is None
        assert body["runs"] == 3
        assert body["energy_kwh_it"] == pytest.approx(7.0)
        assert body["energy_kwh_facility"] == pytest.approx(8.9)
        assert body["kgco2e_location"] == pytest.approx(2.0)
        assert body["kgco2e_market"] == pytest.approx(2.3)
        assert body["water_l"] == pytest.approx(7.0)
        assert set(body["by_scope"]) == {"scope2", "scope3.cat1.1"}
        assert body["by_scope"]["scope2"] == pytest.approx(
            {
                "runs": 2,
                "energy_kwh_it": 3.0,
                "energy_kwh_facility": 4.5,
                "kgco2e_location": 0.9,
                "kgco2e_market": 1.2,
                "water_l": 2.0,
            }
        )
        assert body["by_scope"]["scope3.cat1.1"]["runs"] == 1

    def test_it_equals_the_cli_output(self, client, ledger, project_token):
        for query, args in (
            ("", ()),
            ("?start=2025-02-01&end=2025-02-28", ("--start", "2025-02-01", "--end", "2025-02-28")),
            ("?start=2025-02-01", ("--start", "2025-02-01")),
        ):
            api = client.get(_summary(query=query), **_bearer(project_token)).json()
            assert api == _cli("--project", "acme/ml", *args)
            assert api == _cli("--org", "acme", "--project", "acme/ml", *args)

    def test_it_filters_by_period(self, client, ledger, project_token):
        body = client.get(_summary(query="?start=2025-02-01&end=2025-02-28"), **_bearer(project_token)).json()
        assert body["start"] == "2025-02-01" and body["end"] == "2025-02-28"
        assert body["runs"] == 2
        assert body["kgco2e_location"] == pytest.approx(1.7)

    @pytest.mark.parametrize("persona", ["officer_client", "engineer_client", "auditor_client"])
    def test_it_answers_members_by_session(self, request, ledger, persona):
        response = request.getfixturevalue(persona).get(_summary())
        assert response.status_code == 200
        assert response.json()["runs"] == 3

    def test_it_404s_for_engineers_outside_the_project(self, engineer_client, ledger):
        response = engineer_client.get(_summary(project="web"))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    def test_it_404s_for_outsiders(self, outsider_client, ledger):
        assert outsider_client.get(_summary()).status_code == 404

    def test_it_404s_for_a_token_of_another_project(self, client, ledger, project_token, foreign_project):
        for org, project in (("acme", "web"), ("globex", "ml")):
            response = client.get(_summary(org=org, project=project), **_bearer(project_token))
            assert response.status_code == 404
            assert set(response.json()["error"]) == {"code", "message", "details"}

    def test_it_refuses_anonymous_requests(self, client, ledger):
        response = client.get(_summary())
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"

    def test_it_refuses_revoked_and_bad_tokens(self, client, ledger, project, officer):
        new = api_token_create(project=project, name="gone", created_by=officer)
        api_token_revoke(token=new.token, revoked_by=officer)
        assert client.get(_summary(), **_bearer(new.raw)).status_code == 401
        assert client.get(_summary(), **_bearer("ges_ci_nothing")).status_code == 401

    @pytest.mark.parametrize(
        "query", ["?start=2025-13-01", "?end=tomorrow", "?start=2025-03-01&end=2025-02-01", "?start=2025/01/01"]
    )
    def test_it_rejects_bad_dates_in_the_error_shape(self, client, ledger, project_token, query):
        response = client.get(_summary(query=query), **_bearer(project_token))
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert error["details"]

    def test_it_is_read_only(self, officer_client, ledger):
        assert officer_client.post(_summary()).status_code in {403, 405}

    def test_it_returns_zeros_for_a_project_without_data(self, client, project, project_token):
        body = client.get(_summary(), **_bearer(project_token)).json()
        assert body["runs"] == 0
        assert body["kgco2e_location"] == 0.0
        assert body["by_scope"] == {}


class TestRuns:
    def test_it_pages_the_runs_of_a_project(self, client, ledger, project_token):
        response = client.get(_runs(query="?page_size=2"), **_bearer(project_token))
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 3
        assert [run["run_id"] for run in body["results"]] == ["r3", "r2"]
        assert body["next"]
        second = client.get(body["next"], **_bearer(project_token)).json()
        assert [run["run_id"] for run in second["results"]] == ["r1"]
        run = second["results"][0]
        assert run["kgco2e_location"] == pytest.approx(0.3)
        assert run["experiment"] == "train"
        assert "organisation" not in run

    def test_it_filters_by_period(self, officer_client, ledger):
        body = officer_client.get(_runs(query="?start=2025-02-01")).json()
        assert [run["run_id"] for run in body["results"]] == ["r3", "r2"]

    def test_it_rejects_bad_dates(self, officer_client, ledger):
        response = officer_client.get(_runs(query="?end=2025-02-31"))
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid"

    def test_it_404s_for_a_token_of_another_project(self, client, ledger, project_token):
        assert client.get(_runs(project="web"), **_bearer(project_token)).status_code == 404

    def test_it_404s_for_engineers_outside_the_project(self, engineer_client, ledger):
        assert engineer_client.get(_runs(project="web")).status_code == 404

    def test_it_404s_for_outsiders(self, outsider_client, ledger):
        assert outsider_client.get(_runs()).status_code == 404

    def test_it_refuses_anonymous_requests(self, client, ledger):
        assert client.get(_runs()).status_code == 401

    @pytest.mark.parametrize("persona", ["officer_client", "engineer_client", "auditor_client"])
    def test_it_answers_members_by_session(self, request, ledger, persona):
        assert request.getfixturevalue(persona).get(_runs()).json()["count"] == 3


def test_the_schema_documents_both_endpoints(db):
    response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    summary = schema["paths"]["/api/v1/projects/{org_slug}/{project_slug}/summary"]["get"]
    assert {p["name"] for p in summary["parameters"]} >= {"start", "end"}
    assert set(summary["responses"]) >= {"200", "400", "401", "404"}
    ref = summary["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][ref]["properties"]
    assert set(properties) >= {
        "runs",
        "energy_kwh_it",
        "energy_kwh_facility",
        "kgco2e_location",
        "kgco2e_market",
        "water_l",
        "by_scope",
        "organisation",
        "project",
        "start",
        "end",
    }
    assert "/api/v1/projects/{org_slug}/{project_slug}/runs" in schema["paths"]
