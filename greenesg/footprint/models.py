"""The factor registry, the footprint ledger and its daily rollup.

The ledger is the single table that dashboards and reports read: one row per source record, with
energy, location- and market-based emissions, scope, method flag, the factor used and lineage to the
import job and source row. Full precision is stored; rounding happens only when presenting.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from greenesg.accounts.models import Organisation, Project

# Defined without Django so the pure methodology can name them; re-exported here beside the fields they type.
from greenesg.footprint.vocabulary import RUN_MEASUREMENTS, Method, Source

__all__ = [
    "EmissionFactor",
    "EmissionFactorSet",
    "FactorKind",
    "FactorSetStatus",
    "LedgerDaily",
    "LedgerEntry",
    "LedgerMonthly",
    "LedgerReportMonthly",
    "MachineProfile",
    "Method",
    "RUN_MEASUREMENTS",
    "Source",
]


class FactorKind(models.TextChoices):
    GRID_COUNTRY = "grid_country", "Grid average by country"
    GRID_SUBNATIONAL = "grid_subnational", "Grid average by state, province or bidding zone"
    CLOUD_REGION = "cloud_region", "Grid average by cloud region"
    RESIDUAL_MIX = "residual_mix", "Residual mix (market-based)"


class FactorSetStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded"
    PENDING = "pending", "Pending approval"


class EmissionFactorSet(models.Model):
    """One version of one dataset. A new vintage or correction is a new version, never an overwrite.

    A set without an organisation is global: every organisation's lookups see it, and only a platform
    administrator changes it (`manage.py factor_set_global`). A set owned by an organisation overrides the global
    factors for the same zone and year in that organisation's lookups only, after four-eyes approval.
    """

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=FactorKind.choices)
    source = models.CharField(max_length=300)
    source_url = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=FactorSetStatus.choices, default=FactorSetStatus.ACTIVE)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"], condition=models.Q(organisation=None), name="factorset_unique_version"
            ),
            models.UniqueConstraint(
                fields=["organisation", "name", "version"],
                condition=models.Q(organisation__isnull=False),
                name="factorset_unique_org_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}"


class EmissionFactor(models.Model):
    """A grid intensity for one zone and data year, in g CO2e per kWh."""

    factor_set = models.ForeignKey(EmissionFactorSet, on_delete=models.PROTECT, related_name="factors")
    # Zone keys: "FRA" (ISO3), "USA/california", "SWE/se3", "aws/us-east-1", "gcp/europe-west1".
    zone = models.CharField(max_length=80)
    label = models.CharField(max_length=200, blank=True)
    vintage_year = models.PositiveSmallIntegerField()
    g_co2e_per_kwh = models.FloatField()
    gas_basis = models.CharField(max_length=40, default="CO2e")
    method = models.CharField(max_length=12, default="location")
    source = models.CharField(max_length=300, blank=True)
    is_fallback_mean = models.BooleanField(
        default=False, help_text="A provider 'Unknown' mean: applied only with the region_unmapped flag."
    )

    class Meta:
        ordering = ["zone", "-vintage_year"]
        constraints = [
            models.UniqueConstraint(fields=["factor_set", "zone", "vintage_year"], name="factor_unique_zone_year")
        ]
        indexes = [models.Index(fields=["zone", "vintage_year"], name="factor_zone_year")]

    def __str__(self) -> str:
        return f"{self.zone} {self.vintage_year}: {self.g_co2e_per_kwh} g/kWh ({self.factor_set.label})"


class MachineProfile(models.Model):
    """What codecarbon says about the machine a run ran on (OS, CPU and GPU model and count, RAM size, versions, the
    time zone the file was read in, its PUE), stored once per distinct description and organisation.

    These were half of each codecarbon ledger row's bytes, repeated on every run of a machine; the database parsed
    them as JSON on every import (issue 15). Rows point here through `LedgerEntry.machine`; readers see them merged
    with the row's own values (`LedgerEntry.run_attributes`).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_index=False)
    # SHA-256 of the description's JSON text: the importer builds that text with its keys in one fixed order.
    digest = models.CharField(max_length=64)
    attributes = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "digest"], name="machine_profile_unique_digest")]

    def __str__(self) -> str:
        return str(self.attributes.get("cpu_model") or self.digest[:12])


def run_attributes_merged(
    own: Any, machine: Any, measured: dict[str, float | None], source_energy_kwh: float | None, source_kg: float | None
) -> dict[str, Any]:
    """One record's attributes as readers see them: its machine's description, its own JSON attributes, its typed
    measurements and codecarbon's own energy and emissions figures (with the factor they imply).

    Rows imported before the machine table existed hold everything in their own JSON: they read the same way.
    """
    merged: dict[str, Any] = {
        **(machine if isinstance(machine, dict) else {}),
        **(own if isinstance(own, dict) else {}),
    }
    merged.update((name, value) for name, value in measured.items() if value is not None)
    if source_energy_kwh is not None:
        merged["energy_consumed_kwh"] = source_energy_kwh
    if source_kg is not None:
        merged["codecarbon_kg"] = source_kg
        implied = source_kg / source_energy_kwh * 1000.0 if source_energy_kwh else None
        merged["implied_factor_g_per_kwh"] = implied
    return merged


class LedgerEntry(models.Model):
    # Single-column FK indexes are left out: the composite indexes below lead with these columns, and
    # every extra index is paid on each bulk import.
    # No database constraint either (as for factor and import job below): PostgreSQL checks a deferred foreign
    # key per row at COMMIT, ~1 s per 100,000 imported rows. Integrity holds by construction: importers take both
    # ids from the claimed job's own organisation and project rows, and deleting an organisation or project
    # cascades through Django's collector (on_delete), which does not need the constraint.
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    # Null project = the visible "Unallocated" bucket for billing lines no rule matched.
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    # Unique per organisation, e.g. "cc:run:<run_id>". A re-import upserts on it, so nothing double counts.
    natural_key = models.CharField(max_length=255)
    source = models.CharField(max_length=16, choices=Source.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    # UTC day of period_end: the rollup and period key.
    day = models.DateField()
    experiment = models.CharField(max_length=200, blank=True)
    run_id = models.CharField(max_length=100, blank=True)
    provider = models.CharField(max_length=16, blank=True)
    region = models.CharField(max_length=64, blank=True)
    country_iso = models.CharField(max_length=3, blank=True)
    service = models.CharField(max_length=200, blank=True)
    resource_category = models.CharField(max_length=20, blank=True)
    usage_amount = models.FloatField(null=True, blank=True)
    usage_unit = models.CharField(max_length=32, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    energy_it_kwh = models.FloatField(default=0.0)
    energy_facility_kwh = models.FloatField(default=0.0)
    kgco2e_location = models.FloatField(null=True, blank=True)
    kgco2e_market = models.FloatField(null=True, blank=True)
    kgco2e_embodied = models.FloatField(default=0.0)
    water_l = models.FloatField(default=0.0)
    cost = models.FloatField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    scope = models.PositiveSmallIntegerField()
    # GHG Protocol Scope 3 category ("1.1" = cloud computing and data centre services); blank for 1 and 2.
    category = models.CharField(max_length=8, blank=True)
    method = models.CharField(max_length=20, choices=Method.choices)
    pue_applied = models.FloatField(default=1.0)
    # No database-level constraint on the lineage keys (factor, import job): Django still enforces
    # PROTECT / SET_NULL, and a per-row foreign-key check would double the cost of a bulk import.
    factor = models.ForeignKey(
        EmissionFactor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    factor_g_per_kwh = models.FloatField(null=True, blank=True)
    factor_version = models.CharField(max_length=120, blank=True)
    market_factor_g_per_kwh = models.FloatField(null=True, blank=True)
    market_basis = models.CharField(max_length=40, blank=True)
    flags = models.JSONField(default=list, blank=True)
    # False for a record that another source already counts (task rows of a run, or the
    # codecarbon/billing pair of the double-counting rule): kept for coverage, never summed.
    in_inventory = models.BooleanField(default=True)
    import_job = models.ForeignKey(
        "ingestion.ImportJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    source_row = models.PositiveIntegerField(null=True, blank=True)
    # Per-record details that fit no column (billing tags and account, a run's codecarbon project name). Read
    # codecarbon records through `run_attributes`, which adds the machine and the measurements below.
    attributes = models.JSONField(default=dict, blank=True)
    # A codecarbon run's machine (integrity by construction, as for the factor: the importer creates the profile in
    # the row's own organisation; profiles are deleted only with it).
    machine = models.ForeignKey(
        MachineProfile,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    cpu_energy_kwh = models.FloatField(null=True, blank=True)
    gpu_energy_kwh = models.FloatField(null=True, blank=True)
    ram_energy_kwh = models.FloatField(null=True, blank=True)
    cpu_utilization_percent = models.FloatField(null=True, blank=True)
    gpu_utilization_percent = models.FloatField(null=True, blank=True)
    ram_utilization_percent = models.FloatField(null=True, blank=True)
    ram_used_gb = models.FloatField(null=True, blank=True)
    # codecarbon's own figures for the run, at full precision, for audit: the ledger's energy and emissions are
    # GreenESG's estimate (docs/methodology.md).
    source_energy_kwh = models.FloatField(null=True, blank=True)
    source_kgco2e = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Not fields: the records pages set these links on the rows they show (reports/dashboards/views.py).
    detail_url: str
    experiment_url: str

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "natural_key"], name="ledger_unique_natural_key")
        ]
        indexes = [
            models.Index(fields=["project", "day"], name="ledger_project_day"),
            models.Index(fields=["organisation", "day"], name="ledger_org_day"),
            # No period_end after experiment: no query reads runs in that order through it (the runs table sorts
            # "DESC NULLS LAST" with an id tie-breaker), and without it new rows append to one spot per experiment
            # instead of landing at random: half the index's cost per imported row (migration 0008).
            models.Index(fields=["project", "experiment"], name="ledger_project_experiment"),
            models.Index(fields=["import_job", "source_row"], name="ledger_job_row"),
        ]

    def __str__(self) -> str:
        return self.natural_key

    @property
    def run_attributes(self) -> dict[str, Any]:
        """The record's attributes with its machine's description and its measurements (select_related("machine")
        when reading many)."""
        machine = self.machine.attributes if self.machine_id is not None and self.machine else None
        measured = {name: getattr(self, name) for name in RUN_MEASUREMENTS}
        return run_attributes_merged(self.attributes, machine, measured, self.source_energy_kwh, self.source_kgco2e)


class LedgerDaily(models.Model):
    """Pre-aggregated ledger, refreshed at the end of each import: what dashboards read."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    source = models.CharField(max_length=16)
    provider = models.CharField(max_length=16, blank=True)
    region = models.CharField(max_length=64, blank=True)
    service = models.CharField(max_length=200, blank=True)
    scope = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=8, blank=True)
    method = models.CharField(max_length=20)
    in_inventory = models.BooleanField(default=True)
    # True for rows whose ledger flags hold "region_unmapped" (a cloud region missing from the factor
    # registry): the dashboards' data-quality signal, read without touching the ledger's JSON flags.
    # db_default keeps raw INSERTs written before this column existed valid.
    region_unmapped = models.BooleanField(default=False, db_default=False)
    records = models.PositiveIntegerField(default=0)
    energy_it_kwh = models.FloatField(default=0.0)
    energy_facility_kwh = models.FloatField(default=0.0)
    kgco2e_location = models.FloatField(default=0.0)
    kgco2e_market = models.FloatField(default=0.0)
    kgco2e_embodied = models.FloatField(default=0.0)
    water_l = models.FloatField(default=0.0)
    cost = models.FloatField(default=0.0)

    class Meta:
        indexes = [
            models.Index(fields=["organisation", "day"], name="daily_org_day"),
            models.Index(fields=["project", "day"], name="daily_project_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source} scope {self.scope}: {self.kgco2e_location:.3f} kgCO2e"


class LedgerMonthly(models.Model):
    """The daily rollup summed per calendar month (same dimensions), refreshed with it by `rollup_refresh`.

    Dashboards read whole months of a period here and only the partial edge months from the daily
    rollup: an organisation with 1,000 projects has ~30× fewer monthly rows than daily ones, which keeps
    an uncached overview of three years well under a second.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_index=False)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month (UTC).")
    source = models.CharField(max_length=16)
    provider = models.CharField(max_length=16, blank=True)
    region = models.CharField(max_length=64, blank=True)
    service = models.CharField(max_length=200, blank=True)
    scope = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=8, blank=True)
    method = models.CharField(max_length=20)
    in_inventory = models.BooleanField(default=True)
    region_unmapped = models.BooleanField(default=False)
    records = models.PositiveIntegerField(default=0)
    energy_it_kwh = models.FloatField(default=0.0)
    energy_facility_kwh = models.FloatField(default=0.0)
    kgco2e_location = models.FloatField(default=0.0)
    kgco2e_market = models.FloatField(default=0.0)
    kgco2e_embodied = models.FloatField(default=0.0)
    water_l = models.FloatField(default=0.0)
    cost = models.FloatField(default=0.0)

    class Meta:
        indexes = [models.Index(fields=["organisation", "month"], name="monthly_org_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.source} scope {self.scope}: {self.kgco2e_location:.3f} kgCO2e"


class LedgerReportMonthly(models.Model):
    """In-inventory ledger rows summed per calendar month at the grain the ESRS report groups by.

    The report's inputs (reports/esrs/selectors.py) read whole months here instead of grouping the ledger, so
    their cost follows the number of groups, not of ledger rows. Refreshed with the other rollups by
    `rollup_refresh` (greenesg/footprint/report_rollup.py). Market emissions are stored as the report counts
    them: a row without a market figure at its location figure.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_index=False)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month (UTC).")
    scope = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=8, blank=True)
    source = models.CharField(max_length=16)
    method = models.CharField(max_length=20)
    provider = models.CharField(max_length=16, blank=True)
    region = models.CharField(max_length=64, blank=True)
    country_iso = models.CharField(max_length=3, blank=True)
    market_basis = models.CharField(max_length=40, blank=True)
    resource_category = models.CharField(max_length=20, blank=True)
    # Lineage kept as plain ids: the ledger already protects the factor and nulls a deleted job, and the rollup
    # follows the ledger (SET_NULL mirrors it so a deleted job's rows stay counted, without a source file).
    factor = models.ForeignKey(
        EmissionFactor, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    factor_version = models.CharField(max_length=120, blank=True)
    import_job = models.ForeignKey(
        "ingestion.ImportJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # The ledger row's flags list as stored (JSON text): grouped as a key, so flag counts need no second table.
    flags_json = models.TextField(blank=True)
    records = models.PositiveIntegerField(default=0)
    energy_facility_kwh = models.FloatField(default=0.0)
    kgco2e_location = models.FloatField(default=0.0)
    kgco2e_market = models.FloatField(default=0.0)
    kgco2e_embodied = models.FloatField(default=0.0)
    cost = models.FloatField(default=0.0)

    class Meta:
        indexes = [models.Index(fields=["organisation", "month"], name="report_monthly_org_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} scope {self.scope}: {self.kgco2e_location:.3f} kgCO2e"
