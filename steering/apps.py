from __future__ import annotations

from django.apps import AppConfig


class SteeringConfig(AppConfig):
    name = "steering"
    label = "steering"
    verbose_name = "Budgets, CI gate, region advice and SCI"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Ingestion knows no feature app: the budget check after each import is a hook registered here.
        from ingestion.hooks import after_import_register
        from steering.tasks import budget_check_after_import_hook, recommendations_after_import_hook

        after_import_register(recommendations_after_import_hook)  # first, so a budget alert sees fresh advice
        after_import_register(budget_check_after_import_hook)
