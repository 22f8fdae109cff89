from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py demo`: loads demo data through the real import pipeline (kept out of the core)."""

    name = "demo"
    label = "demo"
    verbose_name = "Demo data"
