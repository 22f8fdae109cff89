"""Celery application. Its configuration lives in settings.py under the CELERY_ prefix."""

from __future__ import annotations

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenesg.settings")

app = Celery("greenesg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
def _task_context_bind(**kwargs: object) -> None:
    from greenesg.observability import task_context_bind

    task_context_bind(**kwargs)  # type: ignore[arg-type]


@signals.task_postrun.connect
def _task_context_clear(**kwargs: object) -> None:
    from greenesg.observability import task_context_clear

    task_context_clear()
