"""Steering API: the CI gate with tokens, budgets for officers, SCI counts, model tags, region advice."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from pathlib import Path

import pytest
from django.test import Client

from greenesg.accounts.models import AuditLog, Project
from greenesg.accounts.services import api_token_create
from ingestion.models import ImportJob, JobStatus
from steering import budget, services
from steering.models import Budget, RunModel, UnitCount
from tests.steering.conftest import add_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registry")]
BUDGET_URL = "/api/v1/projects/acme/ml/budget"


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _set_budget(
    project: Project, kg: float = 10.0, period: str = "2026-11", run_limit_kg: float | None = None
) -> Budget:
    return services.budget_set(
        project=project,
        period=budget.period_parse(period),
        kg=kg,
        run_limit_kg=run_limit_kg,
        actor=None,
        actor_label="test",
    )


def _job(project: Project, status: str = JobStatus.DONE) -> ImportJob:
    return ImportJob.objects.create(
        organisation=project.organisation,
        project=project,
        kind="codecarbon",
        origin="api",
        original_name="emissions.csv",
        sha256=uuid.uuid4().hex,
        status=status,
    )


# ---------------------------------------------------------------------------------------------- CI gate


def test_the_ci_gate_passes_within_budget_with_the_project_token(
    client: Client, project: Project, project_token: str
) -> None:
    _set_budget(project, 30.0)
    add_run(project, day=dt.date(2026, 11, 1), kg=2.0)
    add_run(project, day=dt.date(2026, 11, 3), kg=4.0)
    response = client.get(BUDGET_URL, {"period": "2026-11"}, **_bearer(project_token))
    assert response.status_code == 200
    body = response.json()
    assert (body["budget_kg"], body["used_kg"], body["remaining_kg"]) == (30.0, 6.0, 24.0)
    assert body["projected_kg"] == pytest.approx(18.0)  # 6 kg in 10 of 30 days
    assert body["verdict"] == "pass" and body["run"] is None and body["days_elapsed"] == 10


def test_the_ci_gate_fails_over_budget_and_defaults_to_the_budget_covering_today(
    client: Client, project: Project, project_token: str
) -> None:
    _set_budget(project, 100.0, period="2026")
    _set_budget(project, 5.0, period="2026-11")  # the month is more specific than the year
    add_run(project, day=dt.date(2026, 11, 2), kg=6.0)
    body = client.get(BUDGET_URL, **_bearer(project_token)).json()
    assert (body["period"], body["verdict"]) == ("2026-11", "fail")


def test_market_basis_uses_market_figures(client: Client, project: Project, project_token: str) -> None:
    services.budget_set(project=project, period=budget.period_parse("2026-11"), kg=10, basis="market", actor=None)
    add_run(project, day=dt.date(2026, 11, 2), kg=6.0, kg_market=2.0)
    assert client.get(BUDGET_URL, **_bearer(project_token)).json()["used_kg"] == 2.0


def test_the_per_run_check_fails_a_run_over_the_limit(client: Client, project: Project, project_token: str) -> None:
    _set_budget(project, 100.0, run_limit_kg=1.0)
    over = client.get(BUDGET_URL, {"run_kg": "1.5"}, **_bearer(project_token)).json()
    assert over["verdict"] == "fail" and over["run"] == {"kg": 1.5, "job": None, "verdict": "fail"}
    within = client.get(BUDGET_URL, {"run_kg": "0.5"}, **_bearer(project_token)).json()
    assert within["verdict"] == "pass" and within["run"]["verdict"] == "pass"


def test_the_verdict_of_an_import_job_uses_its_largest_run(
    client: Client, project: Project, project_token: str
) -> None:
    _set_budget(project, 100.0, run_limit_kg=1.0)
    job = _job(project)
    add_run(project, day=dt.date(2026, 11, 2), kg=0.4, job=job)
    add_run(project, day=dt.date(2026, 11, 2), kg=1.2, job=job)
    add_run(project, day=dt.date(2026, 11, 2), kg=9.0)  # another job's run: not this verdict's concern
    body = client.get(BUDGET_URL, {"job": str(job.pk)}, **_bearer(project_token)).json()
    assert body["run"] == {"kg": 1.2, "job": str(job.pk), "verdict": "fail"} and body["verdict"] == "fail"
    pending = _job(project, status=JobStatus.RUNNING)
    assert client.get(BUDGET_URL, {"job": str(pending.pk)}, **_bearer(project_token)).status_code == 409


def test_a_token_of_another_project_gets_404(client: Client, project: Project, other_project: Project, officer) -> None:
    _set_budget(project)
    other_token = api_token_create(project=other_project, name="web ci", created_by=officer).raw
    assert client.get(BUDGET_URL, **_bearer(other_token)).status_code == 404
    job = _job(other_project)
    _set_budget(other_project)
    response = client.get("/api/v1/projects/acme/web/budget", {"job": str(job.pk)}, **_bearer(other_token))
    assert response.status_code == 200
    web_job_on_ml = client.get(
        BUDGET_URL,
        {"job": str(job.pk)},
        **_bearer(api_token_create(project=project, name="ml", created_by=officer).raw),
    )
    assert web_job_on_ml.status_code == 404


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "2026-13"}, "month must be 01 to 12"),
        ({"run_kg": "lots"}, "run_kg must be a number"),
        ({"run_kg": "-1"}, "at least 0"),
        ({"run_kg": "1", "job": str(uuid.uuid4())}, "not both"),
        ({"job": "abc"}, "UUID"),
    ],
)
def test_invalid_gate_input_is_a_400_with_a_message(
    client: Client, project: Project, project_token: str, params: dict, message: str
) -> None:
    _set_budget(project)
    response = client.get(BUDGET_URL, params, **_bearer(project_token))
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert response.json()["error"]["code"] == "invalid"


def test_no_budget_is_a_404(client: Client, project: Project, project_token: str) -> None:
    response = client.get(BUDGET_URL, {"period": "2025"}, **_bearer(project_token))
    assert response.status_code == 404 and "no budget" in response.json()["error"]["message"]


# ---------------------------------------------------------------------------------------------- budget permissions


def test_officers_set_budgets_by_api_and_it_is_audited(officer_client: Client, project: Project) -> None:
    response = officer_client.put(
        BUDGET_URL + "?period=2026-Q4", json.dumps({"kg": 42, "run_limit_kg": 2}), content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["budget_kg"] == 42
    assert Budget.objects.get(project=project, period="2026-Q4").run_limit_kg == 2
    assert AuditLog.objects.get(action="budget.create").actor_label == "olivia"


def test_only_officer_sessions_may_set_budgets(
    client: Client,
    engineer_client: Client,
    auditor_client: Client,
    outsider_client: Client,
    project: Project,
    project_token: str,
) -> None:
    body, kind = json.dumps({"kg": 1}), "application/json"
    url = BUDGET_URL + "?period=2026-Q4"
    assert engineer_client.put(url, body, content_type=kind).status_code == 403
    assert auditor_client.put(url, body, content_type=kind).status_code == 403
    assert client.put(url, body, content_type=kind, **_bearer(project_token)).status_code == 403
    assert outsider_client.put(url, body, content_type=kind).status_code == 404
    assert client.put(url, body, content_type=kind).status_code == 401
    assert not Budget.objects.exists()


@pytest.mark.parametrize(("body", "message"), [({"kg": -1}, "kg"), ({"kg": 1, "basis": "mixed"}, "basis"), ({}, "kg")])
def test_invalid_budget_bodies_are_a_400(officer_client: Client, project: Project, body: dict, message: str) -> None:
    response = officer_client.put(BUDGET_URL + "?period=2026-Q4", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and message in response.json()["error"]["message"]
    missing = officer_client.put(BUDGET_URL, json.dumps({"kg": 1}), content_type="application/json")
    assert missing.status_code == 400 and "period" in missing.json()["error"]["message"]


def test_who_reads_the_budget(
    client: Client,
    engineer_client: Client,
    auditor_client: Client,
    outsider_client: Client,
    project: Project,
    other_project: Project,
) -> None:
    _set_budget(project)
    _set_budget(other_project)
    assert engineer_client.get(BUDGET_URL).status_code == 200
    assert engineer_client.get("/api/v1/projects/acme/web/budget").status_code == 404  # not a member
    assert auditor_client.get(BUDGET_URL).status_code == 200
    assert outsider_client.get(BUDGET_URL).status_code == 404
    assert client.get(BUDGET_URL).status_code == 401


# ---------------------------------------------------------------------------------------------- SCI and models


def test_sci_units_are_posted_by_token_and_sci_is_computed(
    client: Client, project: Project, project_token: str
) -> None:
    add_run(project, day=dt.date(2026, 11, 2), kg=4.0, kwh=10.0, embodied=2.0)
    url = "/api/v1/projects/acme/ml/sci/units"
    response = client.post(
        url, {"period": "2026-11", "count": 4}, content_type="application/json", **_bearer(project_token)
    )
    assert response.status_code == 200 and UnitCount.objects.get().count == 4
    assert AuditLog.objects.get(action="sci.units").actor_label.startswith("token ")
    point = client.get(url, **_bearer(project_token)).json()["sci"][0]
    assert point["intensity_kg_per_kwh"] == pytest.approx(0.4)
    assert point["sci_kg_per_unit"] == pytest.approx(1.5)  # (10 × 0.4 + 2) / 4


def test_who_posts_sci_units(
    engineer_client: Client,
    auditor_client: Client,
    outsider_client: Client,
    client: Client,
    project: Project,
    other_project: Project,
) -> None:
    body = {"period": "2026-11", "count": 10}
    assert (
        engineer_client.post("/api/v1/projects/acme/ml/sci/units", body, content_type="application/json").status_code
        == 200
    )
    assert (
        engineer_client.post("/api/v1/projects/acme/web/sci/units", body, content_type="application/json").status_code
        == 404
    )
    assert (
        auditor_client.post("/api/v1/projects/acme/ml/sci/units", body, content_type="application/json").status_code
        == 403
    )
    assert (
        outsider_client.post("/api/v1/projects/acme/ml/sci/units", body, content_type="application/json").status_code
        == 404
    )
    assert client.post("/api/v1/projects/acme/ml/sci/units", body, content_type="application/json").status_code == 401


@pytest.mark.parametrize(
    ("body", "message"), [({"period": "2026-11", "count": 0}, "count"), ({"period": "Nov", "count": 3}, "period")]
)
def test_invalid_sci_units_are_a_400(engineer_client: Client, project: Project, body: dict, message: str) -> None:
    response = engineer_client.post("/api/v1/projects/acme/ml/sci/units", body, content_type="application/json")
    assert response.status_code == 400 and message in response.json()["error"]["message"]
    assert not UnitCount.objects.exists()


def test_run_models_are_posted_and_validated(
    client: Client, auditor_client: Client, project: Project, project_token: str
) -> None:
    url = "/api/v1/projects/acme/ml/runs/869595a9/model"
    body = {"model": "resnet50", "metric_name": "accuracy", "metric_value": 0.91, "higher_is_better": True}
    assert client.post(url, body, content_type="application/json", **_bearer(project_token)).status_code == 200
    assert RunModel.objects.get().model == "resnet50"
    assert auditor_client.post(url, body, content_type="application/json").status_code == 403
    bad = client.post(url, {**body, "metric_value": "high"}, content_type="application/json", **_bearer(project_token))
    assert bad.status_code == 400 and "metric_value" in bad.json()["error"]["message"]


# ---------------------------------------------------------------------------------------------- region advice


ADVICE_URL = "/api/v1/advice/regions"


def test_regions_are_ranked_by_the_registry_with_unmapped_ones_flagged(client: Client, project_token: str) -> None:
    response = client.get(
        ADVICE_URL, {"provider": "aws", "candidates": "us-east-1,eu-north-1,mars-1"}, **_bearer(project_token)
    )
    body = response.json()
    assert response.status_code == 200 and body["source"] == "registry" and body["fallback"] is False
    assert [r["region"] for r in body["ranked"]] == ["eu-north-1", "us-east-1"]
    assert body["best"]["region"] == "eu-north-1" and body["best"]["g_co2e_per_kwh"] == 8.8
    assert body["unmapped"] == ["mars-1"]


def test_gcp_uses_the_latest_vintage_and_azure_names_are_canonicalised(engineer_client: Client) -> None:
    gcp = engineer_client.get(ADVICE_URL, {"provider": "gcp", "candidates": "europe-west1"}).json()
    assert gcp["best"]["g_co2e_per_kwh"] == 103.37  # 2024, not 2021
    azure = engineer_client.get(ADVICE_URL, {"provider": "azure", "candidates": "West Europe,swedencentral"}).json()
    assert azure["best"]["region"] == "swedencentral" and azure["unmapped"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"provider": "ibm", "candidates": "x"},
        {"provider": "aws", "candidates": ""},
        {"provider": "aws", "candidates": ",".join(["r"] * 31)},
    ],
)
def test_invalid_advice_requests_are_a_400(engineer_client: Client, params: dict) -> None:
    response = engineer_client.get(ADVICE_URL, params)
    assert response.status_code == 400 and response.json()["error"]["message"]


def test_residency_eu_leaves_london_out_and_the_docs_example_is_this_answer(engineer_client: Client) -> None:
    params = {"provider": "aws", "candidates": "eu-central-1,eu-west-2,eu-north-1", "residency": "eu", "live": "false"}
    body = engineer_client.get(ADVICE_URL, params).json()
    assert [r["region"] for r in body["ranked"]] == ["eu-north-1", "eu-central-1"]
    assert body["residency"] == "eu" and body["excluded"] == [{"region": "eu-west-2", "area": "GB"}]
    examples = json.loads((Path(__file__).resolve().parents[2] / "greenesg" / "api_examples.json").read_text())
    assert examples["GET /api/v1/advice/regions"]["responses"]["200"] == body


def test_residency_same_keeps_the_current_country_only(engineer_client: Client) -> None:
    params = {"provider": "aws", "candidates": "us-west-2,ca-central-1,eu-north-1", "residency": "same"}
    body = engineer_client.get(ADVICE_URL, {**params, "current": "us-east-1", "live": "false"}).json()
    assert [r["region"] for r in body["ranked"]] == ["us-west-2"]
    assert body["excluded"] == [{"region": "ca-central-1", "area": "CA"}, {"region": "eu-north-1", "area": "EU"}]
    unplaced = engineer_client.get(ADVICE_URL, {**params, "current": "mars-1", "live": "false"}).json()
    assert unplaced["ranked"] == [] and unplaced["best"] is None  # an unknown region gets no alternatives


def test_without_residency_every_candidate_is_ranked(engineer_client: Client) -> None:
    body = engineer_client.get(ADVICE_URL, {"provider": "aws", "candidates": "eu-west-2,eu-north-1"}).json()
    assert body["residency"] == "any" and body["excluded"] == [] and len(body["ranked"]) == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"residency": "nearby"}, "residency must be one of"),
        ({"residency": "same"}, "needs current"),
        ({"residency": "same", "current": "<script>"}, "current must be a region id"),
    ],
)
def test_bad_residency_requests_are_a_400(engineer_client: Client, params: dict, message: str) -> None:
    response = engineer_client.get(ADVICE_URL, {"provider": "aws", "candidates": "eu-north-1", **params})
    assert response.status_code == 400 and message in response.json()["error"]["message"]


def test_anonymous_advice_is_a_401(client: Client, db) -> None:
    assert client.get(ADVICE_URL, {"provider": "aws", "candidates": "us-east-1"}).status_code == 401


def test_the_live_provider_ranks_when_it_answers(engineer_client: Client, settings, http_server) -> None:
    values = {"us-east-1": 420.0, "eu-north-1": 30.0}

    def answer(handler):
        region = handler.path.split("dataCenterRegion=")[1]
        return 200, {"zone": f"Z-{region}", "carbonIntensity": values[region]}

    server = http_server(answer)
    settings.GRID_INTENSITY_API_URL, settings.GRID_INTENSITY_API_TOKEN = server.url + "/v3", "secret"
    body = engineer_client.get(ADVICE_URL, {"provider": "aws", "candidates": "us-east-1,eu-north-1"}).json()
    assert body["source"] == "live" and body["best"] == {
        "rank": 1,
        "region": "eu-north-1",
        "g_co2e_per_kwh": 30.0,
        "source": "live",
        "detail": "Z-eu-north-1",
    }
    assert server.requests[0]["headers"]["auth-token"] == "secret"
    assert server.requests[0]["path"].startswith("/v3/carbon-intensity/latest?dataCenterProvider=aws")


def test_a_failing_live_provider_falls_back_to_the_registry(engineer_client: Client, settings, http_server) -> None:
    server = http_server(lambda handler: (500, {"error": "boom"}))
    settings.GRID_INTENSITY_API_URL = server.url
    body = engineer_client.get(ADVICE_URL, {"provider": "aws", "candidates": "us-east-1,eu-north-1"}).json()
    assert body["source"] == "registry" and body["fallback"] is True and "500" in body["live_error"]
    assert body["best"]["g_co2e_per_kwh"] == 8.8


def test_a_live_provider_that_times_out_falls_back_to_the_registry(
    engineer_client: Client, settings, http_server
) -> None:
    def slow(handler):
        time.sleep(1.0)
        return 200, {"carbonIntensity": 1}

    settings.GRID_INTENSITY_API_URL = http_server(slow).url
    settings.GRID_INTENSITY_TIMEOUT_S = 0.2
    started = time.monotonic()
    body = engineer_client.get(ADVICE_URL, {"provider": "aws", "candidates": "us-east-1,eu-north-1"}).json()
    assert time.monotonic() - started < 0.9  # the first failure stops the live calls
    assert body["source"] == "registry" and body["fallback"] is True and body["best"]["region"] == "eu-north-1"


def test_a_live_answer_without_a_number_falls_back(engineer_client: Client, settings, http_server) -> None:
    settings.GRID_INTENSITY_API_URL = http_server(lambda handler: (200, {"carbonIntensity": "n/a"})).url
    body = engineer_client.get(ADVICE_URL, {"provider": "aws", "candidates": "us-east-1"}).json()
    assert body["fallback"] is True and body["ranked"][0]["source"] == "registry"
