"""Celery tasks of the dashboards, on the `reports` queue.

Thin by design (DEVELOPERS.md): ids in, the service does the work. Not in reports/tasks.py: that module is also
the ESRS report's task entry (reports.esrs.services imports it), and dashboards and ESRS stay independent
(.importlinter). Registered by ReportsConfig.ready, since Celery discovers only `<installed app>.tasks`.
"""

from __future__ import annotations

from celery import shared_task

from ingestion.errors import RETRYABLE_ERRORS


@shared_task(
    name="reports.dashboards.tasks.overview_body_warm",
    # The reports queue by itself (CELERY_TASK_ROUTES routes `reports.tasks.*` by name): the warm-up renders
    # figures, the reports workers' kind of work, and must not wait behind imports on the ingest queue.
    queue="reports",
    # A page that is not warm is still computed on demand, so a late warm-up only costs the first viewers a
    # wait; expiring keeps a backlog of warm-ups for long-superseded generations from piling up.
    expires=600,
    autoretry_for=RETRYABLE_ERRORS,
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=240,
    time_limit=300,
    ignore_result=True,
)
def overview_body_warm(organisation_id: int) -> None:
    from reports.dashboards.views import overview_body_warm as warm

    warm(organisation_id=int(organisation_id))
