from __future__ import annotations

from django.contrib import admin

from greenesg.accounts.models import ApiToken, AuditLog, Membership, Organisation, Project


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "created_at")
    search_fields = ("slug", "name")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("organisation", "slug", "name", "team", "infrastructure", "host_timezone")
    list_filter = ("organisation", "infrastructure")
    search_fields = ("slug", "name", "team")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role")
    list_filter = ("organisation", "role")
    filter_horizontal = ("projects",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("project", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("at", "organisation", "actor_label", "action", "object_type", "object_id")
    list_filter = ("organisation", "action")

    def has_change_permission(self, request, obj=None) -> bool:  # append-only
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
