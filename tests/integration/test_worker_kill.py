"""A real Celery worker on real Redis and PostgreSQL, killed in the middle of an import.

The end state must equal one clean import: every run once, totals exact, the job DONE after a
second attempt.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum

from greenesg.accounts.models import Organisation, Project
from greenesg.footprint.models import LedgerEntry
from ingestion import storage
from ingestion.codecarbon.synthetic import generate_csv
from ingestion.jobs import import_job_submit
from ingestion.models import ImportJob, JobStatus
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

RUNS = 300


def _project() -> Project:
    org = Organisation.objects.create(slug="kill", name="Kill test")
    return Project.objects.create(organisation=org, slug="p", name="P")


def _submit(project: Project, content: bytes) -> ImportJob:
    stored = storage.store_chunks([content])
    return import_job_submit(
        project=project, kind="codecarbon", origin="api", stored=stored, original_name="emissions.csv"
    ).job


def _job(job_id: object) -> ImportJob:
    return ImportJob.objects.get(pk=job_id)


def test_a_killed_pool_child_is_retried_and_imports_exactly_once(start_worker, tmp_path: Path) -> None:
    marker = tmp_path / "barrier"
    marker.write_text("hold")
    start_worker(IMPORT_TEST_BARRIER=f"1:{marker}", IMPORT_LEASE_SECONDS="3")
    project = _project()
    content = generate_csv(runs=RUNS, start=dt.datetime(2026, 3, 1), days=30, flushes=3)
    job = _submit(project, content)

    pid_file = Path(str(marker) + ".pid")
    wait_for(pid_file.exists, timeout=60, what="the worker to reach the barrier")
    os.kill(int(pid_file.read_text()), signal.SIGKILL)  # the pool child, mid-import
    pid_file.unlink()
    marker.unlink()  # the redelivered attempt passes the barrier

    wait_for(lambda: _job(job.pk).is_finished, timeout=90, what="the retried job to finish")
    job = _job(job.pk)
    assert job.status == JobStatus.DONE, job.error_message
    assert job.attempts == 2
    assert job.records_new == RUNS
    entries = LedgerEntry.objects.filter(project=project)
    assert entries.count() == RUNS
    assert entries.values("natural_key").distinct().count() == RUNS

    # Same totals as a clean import of the same file into a fresh project.
    clean_project = Project.objects.create(organisation=project.organisation, slug="clean", name="Clean")
    clean = _submit(clean_project, content)
    wait_for(lambda: _job(clean.pk).is_finished, timeout=60, what="the clean import")
    killed_total = entries.aggregate(s=Sum("energy_facility_kwh"))["s"]
    clean_total = LedgerEntry.objects.filter(project=clean_project).aggregate(s=Sum("energy_facility_kwh"))["s"]
    assert killed_total == pytest.approx(clean_total, rel=1e-12)


def test_a_job_is_processed_by_a_real_worker_and_a_duplicate_message_has_no_effect(start_worker) -> None:
    start_worker()
    project = _project()
    job = _submit(project, generate_csv(runs=20, start=dt.datetime(2026, 5, 1), days=5))
    wait_for(lambda: _job(job.pk).is_finished, timeout=60, what="the job to finish")
    assert _job(job.pk).status == JobStatus.DONE

    from ingestion.tasks import import_job_process_task

    import_job_process_task.delay(str(job.pk))  # a redelivered or duplicated message
    import_job_process_task.delay(str(job.pk))
    finished_at = _job(job.pk).finished_at
    time.sleep(3)  # let the worker consume both messages
    assert _job(job.pk).attempts == 1
    assert _job(job.pk).finished_at == finished_at
    assert LedgerEntry.objects.filter(project=project).count() == 20


def test_concurrent_duplicate_uploads_have_one_effect(real_services) -> None:
    project = _project()
    content = generate_csv(runs=10, start=dt.datetime(2026, 6, 1), days=2)
    results: list[bool] = []

    def upload() -> None:
        stored = storage.store_chunks([content])
        results.append(
            import_job_submit(
                project=project,
                kind="codecarbon",
                origin="api",
                stored=stored,
                original_name="emissions.csv",
                enqueue=False,
            ).created
        )
        connection.close()

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert ImportJob.objects.filter(project=project).count() == 1


def test_a_whole_worker_killed_mid_import_is_recovered_by_the_next_worker(start_worker, tmp_path: Path) -> None:
    marker = tmp_path / "barrier"
    marker.write_text("hold")
    timeouts = {"IMPORT_LEASE_SECONDS": "3", "CELERY_VISIBILITY_TIMEOUT": "3"}
    first = start_worker(IMPORT_TEST_BARRIER=f"1:{marker}", **timeouts)
    project = _project()
    job = _submit(project, generate_csv(runs=50, start=dt.datetime(2026, 4, 1), days=10))
    pid_file = Path(str(marker) + ".pid")
    wait_for(pid_file.exists, timeout=60, what="the worker to reach the barrier")
    os.killpg(first.pid, signal.SIGKILL)  # the main process and its pool: nothing acks, nothing requeues
    first.wait(timeout=10)
    marker.unlink()
    time.sleep(3.5)  # past the visibility timeout, so the unacked message is restored
    start_worker(**timeouts)
    wait_for(lambda: _job(job.pk).is_finished, timeout=90, what="the next worker to finish the job")
    assert _job(job.pk).status == JobStatus.DONE
    assert LedgerEntry.objects.filter(project=project).count() == 50


def test_a_lost_queue_is_rebuilt_from_the_database_by_the_reconciler(start_worker, settings) -> None:
    import redis

    from ingestion.jobs import import_job_reconcile

    project = _project()
    job = _submit(project, generate_csv(runs=10, start=dt.datetime(2026, 7, 1), days=2))
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()  # Redis restarted without persistence
    ImportJob.objects.filter(pk=job.pk).update(created_at=job.created_at - dt.timedelta(hours=1))
    start_worker()
    assert import_job_reconcile() == [str(job.pk)]
    wait_for(lambda: _job(job.pk).is_finished, timeout=60, what="the re-published job")
    assert _job(job.pk).status == JobStatus.DONE
    assert LedgerEntry.objects.filter(project=project).count() == 10
