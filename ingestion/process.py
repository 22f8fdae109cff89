"""Run one claimed import job: the shared lifecycle claims it, the pipeline of its kind does the work."""

from __future__ import annotations

import logging

from django.conf import settings

from ingestion.billing.pipeline import billing_job_run
from ingestion.codecarbon.pipeline import codecarbon_job_run
from ingestion.jobs import ClaimResult, import_job_claim, job_crash, job_error_is_retryable, job_give_up, job_release
from ingestion.models import ImportJob, JobKind

logger = logging.getLogger(__name__)


def import_job_process(*, job_id: str) -> ClaimResult:
    """Claim and run one job. Safe to call twice: the second call finds nothing to claim.

    Errors are classified here, once for every pipeline: a transient one (lost connection, lock timeout,
    serialization failure) hands the claim back and propagates, so the task retries with backoff and the next
    attempt claims at once; any other error fails the job now with its reason. Left to propagate, a data
    error would keep the job RUNNING until its lease expired, then be retried until the attempt cap and
    reported as a dead worker.
    """
    claim = import_job_claim(job_id=job_id)
    if not claim.claimed:
        return claim
    job = ImportJob.objects.select_related("project", "organisation").get(pk=job_id)
    if job.attempts > settings.IMPORT_MAX_ATTEMPTS:
        job_give_up(job)
        return claim
    try:
        if job.kind == JobKind.BILLING:
            billing_job_run(job)
        else:
            codecarbon_job_run(job)
    except Exception as exc:
        if job_error_is_retryable(exc):
            job_release(job_id, exc)
            raise
        logger.exception("import %s failed", job_id)
        job_crash(job, exc)
    return claim
