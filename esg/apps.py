from __future__ import annotations

from django.apps import AppConfig


class EsgConfig(AppConfig):
    name = "esg"
    label = "esg"
    verbose_name = "E, S and G metrics and governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The core's navigation shows the inbox count without importing this app (features depend on the core).
        # The sources are every model the count reads: their writes invalidate the cached counts.
        from esg.inbox import inbox_count
        from esg.models import FactorSetChangeRequest, MetricValue
        from greenesg.accounts.nav_badges import nav_badge_register
        from reports.models import Report

        nav_badge_register("esg-inbox", inbox_count, sources=(MetricValue, FactorSetChangeRequest, Report))
