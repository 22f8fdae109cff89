"""Celery application. Its configuration lives in settings.py under the CELERY_ prefix."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenesg.settings")

app = Celery("greenesg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
