"""Thin Celery tasks: ids in, a service call, nothing returned."""

from __future__ import annotations

from typing import TYPE_CHECKING

from celery import shared_task
from django.db import OperationalError

if TYPE_CHECKING:
    from ingestion.hooks import ImportPublished


@shared_task(
    # The registered name predates the move of the app out of greenesg/: messages already queued keep routing.
    name="greenesg.steering.tasks.budget_check_task",
    ignore_result=True,
    # Only a locked or unreachable database is worth another try. The notification rows' unique constraint
    # makes a retry (or a duplicate delivery) send nothing twice.
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def budget_check_task(project_id: int) -> None:
    from steering.services import budget_check_after_import

    budget_check_after_import(project_id=project_id)


def budget_check_after_import_hook(event: ImportPublished) -> None:
    """After-import hook (ingestion.hooks): runs once the import has committed."""
    if event.project_id is not None:  # a billing import's unallocated lines belong to no project's budget
        budget_check_task.delay(event.project_id)


@shared_task(
    ignore_result=True, autoretry_for=(OperationalError,), retry_backoff=True, retry_jitter=True, max_retries=5
)
def recommendations_refresh_task(project_id: int) -> None:
    from greenesg.accounts.models import Project
    from steering.recommendations import recommendations_refresh

    project = Project.objects.filter(pk=project_id).first()
    if project is not None:  # deleted since: nothing to advise
        recommendations_refresh(project=project)


def recommendations_after_import_hook(event: ImportPublished) -> None:
    """After-import hook: the advisor looks again at the project the import touched."""
    if event.project_id is not None:
        recommendations_refresh_task.delay(event.project_id)
