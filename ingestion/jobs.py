"""The import job lifecycle, the same for every input format.

submit (store + job row + task on commit) → claim (one conditional update, with a lease) → heartbeat per
chunk → either refuse (FAILED, nothing written) or, inside the pipeline's one publishing transaction,
store row errors and mark DONE. `import_job_reconcile` re-publishes jobs whose message or worker was lost.
The format pipelines (ingestion.codecarbon, ingestion.billing) build on this module; it imports neither.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from greenesg.accounts.models import ApiToken, Organisation, Project
from greenesg.accounts.services import audit_log_write
from ingestion import storage
from ingestion.errors import RETRYABLE_ERRORS, database_diagnostics
from ingestion.models import ImportJob, JobStatus, RowError

logger = logging.getLogger(__name__)

MAX_STORED_ROW_ERRORS = 1000

# The prefix `job_release` puts before the reason of an attempt that failed transiently.
RETRY_NOTE = "attempt failed, retrying: "


class ImportRowFailed(Exception):
    """Publishing failed on a known source row (the database refused a value of that row)."""

    def __init__(self, message: str, *, row: int) -> None:
        super().__init__(f"source row {row}: {message}")
        self.row = row


class ImportRefused(Exception):
    """The whole file is refused; the message says why and nothing is written."""

    def __init__(self, message: str, *, rows_read: int = 0) -> None:
        super().__init__(message)
        self.rows_read = rows_read


@dataclass(frozen=True)
class JobSubmission:
    job: ImportJob
    created: bool  # False: the same content was already imported into this project (or organisation)


@dataclass(frozen=True)
class ClaimResult:
    claimed: bool
    retry_in: float = 0.0  # > 0: another delivery holds a live lease; try again after it


class RowProblemLike(Protocol):
    # Read-only members, so the readers' frozen RowProblem dataclasses match.
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def raw_value(self) -> str: ...


# ---------------------------------------------------------------------------------------------- submit


def import_job_submit(
    *,
    project: Project,
    kind: str,
    origin: str,
    stored: storage.StoredFile | None,
    original_name: str,
    created_by: User | None = None,
    token: ApiToken | None = None,
    payload: dict[str, Any] | None = None,
    sha256: str | None = None,
    enqueue: bool = True,
) -> JobSubmission:
    """Create a project's job for stored content, or return the existing job for the same content."""
    digest = stored.sha256 if stored else (sha256 or "")
    return job_submit(
        organisation=project.organisation,
        project=project,
        kind=kind,
        origin=origin,
        stored=stored,
        original_name=original_name,
        sha256=digest,
        created_by=created_by,
        token=token,
        payload=payload,
        audit_after={"project": str(project), "kind": kind, "origin": origin, "sha256": digest},
        retry_failed=True,
        enqueue=enqueue,
    )


def job_submit(
    *,
    organisation: Organisation,
    project: Project | None,
    kind: str,
    origin: str,
    stored: storage.StoredFile | None,
    original_name: str,
    sha256: str,
    audit_after: dict[str, Any],
    created_by: User | None = None,
    token: ApiToken | None = None,
    payload: dict[str, Any] | None = None,
    retry_failed: bool = False,
    enqueue: bool = True,
) -> JobSubmission:
    """Create the job (project-level, or org-level with project=None) or return the one with these bytes.

    The unique constraint on (organisation, project, sha256) settles concurrent identical uploads, not a prior
    SELECT. With `retry_failed`, a FAILED job of the same content is queued again (after factor fixes).
    """
    user = created_by if created_by is not None and created_by.is_authenticated else None
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                organisation=organisation,
                project=project,
                kind=kind,
                origin=origin,
                stored_path=stored.relative_path if stored else "",
                original_name=original_name[:255],
                size_bytes=stored.size_bytes if stored else 0,
                sha256=sha256,
                payload=payload,
                created_by=user,
                token=token,
            )
            audit_log_write(
                organisation=organisation,
                actor=user,
                actor_label=f"token {token.prefix}" if token else "",
                action="import.create",
                object_type="import_job",
                object_id=str(job.pk),
                after={**audit_after, "file": job.original_name},
            )
            if enqueue:
                job_enqueue_on_commit(str(job.pk))
    except IntegrityError:
        return _existing_submission(organisation, project, sha256, stored, retry_failed=retry_failed, enqueue=enqueue)
    return JobSubmission(job=job, created=True)


def _existing_submission(
    organisation: Organisation,
    project: Project | None,
    sha256: str,
    stored: storage.StoredFile | None,
    *,
    retry_failed: bool,
    enqueue: bool,
) -> JobSubmission:
    owner = {"project": project} if project is not None else {"project__isnull": True}
    existing = ImportJob.objects.get(organisation=organisation, sha256=sha256, **owner)
    if retry_failed and existing.status == JobStatus.FAILED and _job_retry(existing, stored, enqueue=enqueue):
        existing.refresh_from_db()
        return JobSubmission(job=existing, created=True)
    if stored:
        storage.discard(stored.relative_path)
    return JobSubmission(job=existing, created=False)


def _job_retry(job: ImportJob, stored: storage.StoredFile | None, *, enqueue: bool) -> bool:
    """A FAILED import of the same content may be submitted again (after factor or settings fixes)."""
    with transaction.atomic():
        old_path = job.stored_path
        updated = ImportJob.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
            status=JobStatus.PENDING,
            attempts=0,
            error_message="",
            stage="",
            lease_until=None,
            finished_at=None,
            rows_read=0,
            rows_processed=0,
            rows_rejected=0,
            stored_path=stored.relative_path if stored else old_path,
        )
        if updated != 1:
            return False
        RowError.objects.filter(job=job).delete()
        audit_log_write(
            organisation=job.organisation,
            actor=None,
            actor_label="system",
            action="import.retry",
            object_type="import_job",
            object_id=str(job.pk),
            before={"status": "failed"},
            after={"status": "pending"},
        )
        if enqueue:
            job_enqueue_on_commit(str(job.pk))
    if stored and old_path and old_path != stored.relative_path:
        storage.discard(old_path)
    return True


def job_enqueue_on_commit(job_id: str) -> None:
    from ingestion.tasks import import_job_process_task  # the task module imports the pipelines

    # robust: the job row is committed whatever happens here. If the broker refuses the message (Redis
    # down), Django logs the error and the request still answers 202; the job stays PENDING and the
    # reconciler publishes it again after IMPORT_STALE_PENDING_SECONDS (docs/operations.md §4.3).
    transaction.on_commit(lambda: import_job_process_task.delay(job_id), robust=True)


# ---------------------------------------------------------------------------------------------- claim, lease


def import_job_claim(*, job_id: str) -> ClaimResult:
    now = timezone.now()
    lease = now + dt.timedelta(seconds=settings.IMPORT_LEASE_SECONDS)
    claimable = Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, lease_until__lt=now)
    updated = ImportJob.objects.filter(claimable, pk=job_id).update(
        status=JobStatus.RUNNING, attempts=F("attempts") + 1, lease_until=lease, started_at=now, stage="claimed"
    )
    if updated == 1:
        return ClaimResult(claimed=True)
    job = ImportJob.objects.filter(pk=job_id).only("status", "lease_until").first()
    if job is not None and job.status == JobStatus.RUNNING and job.lease_until:
        return ClaimResult(claimed=False, retry_in=max((job.lease_until - now).total_seconds(), 0.0) + 1.0)
    return ClaimResult(claimed=False)


def job_heartbeat(job_id: str, *, rows: int, stage: str) -> None:
    """Renew the lease and show progress; a worker that stops calling this loses the job to a retry."""
    lease = timezone.now() + dt.timedelta(seconds=settings.IMPORT_LEASE_SECONDS)
    ImportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        lease_until=lease, rows_processed=rows, stage=stage
    )


# ---------------------------------------------------------------------------------------------- outcomes


def job_fail(job_id: str, message: str, **counts: int) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=JobStatus.FAILED,
        error_message=message,
        finished_at=timezone.now(),
        lease_until=None,
        stage="failed",
        **counts,
    )


def job_refuse(
    job: ImportJob, message: str, *, rows_read: int, problems: Sequence[RowProblemLike] = (), rows_rejected: int = 0
) -> None:
    """The whole file is refused: FAILED with the reason, no ledger row written, one audit entry.

    The row problems that caused the refusal are stored with it, so the error report lists them.
    """
    with transaction.atomic():
        job_row_errors_store(job, problems)
        job_fail(str(job.pk), message, rows_read=rows_read, rows_rejected=rows_rejected)
        job_log_outcome(job, "import.failed", {"error": message})


def job_error_is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RETRYABLE_ERRORS)


def job_error_reason(exc: BaseException) -> str:
    """The real reason in one line: exception type and the first line of its message (no traceback)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def job_crash(job: ImportJob, exc: BaseException) -> None:
    """A non-retryable error: FAILED at once with the reason; another attempt would fail the same way."""
    message = f"import failed: {job_error_reason(exc)}"
    job_fail(str(job.pk), message)
    job_log_outcome(job, "import.failed", {"error": message})


def job_release(job_id: str, exc: BaseException) -> None:
    """A transient error: hand the claim back (PENDING, no lease) so the task's retry can claim it at once.

    The attempt stays counted, so the attempt cap still ends a file that fails every time; the reason is kept
    for the message of that final failure.
    """
    try:
        ImportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.PENDING,
            lease_until=None,
            stage="retrying",
            error_message=RETRY_NOTE + job_error_reason(exc),
        )
    except DatabaseError:
        # The connection itself is gone: the lease expires and the reconciler hands the job out again.
        logger.warning("import %s: could not hand the claim back after %s", job_id, type(exc).__name__)


def job_give_up(job: ImportJob) -> None:
    """Fail a job claimed more than IMPORT_MAX_ATTEMPTS times, with the last transient error when there was one."""
    tried = job.attempts - 1
    if job.error_message.startswith(RETRY_NOTE):
        # "last error", not "the last attempt failed with": a later attempt may have lost its worker instead.
        message = f"gave up after {tried} attempts; last error: {job.error_message[len(RETRY_NOTE) :]}"
    else:
        message = f"gave up after {tried} attempts: the worker died each time on this file"
    job_fail(str(job.pk), message)
    job_log_outcome(job, "import.failed", {"error": message})


_COPY_LINE = re.compile(r"COPY \w+, line (\d+)")


def job_row_from_copy_error(exc: BaseException, source_rows: Sequence[object]) -> int | None:
    """The source row of a value PostgreSQL's COPY refused ("CONTEXT: COPY table, line N"), when known.

    COPY counts the lines it was sent (no header), so line N is the N-th row written.
    """
    match = _COPY_LINE.search(f"{exc}\n{database_diagnostics(exc)[2]}")
    if match is None or not 1 <= int(match.group(1)) <= len(source_rows):
        return None
    row = source_rows[int(match.group(1)) - 1]
    try:
        return int(row)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None  # an aggregated billing row has no single source row


def job_row_errors_store(job: ImportJob, problems: Iterable[RowProblemLike]) -> None:
    """Keep the first MAX_STORED_ROW_ERRORS row problems for the error report (call inside the publish)."""
    stored = list(problems)[:MAX_STORED_ROW_ERRORS]
    RowError.objects.bulk_create(
        RowError(
            job=job,
            row=p.line,
            column=p.column[:100],
            code=p.code[:40],
            message=p.message[:500],
            raw_value=p.raw_value[:200],
        )
        for p in stored
    )


def job_mark_done(
    job: ImportJob,
    *,
    rows_read: int,
    rows_rejected: int,
    records_new: int,
    records_updated: int,
    records_unchanged: int,
    detected_format: str,
    totals: dict[str, Any],
) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE,
        stage="done",
        finished_at=timezone.now(),
        lease_until=None,
        rows_read=rows_read,
        rows_processed=rows_read,
        rows_rejected=rows_rejected,
        records_new=records_new,
        records_updated=records_updated,
        records_unchanged=records_unchanged,
        detected_format=detected_format,
        totals=totals,
        error_message="",
    )


def job_log_outcome(job: ImportJob, action: str, after: dict[str, Any]) -> None:
    audit_log_write(
        organisation=job.organisation,
        actor=None,
        actor_label="worker",
        action=action,
        object_type="import_job",
        object_id=str(job.pk),
        after=after,
    )


def job_test_barrier(rows_read: int) -> None:
    """Integration-test hook (docs/operations.md §4.5): after N rows, note our PID and wait for a marker to go."""
    spec = settings.IMPORT_TEST_BARRIER
    if not spec:
        return
    threshold, _, marker = spec.partition(":")
    if rows_read < int(threshold) or not marker:
        return
    Path(marker + ".pid").write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while Path(marker).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------- reconcile


def import_job_reconcile() -> list[str]:
    """Re-publish jobs whose message was lost (PENDING too long) or whose worker died (lease expired)."""
    now = timezone.now()
    stale_pending = now - dt.timedelta(seconds=settings.IMPORT_STALE_PENDING_SECONDS)
    jobs = ImportJob.objects.filter(
        Q(status=JobStatus.PENDING, created_at__lt=stale_pending) | Q(status=JobStatus.RUNNING, lease_until__lt=now)
    ).values_list("pk", flat=True)[:100]
    from ingestion.tasks import import_job_process_task

    ids = [str(pk) for pk in jobs]
    for job_id in ids:
        import_job_process_task.delay(job_id)
    return ids
