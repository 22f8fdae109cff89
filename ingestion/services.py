"""Import jobs: submit (store + job row + task on commit) and process (claim, parse, estimate, write).

Processing, in order:
1. claim the job with one conditional update (PENDING, or RUNNING with an expired lease → RUNNING);
2. parse the whole file outside any transaction, renewing the lease per chunk and saving progress;
3. refuse the file (FAILED, nothing written) on a structural error or too many bad rows;
4. in ONE transaction: upsert ledger rows, store row errors, refresh rollups, mark the job DONE.
A worker killed at any point leaves either nothing or the complete import, so a retry equals a single
clean import.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from greenesg.accounts.models import ApiToken, Project
from greenesg.accounts.services import audit_log_write
from greenesg.footprint import ledger
from greenesg.footprint.factors import factor_lookup
from ingestion import storage
from ingestion.codecarbon_import import ProjectContext, ledger_frame_from_records
from ingestion.models import ImportJob, JobKind, JobStatus, RowError
from ingestion.readers.codecarbon import (
    CodecarbonFormatError,
    RowProblem,
    last_row_per_run,
    parse_live_record,
    read_codecarbon_csv,
)

logger = logging.getLogger(__name__)

MAX_STORED_ROW_ERRORS = 1000
# More than this share of bad rows means the file is probably not what the user thinks it is.
MAX_REJECTED_SHARE = 0.5


class ImportRefused(Exception):
    """The whole file is refused; the message says why and nothing is written."""


@dataclass(frozen=True)
class JobSubmission:
    job: ImportJob
    created: bool  # False: the same content was already imported into this project


@dataclass
class ParsedImport:
    frames: list[Any] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    rows_read: int = 0
    detected_format: str = ""


# ---------------------------------------------------------------------------------------------- submit


def import_job_submit(
    *,
    project: Project,
    kind: str,
    origin: str,
    stored: storage.StoredFile | None,
    original_name: str,
    created_by: AbstractBaseUser | None = None,
    token: ApiToken | None = None,
    payload: dict[str, Any] | None = None,
    sha256: str | None = None,
    enqueue: bool = True,
) -> JobSubmission:
    """Create the job for stored content, or return the existing job for the same content."""
    digest = stored.sha256 if stored else (sha256 or "")
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                organisation=project.organisation,
                project=project,
                kind=kind,
                origin=origin,
                stored_path=stored.relative_path if stored else "",
                original_name=original_name[:255],
                size_bytes=stored.size_bytes if stored else 0,
                sha256=digest,
                payload=payload,
                created_by=created_by if created_by is not None and created_by.is_authenticated else None,
                token=token,
            )
            audit_log_write(
                organisation=project.organisation,
                actor=job.created_by,
                actor_label=f"token {token.prefix}" if token else "",
                action="import.create",
                object_type="import_job",
                object_id=str(job.pk),
                after={
                    "project": str(project),
                    "kind": kind,
                    "origin": origin,
                    "file": job.original_name,
                    "sha256": digest,
                },
            )
            if enqueue:
                _enqueue_on_commit(str(job.pk))
    except IntegrityError:
        # Same bytes already imported (or being imported right now by a concurrent upload).
        existing = ImportJob.objects.get(organisation=project.organisation, project=project, sha256=digest)
        if existing.status == JobStatus.FAILED and _job_retry(existing, stored, enqueue=enqueue):
            existing.refresh_from_db()
            return JobSubmission(job=existing, created=True)
        if stored:
            storage.discard(stored.relative_path)
        return JobSubmission(job=existing, created=False)
    return JobSubmission(job=job, created=True)


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
            _enqueue_on_commit(str(job.pk))
    if stored and old_path and old_path != stored.relative_path:
        storage.discard(old_path)
    return True


def _enqueue_on_commit(job_id: str) -> None:
    from ingestion.tasks import import_job_process_task

    transaction.on_commit(lambda: import_job_process_task.delay(job_id))


# ---------------------------------------------------------------------------------------------- claim


@dataclass(frozen=True)
class ClaimResult:
    claimed: bool
    retry_in: float = 0.0  # > 0: another delivery holds a live lease; try again after it


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


def _heartbeat(job_id: str, *, rows: int, stage: str) -> None:
    lease = timezone.now() + dt.timedelta(seconds=settings.IMPORT_LEASE_SECONDS)
    ImportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        lease_until=lease, rows_processed=rows, stage=stage
    )


def _job_fail(job_id: str, message: str, **counts: int) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        status=JobStatus.FAILED,
        error_message=message,
        finished_at=timezone.now(),
        lease_until=None,
        stage="failed",
        **counts,
    )


# ---------------------------------------------------------------------------------------------- process


def import_job_process(*, job_id: str) -> ClaimResult:
    """Claim and run one job. Safe to call twice: the second call finds nothing to claim."""
    claim = import_job_claim(job_id=job_id)
    if not claim.claimed:
        return claim
    job = ImportJob.objects.select_related("project", "organisation").get(pk=job_id)
    if job.attempts > settings.IMPORT_MAX_ATTEMPTS:
        _job_fail(job_id, f"gave up after {job.attempts - 1} attempts: the worker died each time on this file")
        return claim
    if job.kind == JobKind.BILLING:
        # Imported here: billing_services builds on this module (claim, lease and attempts stay shared).
        from ingestion.billing_services import billing_job_run

        billing_job_run(job)
        return claim
    try:
        parsed = _parse(job)
        _decide(parsed)
    except (CodecarbonFormatError, ImportRefused) as exc:
        rows = getattr(exc, "rows_read", 0)
        _job_fail(job_id, str(exc), rows_read=rows)
        _log_outcome(job, "import.failed", {"error": str(exc)})
        return claim
    _publish(job, parsed)
    return claim


def _parse(job: ImportJob) -> ParsedImport:
    if job.kind == JobKind.CODECARBON_LIVE:
        frame = parse_live_record(job.payload or {})
        return ParsedImport(frames=[frame], rows_read=1, detected_format="codecarbon-live")
    if job.kind != JobKind.CODECARBON:
        raise ImportRefused(f"{job.original_name}: imports of kind {job.kind!r} are not supported yet")
    parsed = ParsedImport()
    path = storage.open_stored(job.stored_path)
    with open(path, "rb") as stream:
        for chunk in read_codecarbon_csv(stream, filename=job.original_name):
            parsed.rows_read += chunk.rows_read
            parsed.problems.extend(chunk.problems)
            if not chunk.records.empty:
                # Reduce per chunk so memory holds one row per run, not one per flush.
                parsed.frames.append(last_row_per_run([chunk.records]))
                parsed.detected_format = str(chunk.records["schema"].iloc[0])
            _heartbeat(str(job.pk), rows=parsed.rows_read, stage="reading")
            _test_barrier(parsed.rows_read)
    return parsed


def _decide(parsed: ParsedImport) -> None:
    rejected = len(parsed.problems)
    accepted = parsed.rows_read - len({p.line for p in parsed.problems})
    if accepted <= 0:
        error = ImportRefused(
            f"no valid rows: all {parsed.rows_read} rows were rejected (first: line {parsed.problems[0].line}, "
            f"{parsed.problems[0].column or 'row'}: {parsed.problems[0].message})"
            if parsed.problems
            else "the file contains no data rows"
        )
        error.rows_read = parsed.rows_read  # type: ignore[attr-defined]
        raise error
    if rejected and rejected / max(parsed.rows_read, 1) > MAX_REJECTED_SHARE:
        error = ImportRefused(
            f"{rejected} of {parsed.rows_read} rows are invalid (more than {MAX_REJECTED_SHARE:.0%}); "
            "the whole file was refused. Download the error report for the details."
        )
        error.rows_read = parsed.rows_read  # type: ignore[attr-defined]
        raise error


def _publish(job: ImportJob, parsed: ParsedImport) -> None:
    project = job.project
    assert project is not None  # codecarbon jobs always belong to a project
    records = last_row_per_run(parsed.frames)
    ctx = ProjectContext(
        organisation_id=job.organisation_id,
        project_id=project.pk,
        host_timezone=project.host_timezone,
        infrastructure=project.infrastructure,
        site_pue=project.site_pue,
    )
    _heartbeat(str(job.pk), rows=parsed.rows_read, stage="estimating")
    frame = ledger_frame_from_records(records, ctx=ctx, job_id=str(job.pk), lookup=factor_lookup(job.organisation_id))
    _heartbeat(str(job.pk), rows=parsed.rows_read, stage="writing")
    with transaction.atomic():
        to_write, counts, old_days = ledger.classify_rows(job.organisation_id, frame)
        ledger.ledger_write(to_write)
        ledger.task_rows_exclude_counted_runs(organisation_id=job.organisation_id, project_ids=[project.pk])
        days = set(to_write["day"]) | old_days
        if _double_counting_apply(job.organisation_id, project.pk, days):
            days |= {_month_start(min(days)), _month_end(max(days))}
        if days:
            ledger.rollup_refresh(
                organisation_id=job.organisation_id,
                project_ids=[project.pk],
                first_day=min(days),
                last_day=max(days),
            )
            ledger.dashboard_generation_bump(job.organisation_id)
        RowError.objects.bulk_create(
            RowError(
                job=job,
                row=p.line,
                column=p.column[:100],
                code=p.code[:40],
                message=p.message[:500],
                raw_value=p.raw_value[:200],
            )
            for p in parsed.problems[:MAX_STORED_ROW_ERRORS]
        )
        totals = {
            "energy_facility_kwh": float(frame["energy_facility_kwh"].sum()),
            "kgco2e_location": float(frame["kgco2e_location"].fillna(0.0).sum()),
        }
        ImportJob.objects.filter(pk=job.pk).update(
            status=JobStatus.DONE,
            stage="done",
            finished_at=timezone.now(),
            lease_until=None,
            rows_read=parsed.rows_read,
            rows_processed=parsed.rows_read,
            rows_rejected=len(parsed.problems),
            records_new=counts.new,
            records_updated=counts.updated,
            records_unchanged=counts.unchanged,
            detected_format=parsed.detected_format,
            totals=totals,
            error_message="",
        )
        # Budget thresholds and model tags are checked once the import is visible to everyone.
        _after_import_on_commit(project.pk)
        _log_outcome(
            job,
            "import.done",
            {
                "new": counts.new,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "rejected": len(parsed.problems),
            },
        )


def _double_counting_apply(organisation_id: int, project_id: int, days: set[dt.date]) -> bool:
    """Where billing covers the same project, provider and month, only the project's chosen source stays
    in the inventory; a codecarbon re-import must not flip its rows back. True when rows changed."""
    from ingestion.billing_services import billing_inventory_apply  # builds on this module

    if not days:
        return False
    months = {_month_start(day) for day in days}
    return bool(billing_inventory_apply(organisation_id=organisation_id, project_ids=[project_id], months=months))


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _after_import_on_commit(project_id: int) -> None:
    from greenesg.steering.tasks import budget_check_task

    transaction.on_commit(lambda: budget_check_task.delay(project_id))


def _log_outcome(job: ImportJob, action: str, after: dict[str, Any]) -> None:
    audit_log_write(
        organisation=job.organisation,
        actor=None,
        actor_label="worker",
        action=action,
        object_type="import_job",
        object_id=str(job.pk),
        after=after,
    )


def _test_barrier(rows_read: int) -> None:
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
