"""Run one claimed import job: the shared lifecycle claims it, the pipeline of its kind does the work."""

from __future__ import annotations

from django.conf import settings

from ingestion.billing.pipeline import billing_job_run
from ingestion.codecarbon.pipeline import codecarbon_job_run
from ingestion.jobs import ClaimResult, import_job_claim, job_fail
from ingestion.models import ImportJob, JobKind


def import_job_process(*, job_id: str) -> ClaimResult:
    """Claim and run one job. Safe to call twice: the second call finds nothing to claim."""
    claim = import_job_claim(job_id=job_id)
    if not claim.claimed:
        return claim
    job = ImportJob.objects.select_related("project", "organisation").get(pk=job_id)
    if job.attempts > settings.IMPORT_MAX_ATTEMPTS:
        job_fail(job_id, f"gave up after {job.attempts - 1} attempts: the worker died each time on this file")
        return claim
    if job.kind == JobKind.BILLING:
        billing_job_run(job)
    else:
        codecarbon_job_run(job)
    return claim
