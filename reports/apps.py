from __future__ import annotations

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    label = "reports"
    verbose_name = "Reports and dashboards"
    default_auto_field = "django.db.models.BigAutoField"
