"""Serializers of the reports API: query validation and documented response shapes (explicit fields only)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from greenesg.footprint.models import LedgerEntry


class PeriodQuerySerializer(serializers.Serializer):
    start = serializers.DateField(
        required=False, allow_null=True, input_formats=["%Y-%m-%d"], help_text="First UTC day, YYYY-MM-DD (inclusive)."
    )
    end = serializers.DateField(
        required=False, allow_null=True, input_formats=["%Y-%m-%d"], help_text="Last UTC day, YYYY-MM-DD (inclusive)."
    )

    def to_internal_value(self, data: Any) -> Any:
        # A blank value means "no bound", as in the dashboard filter form.
        cleaned = {key: data.get(key) for key in ("start", "end") if data.get(key) not in (None, "")}
        return super().to_internal_value(cleaned)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start > end:
            raise serializers.ValidationError({"start": "start is after end."})
        return attrs


class FootprintTotalsSerializer(serializers.Serializer):
    runs = serializers.IntegerField(help_text="codecarbon run records counted in the inventory")
    energy_kwh_it = serializers.FloatField(help_text="IT energy, kWh")
    energy_kwh_facility = serializers.FloatField(help_text="Facility energy (IT × PUE), kWh")
    kgco2e_location = serializers.FloatField(help_text="Location-based emissions, kgCO2e")
    kgco2e_market = serializers.FloatField(help_text="Market-based emissions, kgCO2e")
    water_l = serializers.FloatField(help_text="Water, litres")


class FootprintSummarySerializer(FootprintTotalsSerializer):
    organisation = serializers.CharField(help_text="Organisation slug")
    project = serializers.CharField(allow_null=True, help_text="Project slug, null for the whole organisation")
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    by_scope = serializers.DictField(
        child=FootprintTotalsSerializer(),
        help_text='The same figures per scope/category, keyed "scope1", "scope2", "scope3.cat1.1", …',
    )


class RunSerializer(serializers.ModelSerializer):
    import_job = serializers.UUIDField(source="import_job_id", allow_null=True, read_only=True)
    flags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "run_id",
            "experiment",
            "period_start",
            "period_end",
            "duration_s",
            "energy_it_kwh",
            "energy_facility_kwh",
            "kgco2e_location",
            "kgco2e_market",
            "water_l",
            "scope",
            "category",
            "method",
            "in_inventory",
            "country_iso",
            "region",
            "factor_version",
            "factor_g_per_kwh",
            "flags",
            "import_job",
            "source_row",
        ]
        read_only_fields = fields
