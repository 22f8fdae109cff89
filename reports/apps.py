from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.apps import AppConfig

if TYPE_CHECKING:
    from ingestion.hooks import ImportPublished

log = logging.getLogger(__name__)


def overview_warm_after_import_hook(event: ImportPublished) -> None:
    """After-import hook (ingestion.hooks): re-render the default overview so its first viewers hit the cache.

    Best effort: the import has committed already, and a page that is not warm is still computed on demand.
    """
    from reports.dashboards.views import overview_body_warm

    try:
        overview_body_warm(organisation_id=event.organisation_id)
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

        from greenesg.accounts.models import Project
        from ingestion.hooks import after_import_register

        after_import_register(overview_warm_after_import_hook)
        post_save.connect(project_changed_receiver, sender=Project, dispatch_uid="reports-project-saved")
        post_delete.connect(project_changed_receiver, sender=Project, dispatch_uid="reports-project-deleted")
