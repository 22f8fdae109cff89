"""Poison files (issue 13, item 3): errors in the job lifecycle are classified.

A non-retryable error (DataError, IntegrityError, ValueError while parsing, anything unforeseen in publishing)
fails the job at once with its reason; a transient one (lost connection, lock timeout) hands the claim back
for another attempt. Each class is injected by monkeypatching the ledger writer or the reader.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import DataError, IntegrityError, InterfaceError, OperationalError, connection

from greenesg.accounts.models import Organisation, Project
from greenesg.footprint import ledger
from greenesg.footprint.models import LedgerEntry
from ingestion import storage
from ingestion.billing import pipeline as billing_pipeline
from ingestion.billing.pipeline import billing_job_submit
from ingestion.codecarbon import pipeline as codecarbon_pipeline
from ingestion.jobs import import_job_submit
from ingestion.models import ImportJob, JobOrigin, JobStatus
from ingestion.process import import_job_process
from tests.billing.conftest import cur_row, cur_text

pytestmark = pytest.mark.django_db

SAMPLE = "emissions_codecarbon_3.3.2.csv"


def _codecarbon_job(project: Project, sample_dir: Path) -> ImportJob:
    stored = storage.store_chunks([(sample_dir / SAMPLE).read_bytes()])
    return import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job


def _billing_job(org: Organisation, tmp_path: Path) -> ImportJob:
    path = tmp_path / "cur.csv"
    path.write_text(cur_text([cur_row(hour=h) for h in range(4)]), encoding="utf-8")
    return billing_job_submit(
        organisation=org, origin=JobOrigin.CLI, stored=storage.store_path(path), original_name="cur.csv", enqueue=False
    ).job


@pytest.fixture(params=["codecarbon", "billing"])
def job(request: pytest.FixtureRequest, project: Project, sample_dir: Path, tmp_path: Path) -> ImportJob:
    if request.param == "codecarbon":
        return _codecarbon_job(project, sample_dir)
    return _billing_job(project.organisation, tmp_path)


def _writer_raising(error: Exception) -> Callable[..., None]:
    def write(*args: Any, **kwargs: Any) -> None:
        raise error

    return write


def _break_writers(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Both ledger writers fail: billing's direct write and the stage codecarbon streams to."""
    monkeypatch.setattr(ledger, "ledger_write", _writer_raising(error))
    monkeypatch.setattr(ledger.LedgerStage, "add", _writer_raising(error))


def _state(job: ImportJob) -> tuple[str, int, str]:
    job.refresh_from_db()
    return job.status, job.attempts, job.error_message


@pytest.mark.parametrize(
    "error",
    [
        DataError("value too long for type character varying(64)"),
        IntegrityError('duplicate key value violates unique constraint "ledger_natural_key"'),
    ],
    ids=["DataError", "IntegrityError"],
)
def test_a_data_error_in_the_writer_fails_the_job_at_once_with_the_reason(
    job: ImportJob, error: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_writers(monkeypatch, error)

    import_job_process(job_id=str(job.pk))  # does not raise: nothing for Celery to retry

    status, attempts, message = _state(job)
    assert (status, attempts) == (JobStatus.FAILED, 1)
    assert message == f"import failed: {type(error).__name__}: {error}"
    assert "worker died" not in message
    assert not LedgerEntry.objects.filter(import_job=job).exists()
    # A second delivery of the message finds nothing to claim: the job stays failed after one attempt.
    import_job_process(job_id=str(job.pk))
    assert _state(job)[:2] == (JobStatus.FAILED, 1)


def test_a_value_error_while_parsing_fails_the_job_at_once(
    project: Project, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _codecarbon_job(project, sample_dir)

    def broken_reader(*args: object, **kwargs: object) -> Any:
        raise ValueError("could not convert string to float: 'n/a'")

    monkeypatch.setattr(codecarbon_pipeline, "read_codecarbon_csv", broken_reader)
    import_job_process(job_id=str(job.pk))
    assert _state(job) == (
        JobStatus.FAILED,
        1,
        "import failed: ValueError: could not convert string to float: 'n/a'",
    )


def test_a_value_error_while_parsing_a_billing_file_fails_the_job_at_once(
    org: Organisation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _billing_job(org, tmp_path)

    def broken_chunks(*args: object, **kwargs: object) -> Any:
        raise ValueError("day is out of range for month")

    monkeypatch.setattr(billing_pipeline, "iter_billing_batches", broken_chunks)
    import_job_process(job_id=str(job.pk))
    assert _state(job) == (JobStatus.FAILED, 1, "import failed: ValueError: day is out of range for month")


def test_an_unforeseen_error_in_publishing_fails_the_job_at_once(
    job: ImportJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_refresh(**kwargs: object) -> None:
        raise KeyError("kgco2e_market")

    monkeypatch.setattr(ledger, "rollup_refresh", broken_refresh)
    import_job_process(job_id=str(job.pk))
    assert _state(job) == (JobStatus.FAILED, 1, "import failed: KeyError: 'kgco2e_market'")
    assert not LedgerEntry.objects.filter(import_job=job).exists()  # the publishing transaction rolled back


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("canceling statement due to lock timeout"),
        OperationalError("could not serialize access due to concurrent update"),
        InterfaceError("connection already closed"),
    ],
    ids=["lock-timeout", "serialization", "connection-lost"],
)
def test_a_transient_error_hands_the_claim_back_for_another_attempt(
    job: ImportJob, error: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_writers(monkeypatch, error)

    with pytest.raises(type(error)):  # propagates, so the task's autoretry runs it again
        import_job_process(job_id=str(job.pk))

    status, attempts, message = _state(job)
    assert (status, attempts) == (JobStatus.PENDING, 1)
    assert job.lease_until is None  # the retry claims at once instead of waiting for the lease
    assert message == f"attempt failed, retrying: {type(error).__name__}: {error}"

    monkeypatch.undo()  # the database is back: the next attempt imports the file
    import_job_process(job_id=str(job.pk))
    status, attempts, message = _state(job)
    assert (status, attempts, message) == (JobStatus.DONE, 2, "")
    assert LedgerEntry.objects.filter(import_job=job).exists()


def test_a_job_failing_transiently_every_time_gives_up_with_the_last_error(
    job: ImportJob, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    settings.IMPORT_MAX_ATTEMPTS = 3
    _break_writers(monkeypatch, OperationalError("server closed the connection"))
    for _ in range(3):
        with pytest.raises(OperationalError):
            import_job_process(job_id=str(job.pk))
    import_job_process(job_id=str(job.pk))  # the fourth claim is over the cap

    assert _state(job) == (
        JobStatus.FAILED,
        4,
        "gave up after 3 attempts; last error: OperationalError: server closed the connection",
    )


def test_the_task_autoretries_exactly_the_transient_errors() -> None:
    import psycopg

    from ingestion.errors import RETRYABLE_ERRORS
    from ingestion.tasks import import_job_process_task

    # Django's wrappers and psycopg's own classes (the ledger's COPY runs on the raw psycopg cursor).
    expected = {OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError}
    assert set(import_job_process_task.autoretry_for) == set(RETRYABLE_ERRORS) == expected


def test_the_task_does_not_retry_a_data_error(
    project: Project, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingestion.tasks import import_job_process_task

    job = _codecarbon_job(project, sample_dir)
    _break_writers(monkeypatch, DataError("numeric field overflow"))
    result = import_job_process_task.apply(args=[str(job.pk)])
    assert result.successful()
    assert _state(job) == (JobStatus.FAILED, 1, "import failed: DataError: numeric field overflow")


def test_a_value_refused_by_copy_is_reported_with_its_source_row(
    project: Project, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL names the COPY line it refused; line 2 is the second row written.
    job = _codecarbon_job(project, sample_dir)
    written: list[int] = []

    def refuse_second_row(stage: ledger.LedgerStage, frame: Any, **kwargs: Any) -> None:
        written.extend(int(row) for row in frame["source_row"])
        raise DataError(
            "value too long for type character varying(64)\n"
            'CONTEXT:  COPY ledger_import_stage, line 2, column region: "xxxxxxxx"'
        )

    monkeypatch.setattr(ledger.LedgerStage, "add", refuse_second_row)
    import_job_process(job_id=str(job.pk))
    assert _state(job) == (
        JobStatus.FAILED,
        1,
        f"import failed: ImportRowFailed: source row {written[1]}: value too long for type character varying(64)",
    )


# ---------------------------------------------------------------------------------------------- on PostgreSQL

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="COPY errors and unique violations of the direct COPY need PostgreSQL (set DATABASE_URL=postgres://…)",
)


@postgres_only
def test_a_value_postgresql_refuses_in_every_row_fails_the_job_loudly(
    project: Project, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value shared by the whole batch is not sent per row but set as the stage column's default: the database
    must still refuse it, and the job say why."""
    job = _codecarbon_job(project, sample_dir)
    real = codecarbon_pipeline.ledger_frame_from_records

    def poisoned(*args: Any, **kwargs: Any) -> Any:
        frame = real(*args, **kwargs)
        frame["region"] = "r" * 65  # the ledger's region holds 64 characters
        return frame

    monkeypatch.setattr(codecarbon_pipeline, "ledger_frame_from_records", poisoned)
    import_job_process(job_id=str(job.pk))
    status, _, message = _state(job)
    assert status == JobStatus.FAILED and "value too long for type character varying(64)" in message
    assert not LedgerEntry.objects.filter(project=project).exists()


@postgres_only
def test_a_value_postgresql_refuses_fails_the_job_with_its_source_row(
    project: Project, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _codecarbon_job(project, sample_dir)
    real = codecarbon_pipeline.ledger_frame_from_records
    rows: list[int] = []

    def poisoned(*args: Any, **kwargs: Any) -> Any:
        frame = real(*args, **kwargs)
        frame.loc[frame.index[1], "region"] = "r" * 65  # the ledger's region holds 64 characters
        rows.extend(int(row) for row in frame["source_row"])
        return frame

    monkeypatch.setattr(codecarbon_pipeline, "ledger_frame_from_records", poisoned)
    import_job_process(job_id=str(job.pk))
    assert _state(job) == (
        JobStatus.FAILED,
        1,
        f"import failed: ImportRowFailed: source row {rows[1]}: value too long for type character varying(64)",
    )


def test_keys_committed_by_a_concurrent_import_are_upserted_not_failed(
    project: Project, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same runs land in the ledger between parsing and publishing (another import of them committed): the one
    # write path upserts on the natural key, so they count as unchanged instead of breaking the unique constraint.
    job = _codecarbon_job(project, sample_dir)
    real_publish = ledger.LedgerStage.publish
    columns = ", ".join((*ledger.LEDGER_COLUMNS, "updated_at"))

    def race_then_publish(stage: ledger.LedgerStage, organisation_id: int) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {ledger.LEDGER_TABLE} ({columns}) SELECT {columns} FROM {ledger.STAGE_TABLE} "
                f"WHERE seq IN (SELECT MAX(seq) FROM {ledger.STAGE_TABLE} GROUP BY natural_key)"
            )
        return real_publish(stage, organisation_id)

    monkeypatch.setattr(ledger.LedgerStage, "publish", race_then_publish)
    import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    assert (job.status, job.attempts, job.records_new) == (JobStatus.DONE, 1, 0)
    keys = list(LedgerEntry.objects.filter(project=project).values_list("natural_key", flat=True))
    assert len(keys) == len(set(keys)) == job.records_unchanged + job.records_updated > 0
