"""Celery tasks of the reports app, routed to the `reports` queue (CELERY_TASK_ROUTES: reports.tasks.*).

Thin by design (style.md §4): ids in, the service does the work and records FAILED itself.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="reports.tasks.report_generate", soft_time_limit=240, time_limit=300, ignore_result=True)
def report_generate(report_id: int) -> None:
    from reports.report_services import report_generate as generate

    generate(report_id=int(report_id))


@shared_task(name="reports.tasks.report_quarter_close_drafts", expires=3600, ignore_result=True)
def report_quarter_close_drafts() -> None:
    from reports.report_services import quarter_close_drafts

    quarter_close_drafts()
