"""Upload retention (issue 15 item 3): stored files of finished imports go after GREENESG_UPLOAD_RETENTION_DAYS;
the job, its sha256 and its row errors stay, and the pages say why the file is gone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from greenesg.accounts.models import AuditLog, Project
from greenesg.settings import CELERY_BEAT_SCHEDULE
from ingestion import storage
from ingestion.models import ImportJob, JobStatus
from ingestion.retention import upload_retention_sweep

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def stored_job(project: Project, *, days_ago: float, status: str = JobStatus.DONE) -> ImportJob:
    stored = storage.store_chunks([f"timestamp,project_name\n2024-01-01T00:00:00,{days_ago}-{status}\n".encode()])
    return ImportJob.objects.create(
        organisation=project.organisation,
        project=project,
        kind="codecarbon",
        origin="upload",
        original_name="emissions.csv",
        stored_path=stored.relative_path,
        sha256=stored.sha256,
        status=status,
        finished_at=NOW - dt.timedelta(days=days_ago) if status in (JobStatus.DONE, JobStatus.FAILED) else None,
        rows_rejected=1,
    )


@pytest.mark.django_db
def test_it_deletes_old_uploads_and_keeps_the_job_sha_and_row_errors(
    project, settings, django_capture_on_commit_callbacks
):
    settings.UPLOAD_RETENTION_DAYS = 30
    job = stored_job(project, days_ago=31)
    job.row_errors.create(row=3, column="duration", code="bad_number", message="not a number", raw_value="x")
    path = storage.open_stored(job.stored_path)
    with django_capture_on_commit_callbacks(execute=True):
        assert upload_retention_sweep(now=NOW) == 1

    job.refresh_from_db()
    assert not path.exists()
    assert (job.stored_path, job.file_deleted_at, job.status) == ("", NOW, JobStatus.DONE)
    assert len(job.sha256) == 64 and job.row_errors.count() == 1
    entry = AuditLog.objects.get(action="import.file_deleted")
    assert (entry.object_id, entry.actor_label, entry.after["sha256"]) == (str(job.pk), "retention", job.sha256)


@pytest.mark.django_db
def test_it_keeps_recent_unfinished_and_forever_uploads(project, settings, django_capture_on_commit_callbacks):
    settings.UPLOAD_RETENTION_DAYS = 30
    recent = stored_job(project, days_ago=29)
    running = stored_job(project, days_ago=0, status=JobStatus.RUNNING)
    old = stored_job(project, days_ago=400)
    settings.UPLOAD_RETENTION_DAYS = 0  # keep forever
    assert upload_retention_sweep(now=NOW) == 0
    settings.UPLOAD_RETENTION_DAYS = 30
    with django_capture_on_commit_callbacks(execute=True):
        assert upload_retention_sweep(now=NOW) == 1
    for job in (recent, running):
        job.refresh_from_db()
        assert job.file_deleted_at is None and storage.open_stored(job.stored_path).exists()
    old.refresh_from_db()
    assert old.file_deleted_at == NOW


@pytest.mark.django_db
def test_a_second_sweep_deletes_nothing_more(project, settings, django_capture_on_commit_callbacks):
    settings.UPLOAD_RETENTION_DAYS = 1
    stored_job(project, days_ago=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert upload_retention_sweep(now=NOW) == 1
        assert upload_retention_sweep(now=NOW + dt.timedelta(days=1)) == 0
    assert AuditLog.objects.filter(action="import.file_deleted").count() == 1


@pytest.mark.django_db
def test_the_download_and_the_job_page_say_the_file_was_deleted(officer_client, project):
    job = stored_job(project, days_ago=100)
    ImportJob.objects.filter(pk=job.pk).update(stored_path="", file_deleted_at=timezone.now())
    download = officer_client.get(reverse("import-file", args=["acme", job.pk]))
    assert download.status_code == 410
    assert b"deleted" in download.content and b"retention policy" in download.content
    assert job.sha256.encode() in download.content
    page = officer_client.get(reverse("import-detail", args=["acme", job.pk]))
    assert page.status_code == 200
    assert b'id="file-retention"' in page.content and job.sha256.encode() in page.content


@pytest.mark.django_db
def test_the_download_of_a_deleted_upload_is_still_hidden_from_outsiders(outsider_client, project):
    job = stored_job(project, days_ago=100)
    ImportJob.objects.filter(pk=job.pk).update(stored_path="", file_deleted_at=timezone.now())
    assert outsider_client.get(reverse("import-file", args=["acme", job.pk])).status_code == 404


def test_the_sweep_runs_every_night_on_beat() -> None:
    entry = CELERY_BEAT_SCHEDULE["upload-retention-sweep"]
    assert entry["task"] == "ingestion.tasks.upload_retention_sweep" and entry["options"]["expires"] <= 86400
