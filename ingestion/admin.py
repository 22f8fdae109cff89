from __future__ import annotations

from django.contrib import admin

from ingestion.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "organisation", "project", "kind", "origin", "original_name", "status", "attempts")
    list_filter = ("status", "kind", "origin")
    readonly_fields = [f.name for f in ImportJob._meta.fields]
