from __future__ import annotations

from django.apps import AppConfig


class SteeringConfig(AppConfig):
    name = "greenesg.steering"
    label = "steering"
    verbose_name = "Budgets, CI gate, region advice and SCI"
    default_auto_field = "django.db.models.BigAutoField"
