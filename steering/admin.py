"""Read-only admin views: changes go through the services so they are audited."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from steering.models import Budget, BudgetNotification, OrgTarget, RegionMove, RunModel, UnitCount


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Budget)
class BudgetAdmin(ReadOnlyAdmin):
    list_display = ("project", "period", "kg", "basis", "run_limit_kg", "origin", "updated_at")
    list_filter = ("basis", "origin")


@admin.register(BudgetNotification)
class BudgetNotificationAdmin(ReadOnlyAdmin):
    list_display = ("budget", "threshold", "status", "webhook_status", "sent_at")


@admin.register(OrgTarget)
class OrgTargetAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "base_year", "base_year_kg", "target_year", "reduction_pct", "split")


@admin.register(UnitCount)
class UnitCountAdmin(ReadOnlyAdmin):
    list_display = ("project", "period", "count", "updated_at")


@admin.register(RegionMove)
class RegionMoveAdmin(ReadOnlyAdmin):
    list_display = ("project", "provider", "from_region", "to_region", "period", "avoided_kg", "created_at")


@admin.register(RunModel)
class RunModelAdmin(ReadOnlyAdmin):
    list_display = ("project", "run_id", "model", "metric_name", "metric_value", "source")
