"""Celery tasks of the reports app, routed to the `reports` queue (CELERY_TASK_ROUTES: reports.tasks.*).

Thin by design (DEVELOPERS.md): ids in, the service does the work and records FAILED itself.
"""

from __future__ import annotations

from celery import shared_task

from ingestion.errors import RETRYABLE_ERRORS


@shared_task(
    name="reports.tasks.report_generate",
    # Transient errors only (a database restart while rendering): the service has handed its claim back, so
    # the retry claims the report again; a duplicate delivery finds it claimed and does nothing.
    autoretry_for=RETRYABLE_ERRORS,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=240,
    time_limit=300,
    ignore_result=True,
)
def report_generate(report_id: int) -> None:
    from reports.esrs.services import report_generate as generate

    generate(report_id=int(report_id))


@shared_task(name="reports.tasks.report_quarter_close_drafts", expires=3600, ignore_result=True)
def report_quarter_close_drafts() -> None:
    from reports.esrs.services import quarter_close_drafts

    quarter_close_drafts()


@shared_task(
    name="reports.tasks.other_activities_import_process",
    # Safe to deliver twice: the job's conditional claim lets one delivery work, the others return.
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RETRYABLE_ERRORS,  # transient errors only (docs/operations.md §4.2)
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=1800,
    time_limit=1900,
    ignore_result=True,
)
def other_activities_import_process(job_id: int) -> None:
    from reports.esrs.services import other_activities_import_process as process

    process(job_id=int(job_id))


@shared_task(name="reports.tasks.other_activities_import_reconcile", expires=90, ignore_result=True)
def other_activities_import_reconcile() -> None:
    from reports.esrs.services import other_activities_import_reconcile as reconcile

    reconcile()


@shared_task(name="reports.tasks.report_queue_reconcile", expires=90, ignore_result=True)
def report_queue_reconcile() -> None:
    from reports.esrs.services import report_queue_reconcile as reconcile

    reconcile()
