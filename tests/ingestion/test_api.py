"""Import API (token and session), idempotency, paging, the schema and docs, and the live endpoint."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from greenesg.accounts.models import ApiToken
from greenesg.accounts.services import api_token_create, api_token_revoke
from greenesg.footprint.models import LedgerEntry
from ingestion.models import IdempotencyKey, ImportJob, JobStatus, RowError

SAMPLE = "emissions_codecarbon_3.3.2.csv"
IMPORTS = "/api/v1/projects/acme/ml/imports"
RUN_ID = "869595a9-7f97-4f6c-bdea-b854a62f3c00"


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post_csv(client: Client, body: bytes, token: str | None = None, url: str = IMPORTS, **extra: str):
    headers = bearer(token) if token else {}
    return client.post(url, data=body, content_type="text/csv", **headers, **extra)


def post_file(client: Client, body: bytes, token: str | None = None, name: str = "emissions.csv", **extra: str):
    headers = bearer(token) if token else {}
    return client.post(IMPORTS, {"file": SimpleUploadedFile(name, body, content_type="text/csv")}, **headers, **extra)


@pytest.fixture
def sample(sample_dir: Path) -> bytes:
    return (sample_dir / SAMPLE).read_bytes()


@pytest.fixture
def small_file(sample: bytes) -> bytes:
    # Header and the two flush rows of one run: a different file from the sample.
    return b"".join(sample.splitlines(keepends=True)[:3])


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body


# ---------------------------------------------------------------------------------------------- submit


@pytest.mark.django_db(transaction=True)
def test_a_token_imports_a_multipart_file(client, project_token, sample):
    response = post_file(client, sample, project_token)

    assert response.status_code == 202, response.content
    body = response.json()
    job = ImportJob.objects.get()
    assert body["id"] == str(job.pk) and body["already_imported"] is False
    assert response["Location"] == f"http://testserver{IMPORTS}/{job.pk}" == body["url"]
    assert job.origin == "api" and job.token.name == "ci" and job.created_by is None
    detail = client.get(body["url"], **bearer(project_token)).json()
    assert detail["status"] == "done", detail["error_message"]
    assert (detail["rows_read"], detail["records_new"], detail["rows_rejected"]) == (5, 4, 0)
    assert detail["progress"] == 100 and detail["finished_at"] and detail["errors_url"].endswith("/errors")


@pytest.mark.django_db(transaction=True)
def test_a_token_imports_a_text_csv_body(client, project_token, sample):
    response = post_csv(client, sample, project_token, HTTP_CONTENT_DISPOSITION='attachment; filename="run.csv"')
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get()
    assert job.original_name == "run.csv" and job.size_bytes == len(sample)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and LedgerEntry.objects.filter(project=job.project).count() == 4


def test_the_same_content_again_is_already_imported(client, project_token, sample, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = post_csv(client, sample, project_token)
    ledger = list(LedgerEntry.objects.values_list("natural_key", "updated_at").order_by("natural_key"))
    with django_capture_on_commit_callbacks(execute=True):
        second = post_file(client, sample, project_token)

    assert second.status_code == 200
    assert second.json()["already_imported"] is True and second.json()["id"] == first.json()["id"]
    assert ImportJob.objects.count() == 1
    assert list(LedgerEntry.objects.values_list("natural_key", "updated_at").order_by("natural_key")) == ledger


def test_no_token_is_401(client, project, sample):
    response = post_csv(client, sample)
    assert_error(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"] == "Bearer"
    assert_error(client.get(IMPORTS), 401, "unauthenticated")
    assert not ImportJob.objects.exists()


def test_a_bad_token_is_401(client, project, sample):
    assert_error(post_csv(client, sample, "ges_ci_nothere_secret"), 401, "unauthenticated")
    assert_error(
        client.post(IMPORTS, data=sample, content_type="text/csv", HTTP_AUTHORIZATION="Token x"), 401, "unauthenticated"
    )


def test_a_revoked_token_is_401_right_after_revoke(client, project_token, small_file, officer):
    assert client.get(IMPORTS, **bearer(project_token)).status_code == 200
    api_token_revoke(token=ApiToken.objects.get(), revoked_by=officer)
    assert_error(post_csv(client, small_file, project_token), 401, "unauthenticated")
    assert_error(client.get(IMPORTS, **bearer(project_token)), 401, "unauthenticated")
    assert not ImportJob.objects.exists()


def test_a_token_of_another_project_is_404(client, other_project, officer, small_file, foreign_project):
    web_token = api_token_create(project=other_project, name="web", created_by=officer).raw
    assert_error(post_csv(client, small_file, web_token), 404, "not_found")
    assert_error(client.get(IMPORTS, **bearer(web_token)), 404, "not_found")
    assert_error(post_csv(client, small_file, web_token, url="/api/v1/projects/globex/ml/imports"), 404, "not_found")
    assert not ImportJob.objects.exists()


def test_sessions_follow_roles(
    engineer_client, auditor_client, outsider_client, officer_client, small_file, django_capture_on_commit_callbacks
):
    assert_error(post_csv(auditor_client, small_file), 403, "forbidden")
    assert_error(post_csv(outsider_client, small_file), 404, "not_found")
    assert_error(post_csv(engineer_client, small_file, url="/api/v1/projects/acme/web/imports"), 404, "not_found")
    assert not ImportJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_csv(engineer_client, small_file)
    assert response.status_code == 202
    assert ImportJob.objects.get().created_by.username == "erin"
    assert auditor_client.get(IMPORTS).status_code == 200
    assert officer_client.get(f"{IMPORTS}/{response.json()['id']}").status_code == 200


def test_a_session_post_needs_the_csrf_token(engineer, project, small_file):
    client = Client(enforce_csrf_checks=True)
    client.force_login(engineer)
    assert_error(post_csv(client, small_file), 403, "forbidden")
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("name", "body", "fragment"),
    [
        ("emissions.json", b"timestamp,run_id\n", "ending in .csv or .bak"),
        ("emissions.csv", b"\x1f\x8b\x08gzip", "Compressed"),
        ("emissions.csv", b"\x00\x00\x00", "binary"),
    ],
)
def test_it_refuses_what_is_not_a_codecarbon_csv(client, project_token, name, body, fragment, settings):
    body_json = assert_error(post_file(client, body, project_token, name=name), 400, "invalid")
    assert fragment in json.dumps(body_json)
    assert not ImportJob.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.upload"))


def test_it_asks_for_a_file(client, project_token):
    assert_error(client.post(IMPORTS, {"other": "x"}, **bearer(project_token)), 400, "invalid")
    assert_error(client.post(IMPORTS, data=b"", content_type="text/csv", **bearer(project_token)), 400, "invalid")


def test_it_refuses_other_content_types(client, project_token):
    response = client.post(IMPORTS, data="{}", content_type="application/json", **bearer(project_token))
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("as_multipart", [True, False])
def test_it_refuses_too_large_bodies_with_413(client, project_token, settings, small_file, as_multipart):
    settings.MAX_UPLOAD_BYTES = 100
    response = (post_file if as_multipart else post_csv)(client, small_file, project_token)
    message = assert_error(response, 413, "too_large")["error"]["message"]
    assert message.startswith("The file is larger than the limit of 100 bytes"), message  # not "The the file"
    assert not ImportJob.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.upload"))


def test_it_refuses_an_announced_huge_body_before_reading_it(client, project_token, settings):
    settings.MAX_UPLOAD_BYTES = 100
    response = client.post(
        IMPORTS, data=b"a,b\n", content_type="text/csv", CONTENT_LENGTH="10000000", **bearer(project_token)
    )
    assert_error(response, 413, "too_large")


def test_the_ingest_scope_is_throttled_per_token(
    client, project_token, other_project, officer, small_file, monkeypatch
):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"ingest": "2/min", "live": "600/min"})
    cache.clear()
    web_token = api_token_create(project=other_project, name="web", created_by=officer).raw
    try:
        statuses = [post_csv(client, small_file + b"\n" * i, project_token).status_code for i in range(3)]
        other = post_csv(client, small_file, web_token, url="/api/v1/projects/acme/web/imports")
        reads = client.get(IMPORTS, **bearer(project_token))
    finally:
        cache.clear()
    assert statuses == [202, 202, 429]
    assert other.status_code == 202  # another token has its own budget
    assert reads.status_code == 200  # reads are not counted against ingestion


# ---------------------------------------------------------------------------------------------- idempotency


def test_an_idempotency_key_replays_the_job(client, project_token, small_file):
    first = post_csv(client, small_file, project_token, HTTP_IDEMPOTENCY_KEY="ci-run-42")
    replay = post_csv(client, small_file, project_token, HTTP_IDEMPOTENCY_KEY="ci-run-42")

    assert first.status_code == 202 and replay.status_code == 200
    assert replay.json()["id"] == first.json()["id"] and replay["Idempotent-Replayed"] == "true"
    assert ImportJob.objects.count() == 1 and IdempotencyKey.objects.count() == 1


def test_an_idempotency_key_with_another_body_is_409(client, project_token, small_file, sample, settings):
    post_csv(client, small_file, project_token, HTTP_IDEMPOTENCY_KEY="ci-run-42")
    response = post_csv(client, sample, project_token, HTTP_IDEMPOTENCY_KEY="ci-run-42")

    assert_error(response, 409, "conflict")
    assert ImportJob.objects.count() == 1
    assert len(list(Path(settings.MEDIA_ROOT).rglob("*.upload"))) == 1


def test_an_idempotency_key_is_per_project(client, project_token, other_project, officer, small_file):
    web_token = api_token_create(project=other_project, name="web", created_by=officer).raw
    post_csv(client, small_file, project_token, HTTP_IDEMPOTENCY_KEY="k")
    other = post_csv(client, small_file, web_token, url="/api/v1/projects/acme/web/imports", HTTP_IDEMPOTENCY_KEY="k")
    assert other.status_code == 202
    assert ImportJob.objects.count() == 2


def test_a_key_race_lost_on_the_constraint_replays_the_winner(client, project_token, small_file, sample, monkeypatch):
    # The first SELECT misses (the winner has not committed yet); the insert then hits the unique key.
    winner = post_csv(client, small_file, project_token, HTTP_IDEMPOTENCY_KEY="race").json()
    from django.db.models.query import QuerySet

    real_first = QuerySet.first

    def first_misses(self):
        return None if self.model is IdempotencyKey else real_first(self)

    monkeypatch.setattr(QuerySet, "first", first_misses)
    same = post_csv(client, small_file, project_token, HTTP_IDEMPOTENCY_KEY="race")
    other = post_csv(client, sample, project_token, HTTP_IDEMPOTENCY_KEY="race")

    assert same.status_code == 200 and same.json()["id"] == winner["id"]
    assert_error(other, 409, "conflict")
    assert ImportJob.objects.count() == 1  # the loser's job was rolled back with its key


def test_an_overlong_idempotency_key_is_400(client, project_token, small_file):
    assert_error(post_csv(client, small_file, project_token, HTTP_IDEMPOTENCY_KEY="k" * 201), 400, "invalid")


# ---------------------------------------------------------------------------------------------- reads


def test_the_job_and_error_lists_page(client, project_token, project):
    jobs = [
        ImportJob.objects.create(
            organisation=project.organisation,
            project=project,
            kind="codecarbon",
            origin="api",
            original_name=f"f{i}.csv",
            sha256=f"{i:064d}",
        )
        for i in range(3)
    ]
    RowError.objects.bulk_create(
        RowError(job=jobs[0], row=i + 2, column="duration", code="bad", message="not a number", raw_value="x")
        for i in range(7)
    )
    listing = client.get(f"{IMPORTS}?page_size=2", **bearer(project_token)).json()
    assert listing["count"] == 3 and len(listing["results"]) == 2 and listing["next"]

    errors_url = f"{IMPORTS}/{jobs[0].pk}/errors"
    page1 = client.get(f"{errors_url}?page_size=5", **bearer(project_token)).json()
    page2 = client.get(page1["next"], **bearer(project_token)).json()
    assert page1["count"] == 7 and [e["row"] for e in page1["results"]] == [2, 3, 4, 5, 6]
    assert [e["row"] for e in page2["results"]] == [7, 8] and page2["next"] is None
    assert set(page1["results"][0]) == {"row", "column", "code", "message", "raw_value"}


def test_jobs_of_other_projects_are_404(client, project_token, other_project):
    job = ImportJob.objects.create(
        organisation=other_project.organisation,
        project=other_project,
        kind="codecarbon",
        origin="api",
        original_name="f.csv",
        sha256="1" * 64,
    )
    assert_error(client.get(f"{IMPORTS}/{job.pk}", **bearer(project_token)), 404, "not_found")
    assert_error(client.get(f"{IMPORTS}/{job.pk}/errors", **bearer(project_token)), 404, "not_found")
    assert_error(client.get(f"/api/v1/projects/acme/web/imports/{job.pk}", **bearer(project_token)), 404, "not_found")


# ---------------------------------------------------------------------------------------------- schema and docs


def test_the_schema_describes_the_import_api(client, db):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    for path in (
        "/api/v1/projects/{org_slug}/{project_slug}/imports",
        "/api/v1/projects/{org_slug}/{project_slug}/imports/{job_id}",
        "/api/v1/projects/{org_slug}/{project_slug}/imports/{job_id}/errors",
        "/api/v1/live/{token}",
    ):
        assert path in paths, path
    post = paths["/api/v1/projects/{org_slug}/{project_slug}/imports"]["post"]
    assert {"multipart/form-data", "text/csv"} <= set(post["requestBody"]["content"])
    assert {"200", "202", "409", "413"} <= set(post["responses"])
    assert "bearer" in json.dumps(schema["components"]["securitySchemes"])


def test_the_docs_page_loads_without_external_urls(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", response.content.decode())


# ---------------------------------------------------------------------------------------------- live


def live_record(duration: float = 5.0, **overrides: object) -> dict:
    record = {
        "timestamp": "2026-11-26T17:16:22",
        "project_name": "greenesg-sample",
        "run_id": RUN_ID,
        "experiment_id": "5b0fa12a-3dd7-45bb-9766-cc326314d9f1",
        "duration": duration,
        "emissions": 2.1e-06 * duration / 5,
        "emissions_rate": 4.29e-07,
        "cpu_power": 6.8,
        "gpu_power": 0.0,
        "ram_power": 20.0,
        "cpu_energy": 1.0e-05 * duration / 5,
        "gpu_energy": 0.0,
        "ram_energy": 2.8e-05 * duration / 5,
        "energy_consumed": 3.8e-05 * duration / 5,
        "water_consumed": 0.0,
        "country_name": "France",
        "country_iso_code": "FRA",
        "region": "",
        "cloud_provider": "",
        "cloud_region": "",
        "os": "Linux",
        "python_version": "3.11.7",
        "codecarbon_version": "3.3.2",
        "cpu_count": 2,
        "cpu_model": "AMD EPYC",
        "gpu_count": 0,
        "gpu_model": "",
        "longitude": None,
        "latitude": None,
        "ram_total_size": 8.0,
        "tracking_mode": "machine",
        "cpu_utilization_percent": 10.0,
        "gpu_utilization_percent": 0.0,
        "ram_utilization_percent": 20.0,
        "ram_used_gb": 1.5,
        "on_cloud": "N",
        "pue": 1.0,
        "wue": 0.0,
        "user": "ci",
    }
    return {**record, **overrides}


def post_live(client: Client, token: str, body: object, capture=None):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    if capture is None:
        return client.post(f"/api/v1/live/{token}", data=data, content_type="application/json")
    with capture(execute=True):
        return client.post(f"/api/v1/live/{token}", data=data, content_type="application/json")


def test_the_live_endpoint_answers_201(client, project_token, django_capture_on_commit_callbacks):
    response = post_live(client, project_token, live_record(), django_capture_on_commit_callbacks)

    assert response.status_code == 201, response.content
    job = ImportJob.objects.get()
    assert response.json() == {"id": str(job.pk), "status": "pending", "already_imported": False}
    job.refresh_from_db()
    assert (job.kind, job.origin, job.token.name) == ("codecarbon_live", "live", "ci")
    assert job.status == JobStatus.DONE, job.error_message
    entry = LedgerEntry.objects.get(project=job.project)
    assert entry.run_id == RUN_ID and entry.duration_s == 5.0


def test_a_repeated_live_record_is_a_201_no_op(client, project_token, django_capture_on_commit_callbacks):
    post_live(client, project_token, live_record(), django_capture_on_commit_callbacks)
    before = list(LedgerEntry.objects.values_list("natural_key", "updated_at"))
    # Same record, other key order: the canonical JSON is the same.
    reordered = dict(reversed(list(live_record().items())))
    again = post_live(client, project_token, reordered, django_capture_on_commit_callbacks)

    assert again.status_code == 201 and again.json()["already_imported"] is True
    assert ImportJob.objects.count() == 1
    assert list(LedgerEntry.objects.values_list("natural_key", "updated_at")) == before


def test_a_growing_cumulative_record_replaces_the_run(client, project_token, django_capture_on_commit_callbacks):
    energies = []
    for duration in (5.0, 15.0, 30.0):
        response = post_live(client, project_token, live_record(duration), django_capture_on_commit_callbacks)
        assert response.status_code == 201
        entry = LedgerEntry.objects.get(run_id=RUN_ID)  # one row per run, never one per flush
        assert entry.duration_s == duration
        energies.append(entry.energy_facility_kwh)

    assert ImportJob.objects.filter(status=JobStatus.DONE).count() == 3
    assert energies[2] == pytest.approx(energies[0] * 6)  # replaced by the latest total, not summed


def test_a_bad_live_token_is_404(client, project_token, officer):
    assert_error(post_live(client, "ges_ci_nothere_secret", live_record()), 404, "not_found")
    assert_error(post_live(client, "garbage", live_record()), 404, "not_found")
    api_token_revoke(token=ApiToken.objects.get(), revoked_by=officer)
    assert_error(post_live(client, project_token, live_record()), 404, "not_found")
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', "{}", '{"duration": NaN}'])
def test_bad_live_json_is_400(client, project_token, body):
    assert_error(post_live(client, project_token, body), 400, "invalid")
    assert not ImportJob.objects.exists()


def test_a_huge_live_body_is_413(client, project_token):
    response = post_live(client, project_token, live_record(padding="x" * 70_000))
    assert_error(response, 413, "too_large")
    assert not ImportJob.objects.exists()


def test_the_live_endpoint_ignores_sessions_and_csrf(officer, project_token):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    assert post_live(client, project_token, live_record()).status_code == 201
    assert_error(post_live(client, "ges_ci_x_y", live_record()), 404, "not_found")


def test_an_invalid_live_record_fails_its_job_without_writing(
    client, project_token, django_capture_on_commit_callbacks
):
    record = live_record()
    del record["energy_consumed"]
    response = post_live(client, project_token, record, django_capture_on_commit_callbacks)
    assert response.status_code == 201  # accepted for processing; the job says why it was refused
    job = ImportJob.objects.get()
    assert job.status == JobStatus.FAILED and "energy_consumed" in job.error_message
    assert not LedgerEntry.objects.exists()
