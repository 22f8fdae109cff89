"""Two workers on "two machines" (issue 13, item 8): different working directories, var folders and media
roots, one PostgreSQL, one Redis, and the uploads on a shared volume (IMPORTS_STORAGE_LOCATION).

Worker A is held at a barrier inside the first import, so the second upload can only be imported by worker B;
then A is released and finishes its own. Both imports must be DONE with exact ledger totals.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from greenesg.accounts.models import Organisation, Project
from greenesg.footprint.models import LedgerEntry
from ingestion import storage
from ingestion.codecarbon.synthetic import generate_csv
from ingestion.jobs import import_job_submit
from ingestion.models import ImportJob, JobStatus
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def _machine(tmp_path: Path, name: str, shared: Path) -> dict[str, object]:
    home = tmp_path / name
    (home / "cwd").mkdir(parents=True)
    return {
        "cwd": home / "cwd",
        "GREENESG_VAR_DIR": str(home / "var"),
        "MEDIA_ROOT": str(home / "media"),  # not shared: only the imports storage is
        "IMPORTS_STORAGE_LOCATION": str(shared),
    }


def _job(job_id: object) -> ImportJob:
    return ImportJob.objects.get(pk=job_id)


def test_uploads_reach_workers_on_other_machines_through_the_shared_imports_storage(
    start_worker, tmp_path: Path, settings
) -> None:
    shared = tmp_path / "shared-volume"
    settings.STORAGES = {
        **settings.STORAGES,
        "imports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(shared)}},
    }
    marker = tmp_path / "barrier"
    marker.write_text("hold")
    start_worker(IMPORT_TEST_BARRIER=f"1:{marker}", **_machine(tmp_path, "a", shared))

    org = Organisation.objects.create(slug="two", name="Two machines")
    first_project = Project.objects.create(organisation=org, slug="first", name="First")
    second_project = Project.objects.create(organisation=org, slug="second", name="Second")

    def submit(project: Project, days: int) -> ImportJob:
        content = generate_csv(runs=40, start=dt.datetime(2026, 4, 1), days=days, flushes=2)
        stored = storage.store_chunks([content])
        assert (shared / "imports" / stored.relative_path).exists()
        return import_job_submit(
            project=project, kind="codecarbon", origin="api", stored=stored, original_name="emissions.csv"
        ).job

    first = submit(first_project, 10)
    wait_for(Path(str(marker) + ".pid").exists, timeout=60, what="worker A to hold the first import")

    start_worker(**_machine(tmp_path, "b", shared))  # started only now, so A got the first job
    second = submit(second_project, 12)
    wait_for(lambda: _job(second.pk).is_finished, timeout=90, what="worker B to import the second upload")
    assert _job(second.pk).status == JobStatus.DONE, _job(second.pk).error_message
    assert _job(first.pk).status == JobStatus.RUNNING  # still held by A: B really did the second one

    marker.unlink()
    wait_for(lambda: _job(first.pk).is_finished, timeout=90, what="worker A to finish the first upload")
    assert _job(first.pk).status == JobStatus.DONE, _job(first.pk).error_message
    assert LedgerEntry.objects.filter(project=first_project).count() == 40
    assert LedgerEntry.objects.filter(project=second_project).count() == 40
    for name in ("a", "b"):  # each machine kept its own var folder; nothing was written to the other's media
        assert (tmp_path / name / "var").is_dir()
        assert not list((tmp_path / name / "media").rglob("*.upload"))
