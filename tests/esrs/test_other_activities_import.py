"""The other-activities CSV import runs in the worker (issue 10 item 7): the request only streams the upload
to private storage and creates a job; the task streams the CSV, all rows or none, with line-level errors."""

from __future__ import annotations

import hashlib
import sys
import tracemalloc
from pathlib import Path

import pytest
from django.conf import settings
from django.test.client import ClientHandler
from django.urls import reverse

from greenesg.footprint.models import EmissionFactor, EmissionFactorSet, LedgerEntry
from ingestion import storage
from ingestion.models import JobStatus
from reports.esrs import services as report_services
from reports.models import OtherActivity, OtherActivityImport

HEADER = (
    b"description,scope,category,quantity,unit,period_start,period_end,country_iso,factor_zone,stated_kgco2e,"
    b"stated_source,energy_kwh,fuel_type\n"
)
GOOD = HEADER + (
    b"Office electricity,2,,2,MWh,2026-04-01,2026-06-30,ZZZ,ZZZ,,,,\n"
    b"Train travel,3,6,10,trips,2026-05-01,2026-05-31,,,12.5,Agency report,,\n"
)
MB = 1024 * 1024


@pytest.fixture
def grid_factor(db) -> EmissionFactor:
    factor_set = EmissionFactorSet.objects.create(name="test-grid-esrs", version=3, kind="grid_country", source="Test")
    return EmissionFactor.objects.create(factor_set=factor_set, zone="ZZZ", vintage_year=2025, g_co2e_per_kwh=250.0)


def _submit(org, officer, body: bytes, capture, name: str = "other.csv") -> OtherActivityImport:
    """Store the bytes like the upload view does and run the task on commit (eager Celery)."""
    with capture(execute=True):
        submission = report_services.other_activities_import_submit(
            organisation=org, stored=storage.store_chunks([body]), original_name=name, user=officer
        )
    return OtherActivityImport.objects.get(pk=submission.job.pk)


def _write_large_csv(path: Path, *, size: int, row: bytes) -> None:
    with open(path, "wb") as out:
        out.write(HEADER)
        block = row * (MB // len(row) + 1)
        written = len(HEADER)
        while written < size:
            out.write(block)
            written += len(block)


# ------------------------------------------------------------------------------------------ the request


def _multipart_file(path: Path, source: Path, boundary: str) -> None:
    with open(path, "wb") as out, open(source, "rb") as data:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{source.name}"\r\n'
            "Content-Type: text/csv\r\n\r\n".encode()
        )
        while block := data.read(MB):
            out.write(block)
        out.write(f"\r\n--{boundary}--\r\n".encode())


def _post_streamed(officer_client, url: str, body_path: Path, boundary: str):
    """POST a body read from disk through Django's full handler: the test client would build it in memory."""
    cookie = officer_client.cookies[settings.SESSION_COOKIE_NAME].value
    with open(body_path, "rb") as body:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": url,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
            "CONTENT_LENGTH": str(body_path.stat().st_size),
            "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={cookie}",
            "wsgi.input": body,
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        return ClientHandler(enforce_csrf_checks=False)(environ)


@pytest.mark.django_db
def test_the_upload_request_never_holds_the_whole_file_in_memory(org, officer_client, tmp_path) -> None:
    source = tmp_path / "big.csv"
    _write_large_csv(source, size=80 * MB, row=b"Train travel,3,6,1,trip,2026-05-01,2026-05-31,,,12.5,Agency,,\n")
    body, boundary = tmp_path / "body", "greenesg-test-boundary-7f3a"
    _multipart_file(body, source, boundary)
    url = reverse("esrs-other-import", args=["acme"])
    # Warm-up with a small file, so the modules Django imports on a first request are not counted.
    (tmp_path / "small.csv").write_bytes(GOOD)
    _multipart_file(tmp_path / "small_body", tmp_path / "small.csv", boundary)
    assert _post_streamed(officer_client, url, tmp_path / "small_body", boundary).status_code == 302
    tracemalloc.start()
    try:
        response = _post_streamed(officer_client, url, body, boundary)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 302, response.content[:500]
    assert peak < 20 * MB, f"peak {peak / MB:.1f} MB while handling an 80 MB upload"
    job = OtherActivityImport.objects.get(organisation=org, original_name="big.csv")
    assert job.status == JobStatus.PENDING and job.size_bytes == source.stat().st_size
    assert job.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert response["Location"] == reverse("esrs-other-import-detail", args=["acme", job.pk])
    assert not OtherActivity.objects.exists()  # nothing parsed in the request


@pytest.mark.django_db
def test_the_officer_uploads_and_sees_the_result(org, officer_client, grid_factor, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            reverse("esrs-other-import", args=["acme"]), {"file": SimpleUploadedFile("other.csv", GOOD)}
        )
    job = OtherActivityImport.objects.get(organisation=org)
    assert response.status_code == 302 and response["Location"].endswith(f"/import/{job.pk}/")
    page = officer_client.get(response["Location"])
    assert page.status_code == 200 and b"2 activities imported" in page.content
    assert OtherActivity.objects.filter(organisation=org).count() == 2
    listing = officer_client.get(reverse("esrs-other-import", args=["acme"]))
    assert b"other.csv" in listing.content and b"Done" in listing.content


@pytest.mark.django_db
def test_a_refused_file_shows_its_errors_on_the_job_page(
    org, officer, officer_client, django_capture_on_commit_callbacks
):
    job = _submit(
        org, officer, HEADER + b"x,3,99,1,trip,2026-05-01,2026-05-31,,,1,agency,,\n", django_capture_on_commit_callbacks
    )
    page = officer_client.get(reverse("esrs-other-import-detail", args=["acme", job.pk]))
    assert page.status_code == 200
    assert b"Failed" in page.content and b"Scope 3 needs a category from 1 to 15." in page.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona,status", [("engineer_client", 404), ("outsider_client", 404), ("auditor_client", 403)]
)
def test_only_officers_see_import_jobs(org, officer, persona, status, request, django_capture_on_commit_callbacks):
    job = _submit(org, officer, GOOD, django_capture_on_commit_callbacks)
    client = request.getfixturevalue(persona)
    assert client.get(reverse("esrs-other-import-detail", args=["acme", job.pk])).status_code == status
    assert client.get(reverse("esrs-other-import", args=["acme"])).status_code == status


@pytest.mark.django_db
def test_a_non_text_upload_is_refused_before_a_job_exists(org, officer_client) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = officer_client.post(
        reverse("esrs-other-import", args=["acme"]), {"file": SimpleUploadedFile("x.csv", b"PK\x03\x04\x00\x00zip")}
    )
    assert response.status_code == 400 and not OtherActivityImport.objects.exists()


# --------------------------------------------------------------------------------------------- the task


@pytest.mark.django_db
def test_the_task_imports_every_row_with_lineage(org, officer, grid_factor, django_capture_on_commit_callbacks):
    job = _submit(org, officer, GOOD, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.DONE and job.created_count == 2 and job.rows_read == 2 and job.errors == []
    office = OtherActivity.objects.get(description="Office electricity")
    assert office.import_sha256 == job.sha256 and office.import_row == 2 and office.import_name == "other.csv"
    row = LedgerEntry.objects.get(organisation=org, natural_key=f"other:{office.pk}")
    assert row.kgco2e_location == pytest.approx(500.0) and row.source_row == 2
    assert job.stored_path == "" and list(storage.imports_root().iterdir()) == []  # not kept once imported


@pytest.mark.django_db
def test_errors_name_the_line_and_column_and_nothing_is_written(org, officer, django_capture_on_commit_callbacks):
    body = (
        b"description,scope,category,quantity,unit,period_start,period_end,stated_kgco2e,stated_source\n"
        b"ok,3,6,1,trip,2026-05-01,2026-05-31,1,agency\n"
        b'"two\nlines",3,6,1,trip,2026-05-01,2026-05-31,1,agency\n'
        b"=cmd,3,99,1,trip,2026-05-01,2026-04-01,,\n"
    )
    job = _submit(org, officer, body, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.FAILED and job.created_count == 0
    found = {(e["line"], e["column"]) for e in job.errors}
    # The quoted value spans lines 3–4, so the bad record starts on line 5.
    assert {(5, "category"), (5, "period_end"), (5, "")} <= found, job.errors
    assert all(e["line"] == 5 for e in job.errors)
    assert not OtherActivity.objects.exists() and not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_running_the_task_twice_has_one_effect(org, officer, grid_factor, django_capture_on_commit_callbacks):
    from reports.tasks import other_activities_import_process

    job = _submit(org, officer, GOOD, django_capture_on_commit_callbacks)
    other_activities_import_process(job.pk)  # a redelivered message
    assert OtherActivity.objects.filter(organisation=org).count() == 2
    assert LedgerEntry.objects.filter(organisation=org, source="other").count() == 2
    assert OtherActivityImport.objects.get(pk=job.pk).attempts == 1
    other_activities_import_process(987654)  # a missing job is a no-op


@pytest.mark.django_db
def test_a_worker_whose_lease_expired_cannot_publish_a_second_time(
    org, officer, grid_factor, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=False):
        submission = report_services.other_activities_import_submit(
            organisation=org, stored=storage.store_chunks([GOOD]), original_name="other.csv", user=officer
        )
    slow = report_services._import_claim(submission.job.pk)  # worker A claims, reads the file, stalls
    parsed = report_services._import_parse(slow)
    OtherActivityImport.objects.filter(pk=slow.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    assert report_services.other_activities_import_process(job_id=slow.pk)  # worker B takes over
    with pytest.raises(report_services._ClaimLost):
        report_services._import_publish(slow, parsed)  # A wakes up: refused
    job = OtherActivityImport.objects.get(pk=slow.pk)
    assert job.status == JobStatus.DONE and job.attempts == 2 and job.created_count == 2
    assert OtherActivity.objects.filter(organisation=org).count() == 2


@pytest.mark.django_db
def test_the_same_file_again_is_already_imported(org, officer, grid_factor, django_capture_on_commit_callbacks):
    first = _submit(org, officer, GOOD, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        again = report_services.other_activities_import_submit(
            organisation=org, stored=storage.store_chunks([GOOD]), original_name="copy.csv", user=officer
        )
    assert not again.created and again.job.pk == first.pk
    assert OtherActivity.objects.filter(organisation=org).count() == 2
    assert len(list(storage.imports_root().iterdir())) == 0


@pytest.mark.django_db
def test_a_failed_file_may_be_uploaded_again_after_a_fix(org, officer, django_capture_on_commit_callbacks):
    body = HEADER + b"Office electricity,2,,2,MWh,2026-04-01,2026-06-30,ZZZ,ZZZ,,,,\n"
    failed = _submit(org, officer, body, django_capture_on_commit_callbacks)
    assert failed.status == JobStatus.FAILED and failed.errors[0]["column"] == "factor_zone"
    factor_set = EmissionFactorSet.objects.create(name="late", version=1, kind="grid_country", source="Test")
    EmissionFactor.objects.create(factor_set=factor_set, zone="ZZZ", vintage_year=2025, g_co2e_per_kwh=100.0)
    retried = _submit(org, officer, body, django_capture_on_commit_callbacks)
    assert retried.pk != failed.pk and retried.status == JobStatus.DONE and retried.created_count == 1


@pytest.mark.django_db
def test_missing_columns_and_non_utf8_text_fail_the_file(org, officer, django_capture_on_commit_callbacks):
    missing = _submit(org, officer, b"description,scope\nx,1\n", django_capture_on_commit_callbacks)
    assert missing.status == JobStatus.FAILED and "Missing columns" in missing.error_message
    latin = _submit(
        org,
        officer,
        HEADER + "Caf\xe9,3,6,1,trip,2026-05-01,2026-05-31,,,1,a,,\n".encode("latin-1"),
        django_capture_on_commit_callbacks,
    )
    assert latin.status == JobStatus.FAILED and "not UTF-8" in latin.error_message
    assert not OtherActivity.objects.exists()


@pytest.mark.django_db
def test_a_line_over_the_length_limit_fails_the_file_at_that_line(org, officer, django_capture_on_commit_callbacks):
    long_line = b"x" * (report_services.MAX_LINE_BYTES + 10) + b",3,6,1,trip,2026-05-01,2026-05-31,,,1,a,,\n"
    body = HEADER + b"ok,3,6,1,trip,2026-05-01,2026-05-31,,,1,a,,\n" + long_line
    job = _submit(org, officer, body, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.FAILED and job.errors[-1]["line"] == 3
    assert "longer than" in job.errors[-1]["message"] and not OtherActivity.objects.exists()


@pytest.mark.django_db
def test_more_rows_than_the_cap_fail_the_file(org, officer, settings, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(report_services, "MAX_CSV_ROWS", 3)
    body = HEADER + b"ok,3,6,1,trip,2026-05-01,2026-05-31,,,1,a,,\n" * 4
    job = _submit(org, officer, body, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.FAILED and "More than 3 rows" in job.errors[-1]["message"]
    assert job.errors[-1]["line"] == 5 and not OtherActivity.objects.exists()


@pytest.mark.django_db
def test_the_worker_streams_a_large_file(org, officer, tmp_path, django_capture_on_commit_callbacks) -> None:
    source = tmp_path / "big.csv"
    # 60,000-character descriptions (the field takes 200): about 1,400 rows, every one refused.
    _write_large_csv(source, size=80 * MB, row=b"d" * 60_000 + b",3,6,1,trip,2026-05-01,2026-05-31,,,1,a,,\n")
    with django_capture_on_commit_callbacks(execute=False):
        submission = report_services.other_activities_import_submit(
            organisation=org, stored=storage.store_path(source), original_name="big.csv", user=officer
        )
    tracemalloc.start()
    try:
        report_services.other_activities_import_process(job_id=submission.job.pk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    job = OtherActivityImport.objects.get(pk=submission.job.pk)
    assert job.status == JobStatus.FAILED and job.errors[0] == {
        "line": 2,
        "column": "description",
        "message": "Ensure this value has at most 200 characters (it has 60000).",
    }
    assert len(job.errors) == report_services.MAX_STORED_ERRORS and job.errors_total == job.rows_read > 1000
    assert peak < 20 * MB, f"peak {peak / MB:.1f} MB while importing an 80 MB file"


@pytest.mark.django_db
def test_the_reconciler_republishes_a_lost_job(org, officer, grid_factor, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=False):  # the message is lost
        submission = report_services.other_activities_import_submit(
            organisation=org, stored=storage.store_chunks([GOOD]), original_name="other.csv", user=officer
        )
    OtherActivityImport.objects.filter(pk=submission.job.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    assert report_services.other_activities_import_reconcile() == [submission.job.pk]
    assert OtherActivityImport.objects.get(pk=submission.job.pk).status == JobStatus.DONE
    assert report_services.other_activities_import_reconcile() == []


@pytest.mark.django_db
def test_an_import_refreshes_rollups_once_not_per_row(
    org, officer, grid_factor, django_capture_on_commit_callbacks, monkeypatch
):
    # Per-row refreshes regrouped the day's growing ledger once per row: 5,000 rows took minutes.
    from greenesg.footprint import ledger
    from greenesg.footprint.models import LedgerDaily

    calls = {"rollup": 0, "bump": 0}
    refresh, bump = ledger.rollup_refresh, ledger.dashboard_generation_bump

    def counting_refresh(**kwargs):
        calls["rollup"] += 1
        refresh(**kwargs)

    def counting_bump(organisation_id):
        calls["bump"] += 1
        bump(organisation_id)

    monkeypatch.setattr(ledger, "rollup_refresh", counting_refresh)
    monkeypatch.setattr(ledger, "dashboard_generation_bump", counting_bump)
    rows = b"".join(b"Trip %d,3,6,1,trip,2026-05-01,2026-05-%02d,,,2.5,Agency,,\n" % (i, 10 + i) for i in range(6))
    job = _submit(org, officer, GOOD + rows, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.DONE and job.created_count == 8
    assert calls == {"rollup": 1, "bump": 1}
    daily = LedgerDaily.objects.filter(organisation=org, source="other")
    assert daily.count() == 8 and sum(d.kgco2e_location for d in daily) == pytest.approx(500.0 + 12.5 + 6 * 2.5)


@pytest.mark.django_db
def test_a_row_the_ledger_refuses_fails_the_file_and_writes_nothing(
    org, officer, grid_factor, django_capture_on_commit_callbacks, monkeypatch
):
    def refuse(activity):
        raise report_services.ReportError("An activity needs a stated kgCO2e or a registry factor.")

    monkeypatch.setattr(report_services, "_other_ledger_row", refuse)
    job = _submit(org, officer, GOOD, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.FAILED and "Nothing was imported" in job.error_message
    assert not OtherActivity.objects.exists() and not LedgerEntry.objects.exists()


# ------------------------------------------------------------------------------------------ poison files (issue 13)


def _raising(error: Exception):
    def create(**kwargs: object) -> int:
        raise error

    return create


@pytest.mark.django_db
def test_a_transient_error_hands_the_claim_back_for_the_retry(
    org, officer, grid_factor, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import InterfaceError

    with django_capture_on_commit_callbacks(execute=False):
        submission = report_services.other_activities_import_submit(
            organisation=org, stored=storage.store_chunks([GOOD]), original_name="other.csv", user=officer
        )
    monkeypatch.setattr(report_services, "other_activities_create", _raising(InterfaceError("connection closed")))
    with pytest.raises(InterfaceError):
        report_services.other_activities_import_process(job_id=submission.job.pk)
    job = OtherActivityImport.objects.get(pk=submission.job.pk)
    assert (job.status, job.attempts, job.lease_until) == (JobStatus.PENDING, 1, None)

    monkeypatch.undo()
    assert report_services.other_activities_import_process(job_id=job.pk)  # the retry claims at once
    job.refresh_from_db()
    assert (job.status, job.attempts, job.created_count) == (JobStatus.DONE, 2, 2)


@pytest.mark.django_db
def test_a_data_error_fails_the_import_at_once_with_the_reason(
    org, officer, grid_factor, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import DataError

    from reports.tasks import other_activities_import_process as task

    with django_capture_on_commit_callbacks(execute=False):
        submission = report_services.other_activities_import_submit(
            organisation=org, stored=storage.store_chunks([GOOD]), original_name="other.csv", user=officer
        )
    monkeypatch.setattr(report_services, "other_activities_create", _raising(DataError("numeric field overflow")))
    with pytest.raises(DataError):  # not in the task's autoretry list: no second attempt
        report_services.other_activities_import_process(job_id=submission.job.pk)
    assert DataError not in task.autoretry_for
    job = OtherActivityImport.objects.get(pk=submission.job.pk)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert job.error_message == "Internal error: DataError: numeric field overflow."
    assert not OtherActivity.objects.exists()
