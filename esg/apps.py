from __future__ import annotations

from django.apps import AppConfig


class EsgConfig(AppConfig):
    name = "esg"
    label = "esg"
    verbose_name = "E, S and G metrics and governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The core's navigation shows the inbox count without importing this app (features depend on the core).
        from esg.inbox import inbox_count
        from greenesg.accounts.context_processors import nav_badge_register

        nav_badge_register("esg-inbox", inbox_count)
