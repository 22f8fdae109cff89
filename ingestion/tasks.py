"""Thin Celery tasks: ids in, a service call, nothing returned."""

from __future__ import annotations

from celery import Task, shared_task

from ingestion.errors import RETRYABLE_ERRORS


@shared_task(
    bind=True,
    # acks_late + reject_on_worker_lost: a killed worker's message goes back to the queue; the job's
    # claim and attempt cap (not Celery) make sure the import still happens exactly once.
    acks_late=True,
    reject_on_worker_lost=True,
    # Only transient errors: the job has handed its claim back by then. Data errors never reach here;
    # ingestion.process fails the job with the reason instead.
    autoretry_for=RETRYABLE_ERRORS,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def import_job_process_task(self: Task, job_id: str) -> None:
    from ingestion.process import import_job_process

    result = import_job_process(job_id=job_id)
    if result.retry_in > 0:
        # Another delivery holds a live lease (or a killed worker's lease has not expired yet).
        raise self.retry(countdown=result.retry_in, max_retries=50)


@shared_task(ignore_result=True)
def import_job_reconcile() -> None:
    from ingestion.jobs import import_job_reconcile as reconcile

    reconcile()


@shared_task(ignore_result=True)
def upload_retention_sweep() -> None:
    from ingestion.retention import upload_retention_sweep as sweep

    sweep()
