"""Upload retention: stored files of finished imports are deleted after UPLOAD_RETENTION_DAYS.

Why: every upload used to stay forever (issue 15 item 3), a year of hourly CURs is many gigabytes, and an
uploaded file may hold more than the figures need (tags, resource names). What an audit needs stays: the job row
(status, counts, totals, who and when), the file's sha256 (proof of which bytes were imported), its row errors and
the ledger rows it wrote. Jobs still pending or running are never touched: their file is their input.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from greenesg.accounts.services import audit_log_write
from ingestion import storage
from ingestion.models import ImportJob, JobStatus

logger = logging.getLogger(__name__)

FINISHED = (JobStatus.DONE, JobStatus.FAILED)


def upload_retention_sweep(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Delete the stored files of finished jobs older than the retention period; returns how many.

    1. nothing to do when UPLOAD_RETENTION_DAYS is 0 (keep forever);
    2. per job: claim it with a conditional update (stored_path cleared, file_deleted_at set), so two sweeps
       never delete twice, then delete the file (a file already gone is not an error);
    3. one audit entry per job, and a log line, name the file, its sha256 and the policy.
    """
    days = settings.UPLOAD_RETENTION_DAYS
    if not days:
        return 0
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=days)
    candidates = ImportJob.objects.filter(
        status__in=FINISHED, finished_at__lt=cutoff, file_deleted_at__isnull=True
    ).exclude(stored_path="")
    deleted = 0
    for job in candidates.select_related("organisation").order_by("finished_at")[:batch]:
        if _job_file_delete(job, now=now, days=days):
            deleted += 1
    return deleted


def _job_file_delete(job: ImportJob, *, now: dt.datetime, days: int) -> bool:
    with transaction.atomic():
        claimed = ImportJob.objects.filter(pk=job.pk, stored_path=job.stored_path, file_deleted_at__isnull=True).update(
            stored_path="", file_deleted_at=now
        )
        if claimed != 1:
            return False
        audit_log_write(
            organisation=job.organisation,
            actor=None,
            actor_label="retention",
            action="import.file_deleted",
            object_type="import_job",
            object_id=str(job.pk),
            before={"stored_path": job.stored_path},
            after={"original_name": job.original_name, "sha256": job.sha256, "retention_days": days},
        )
        # After the commit: a rolled-back claim must not leave a job pointing at a deleted file.
        transaction.on_commit(lambda: storage.discard(job.stored_path))
    logger.info(
        "upload deleted under the retention policy",
        extra={"job_id": str(job.pk), "sha256": job.sha256, "retention_days": days},
    )
    return True


def retention_notice(job: ImportJob) -> str:
    """What a download of a deleted upload answers (410 Gone), instead of a bare 404."""
    deleted = job.file_deleted_at.date().isoformat() if job.file_deleted_at else "an earlier date"
    return (
        f"The original file of this import ({job.original_name}) was deleted on {deleted} under the upload "
        f"retention policy (GREENESG_UPLOAD_RETENTION_DAYS). The import's results, its row errors and the file's "
        f"SHA-256 ({job.sha256}) are kept.\n"
    )
