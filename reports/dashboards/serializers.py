"""Serializers of the reports API: query validation and documented response shapes (explicit fields only)."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from greenesg.footprint.models import LedgerEntry
from reports.dashboards.filters import FIRST_DAY, LAST_DAY

FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The days the API accepts, for the schema: 1970-01-01 to 2999-12-31 (reports.dashboards.filters.FIRST_DAY/LAST_DAY).
DAY_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}$"


class PeriodQuerySerializer(serializers.Serializer):
    start = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"], help_text="First UTC day, YYYY-MM-DD (inclusive)."
    )
    end = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"], help_text="Last UTC day, YYYY-MM-DD (inclusive)."
    )

    def to_internal_value(self, data: Any) -> Any:
        # Only the two bounds: a client leaves a parameter out for "no bound"; `start=` is no date (400),
        # as the schema's `format: date` says. (The HTML form's blank fields go through reports.dashboards.filters.)
        cleaned = {key: data.get(key) for key in ("start", "end") if data.get(key) is not None}
        # strptime would also take "2026-1-1"; the schema's full-date does not.
        wrong = {key: ["A date written YYYY-MM-DD."] for key, value in cleaned.items() if not FULL_DATE.match(value)}
        if wrong:
            raise serializers.ValidationError(wrong)
        return super().to_internal_value(cleaned)

    def _in_range(self, value: Any) -> Any:
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise serializers.ValidationError(f"A day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}.")
        return value

    def validate_start(self, value: Any) -> Any:
        return self._in_range(value)

    def validate_end(self, value: Any) -> Any:
        return self._in_range(value)

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


class _MethodFloats(serializers.Serializer):
    modelled = serializers.FloatField(allow_null=True)
    extrapolated = serializers.FloatField(allow_null=True)
    unestimated = serializers.FloatField(allow_null=True)
    excluded = serializers.FloatField(allow_null=True, help_text="unsupported lines: fees, licences")


class _MethodCounts(serializers.Serializer):
    modelled = serializers.IntegerField()
    extrapolated = serializers.IntegerField()
    unestimated = serializers.IntegerField()
    excluded = serializers.IntegerField()


class BillingCoverageSerializer(serializers.Serializer):
    scope = serializers.CharField(help_text='"organisation": bills are covered before they are attributed to projects')
    billed_cost = serializers.FloatField(help_text="Billed cost of the usage lines of active deliveries in the period")
    billed_lines = serializers.IntegerField()
    cost = _MethodFloats()
    lines = _MethodCounts()
    cost_share_percent = _MethodFloats()
    lines_share_percent = _MethodFloats()
    estimated_cost_share_percent = serializers.FloatField(
        allow_null=True, help_text="Modelled + extrapolated share of the billed cost; null when nothing was billed"
    )


class FootprintSummarySerializer(FootprintTotalsSerializer):
    organisation = serializers.CharField(help_text="Organisation slug")
    project = serializers.CharField(allow_null=True, help_text="Project slug, null for the whole organisation")
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    by_scope = serializers.DictField(
        child=FootprintTotalsSerializer(),
        help_text='The same figures per scope/category, keyed "scope1", "scope2", "scope3.cat1.1", …',
    )
    coverage = BillingCoverageSerializer(help_text="How much of the period's billed cloud cost could be estimated")


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
