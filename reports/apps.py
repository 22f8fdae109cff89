from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.apps import AppConfig

if TYPE_CHECKING:
    from ingestion.hooks import ImportPublished

log = logging.getLogger(__name__)


WARM_QUEUED_SECONDS = 600  # as long as the task's `expires`: a lost message is not waited for longer


def overview_warm_after_import_hook(event: ImportPublished) -> None:
    """After-import hook (ingestion.hooks): queue a re-render of the default overview so its first viewers hit
    the cache.

    It only enqueues (the `reports` queue): rendering took seconds to tens of seconds on large organisations and
    counted in the import's time to DONE when it ran here. Viewers who arrive before the task finishes wait for
    its render (single flight, reports/dashboards/cache.py) instead of computing their own. A billing import
    publishes one event per project it touched, all under one generation: the first queues the warm-up, the
    others find it queued. Best effort: the import has committed already, and a page that is not warm is still
    computed on demand.
    """
    from django.core.cache import cache

    from greenesg.footprint.ledger import dashboard_generation
    from reports.dashboards.tasks import overview_body_warm as overview_body_warm_task

    try:
        generation = dashboard_generation(event.organisation_id)
        if cache.add(f"overview-warm-queued:{event.organisation_id}:{generation}", 1, WARM_QUEUED_SECONDS):
            overview_body_warm_task.delay(event.organisation_id)
    except Exception:
        log.exception("overview warm-up after import failed (organisation %s)", event.organisation_id)


def project_changed_receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A project saved or deleted: the dashboards' cached project list and bodies name it, so start afresh."""
    from greenesg.footprint.ledger import dashboard_generation_bump

    dashboard_generation_bump(instance.organisation_id)


class ReportsConfig(AppConfig):
    name = "reports"
    label = "reports"
    verbose_name = "Reports and dashboards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        import reports.dashboards.tasks  # noqa: F401  (registers the dashboards' tasks with Celery)
        from greenesg.accounts.models import Project
        from ingestion.hooks import after_import_register

        after_import_register(overview_warm_after_import_hook)
        post_save.connect(project_changed_receiver, sender=Project, dispatch_uid="reports-project-saved")
        post_delete.connect(project_changed_receiver, sender=Project, dispatch_uid="reports-project-deleted")
