"""Token scopes: `ingest` writes, `read` reads, `ci-gate` polls its import and reads the budget verdict."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from greenesg.accounts.models import ApiToken
from greenesg.accounts.services import api_token_create
from ingestion import storage
from ingestion.codecarbon.synthetic import generate_csv
from ingestion.jobs import import_job_submit
from ingestion.models import ImportJob
from steering import budget, services

pytestmark = pytest.mark.django_db

ML = "/api/v1/projects/acme/ml"
TOKENS = "/o/acme/p/ml/tokens/"


def _token(project, officer, *scopes: str) -> str:
    return api_token_create(project=project, name="t", created_by=officer, scopes=set(scopes)).raw


def _bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _post_csv(client: Client, raw: str, url: str = f"{ML}/imports"):
    body = generate_csv(runs=1, start=dt.datetime(2026, 7, 1), days=1)  # noqa: DTZ001 - host local time
    return client.post(url, data=body, content_type="text/csv", **_bearer(raw))


def _job(project) -> ImportJob:
    content = generate_csv(runs=1, start=dt.datetime(2026, 7, 2), days=1)  # noqa: DTZ001 - host local time
    stored = storage.store_chunks([content])
    return import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job


def _assert_forbidden(response, scope: str) -> None:
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "forbidden" and scope in error["message"]


def test_a_read_only_token_cannot_import(client, project, officer):
    _assert_forbidden(_post_csv(client, _token(project, officer, "read")), "ingest")
    assert not ImportJob.objects.exists()


def test_an_ingest_token_cannot_read_imports_summary_or_runs(client, project, officer):
    raw = _token(project, officer, "ingest")
    for path in ("/imports", "/summary", "/runs", "/esg-scorecard", "/model-reviews"):
        response = client.get(ML + path, **_bearer(raw))
        assert response.status_code == 403, (path, response.status_code)
    assert _post_csv(client, raw).status_code == 202


def test_a_read_token_reads(client, project, officer):
    raw = _token(project, officer, "read")
    for path in ("/imports", "/summary", "/runs"):
        assert client.get(ML + path, **_bearer(raw)).status_code == 200, path


def test_the_ci_gate_scope_polls_an_import_and_reads_the_budget_only(client, project, officer):
    services.budget_set(
        project=project, period=budget.period_parse("2026-11"), kg=10.0, run_limit_kg=None, actor=None, actor_label="t"
    )
    raw = _token(project, officer, "ci-gate")
    job = _job(project)
    assert client.get(f"{ML}/imports/{job.pk}", **_bearer(raw)).status_code == 200
    assert client.get(f"{ML}/budget", {"period": "2026-11"}, **_bearer(raw)).status_code == 200
    _assert_forbidden(client.get(f"{ML}/imports/{job.pk}/errors", **_bearer(raw)), "read")
    _assert_forbidden(client.get(f"{ML}/summary", **_bearer(raw)), "read")
    _assert_forbidden(_post_csv(client, raw), "ingest")


def test_a_token_of_another_project_is_404_whatever_its_scopes(client, other_project, officer):
    raw = _token(other_project, officer, "ingest")
    assert client.get(f"{ML}/summary", **_bearer(raw)).status_code == 404
    assert _post_csv(client, _token(other_project, officer, "read")).status_code == 404


def test_the_live_endpoint_needs_the_ingest_scope(client, project, officer):
    record = {"run_id": "r1", "timestamp": "2026-11-26T17:16:22", "duration": 5.0, "emissions": 1e-6}
    read_only = _token(project, officer, "read")
    response = client.post(f"/api/v1/live/{read_only}", data=record, content_type="application/json")
    _assert_forbidden(response, "ingest")
    assert not ImportJob.objects.exists()


def test_new_tokens_default_to_what_the_ci_client_needs(project, officer):
    token = api_token_create(project=project, name="ci", created_by=officer).token
    assert set(token.scopes) == {"ingest", "ci-gate"}


def test_the_tokens_page_offers_scope_checkboxes_and_stores_the_choice(officer_client, project):
    page = officer_client.get(TOKENS).content.decode()
    assert 'name="scopes" value="read"' in page and 'name="scopes" value="ci-gate"' in page
    response = officer_client.post(TOKENS, {"name": "dashboard", "scopes": ["read"]})
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.scopes == ["read"]
    assert "read" in officer_client.get(TOKENS).content.decode()


def test_the_tokens_page_refuses_a_token_without_scopes(officer_client, project):
    response = officer_client.post(TOKENS, {"name": "nothing"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_create_token_takes_scopes(project):
    out = StringIO()
    call_command("create_token", "acme/ml", "--scope", "read", "--scope", "ci-gate", stdout=out, stderr=StringIO())
    assert sorted(ApiToken.objects.get().scopes) == ["ci-gate", "read"]
    call_command("create_token", "acme/ml", "--name", "default", stdout=StringIO(), stderr=StringIO())
    assert sorted(ApiToken.objects.get(name="default").scopes) == ["ci-gate", "ingest"]


def test_create_token_refuses_an_unknown_scope(project):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_token", "acme/ml", "--scope", "admin", stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_tokens_that_existed_before_scopes_keep_every_right():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0001_initial")])
    old = executor.loader.project_state([("accounts", "0001_initial")]).apps
    organisation = old.get_model("accounts", "Organisation").objects.create(slug="acme", name="Acme")
    project = old.get_model("accounts", "Project").objects.create(organisation=organisation, slug="ml", name="ML")
    old.get_model("accounts", "ApiToken").objects.create(project=project, name="old", prefix="abc", digest="0" * 64)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert sorted(ApiToken.objects.get(prefix="abc").scopes) == ["ci-gate", "ingest", "read"]


@pytest.mark.django_db(transaction=True)
def test_the_ci_client_runs_with_a_default_token_that_cannot_read(live_server, project, officer, tmp_path):
    from tests.steering.test_ci_client import _budget, _csv, _row, _run

    raw = api_token_create(project=project, name="ci", created_by=officer).raw
    assert Client().get(f"{ML}/summary", **_bearer(raw)).status_code == 403
    _budget(project, 1000.0, run_limit_kg=100.0)
    result = _run(_csv(tmp_path, _row("run-a", 0.5)), live_server.url, raw, GREENESG_PERIOD="2026-11")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("greenesg: PASS acme/ml 2026-11")
