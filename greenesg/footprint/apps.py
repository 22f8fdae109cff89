from __future__ import annotations

from django.apps import AppConfig


class FootprintConfig(AppConfig):
    name = "greenesg.footprint"
    label = "footprint"
    verbose_name = "Footprint ledger and factors"
    default_auto_field = "django.db.models.BigAutoField"
