from __future__ import annotations

from django.apps import AppConfig


class EsgConfig(AppConfig):
    name = "esg"
    label = "esg"
    verbose_name = "E, S and G metrics and governance"
    default_auto_field = "django.db.models.BigAutoField"
