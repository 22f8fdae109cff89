from __future__ import annotations

from django.contrib import admin

from greenesg.footprint.models import EmissionFactor, EmissionFactorSet


class EmissionFactorInline(admin.TabularInline):
    model = EmissionFactor
    extra = 0
    readonly_fields = ("zone", "label", "vintage_year", "g_co2e_per_kwh", "gas_basis", "source", "is_fallback_mean")
    can_delete = False


@admin.register(EmissionFactorSet)
class EmissionFactorSetAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "kind", "status", "loaded_at")
    list_filter = ("kind", "status")
    inlines = [EmissionFactorInline]
