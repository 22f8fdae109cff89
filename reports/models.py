"""ESRS E1 reporting: organisation settings, Scope 2 instruments, other activities and frozen reports.

A report is computed from a JSON snapshot of its inputs (ledger aggregates, settings, instruments, factors);
the snapshot, the facts and every rendered document are stored with a SHA-256. Signing freezes them: a
signed report is never regenerated, later data changes produce a restated draft instead (E1-6 para 47,
BP-2, `PreviouslyStatedMember`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from greenesg.accounts.models import Organisation, Project
from ingestion.models import JobStatus


class Consolidation(models.TextChoices):
    FINANCIAL = "financial_control", "Financial control"
    OPERATIONAL = "operational_control", "Operational control"
    EQUITY = "equity_share", "Equity share"


class ReportingSettings(models.Model):
    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="reporting_settings")
    legal_name = models.CharField(max_length=200, blank=True)
    lei = models.CharField("LEI", max_length=20, blank=True, help_text="ISO 17442 Legal Entity Identifier.")
    currency = models.CharField(max_length=3, default="EUR")
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1, help_text="1 = January. A fiscal year is named after the calendar year in which it starts."
    )
    consolidation_approach = models.CharField(
        max_length=20, choices=Consolidation.choices, default=Consolidation.OPERATIONAL
    )
    nace_code = models.CharField("NACE code", max_length=10, blank=True, default="J62")
    high_climate_impact = models.BooleanField(
        default=False, help_text="NACE sections A–H and L: E1-5 rows 1–5 and energy intensity are reported."
    )
    # E1-6 base-year column (AR 48), annual values in tCO2e.
    base_year = models.PositiveSmallIntegerField(null=True, blank=True)
    base_scope1_t = models.FloatField("Base-year Scope 1 (tCO2e)", null=True, blank=True)
    base_scope2_location_t = models.FloatField("Base-year Scope 2 location-based (tCO2e)", null=True, blank=True)
    base_scope2_market_t = models.FloatField("Base-year Scope 2 market-based (tCO2e)", null=True, blank=True)
    base_scope3_t = models.FloatField("Base-year Scope 3 (tCO2e)", null=True, blank=True)
    base_energy_mwh = models.FloatField("Base-year energy (MWh)", null=True, blank=True)
    materiality_statement = models.TextField(blank=True, help_text="Why climate is material (IRO-1 summary).")
    actions_statement = models.TextField(blank=True, help_text="E1-3 decarbonisation levers this period.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Reporting settings of {self.organisation.slug}"


class TargetScope(models.TextChoices):
    SCOPE1 = "scope1", "Scope 1"
    SCOPE2_LB = "scope2_location", "Scope 2 location-based"
    SCOPE2_MB = "scope2_market", "Scope 2 market-based"
    SCOPE3 = "scope3", "Scope 3"
    TOTAL_LB = "total_location", "Total (location-based)"
    TOTAL_MB = "total_market", "Total (market-based)"


class ReductionTarget(models.Model):
    """An E1-4 gross GHG reduction target, as % of the base year or as an absolute tCO2e level."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="reduction_targets")
    scope = models.CharField(max_length=20, choices=TargetScope.choices)
    target_year = models.PositiveSmallIntegerField()
    reduction_percent = models.FloatField(null=True, blank=True, help_text="Reduction vs base year, in %.")
    absolute_target_t = models.FloatField(null=True, blank=True, help_text="Target level in tCO2e (annual).")
    science_based = models.BooleanField(default=False)
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["scope", "target_year"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "scope", "target_year"], name="target_unique_scope_year")
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.target_year}"


class QuarterRevenue(models.Model):
    """Net revenue of one fiscal quarter, reconciled to the financial statements (E1-6 AR 55)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="quarter_revenues")
    fiscal_year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(choices=[(q, f"Q{q}") for q in range(1, 5)])
    revenue_used = models.DecimalField(
        max_digits=18, decimal_places=2, help_text="Net revenue used to calculate GHG intensity."
    )
    revenue_other = models.DecimalField(max_digits=18, decimal_places=2, default=0, help_text="Net revenue (other).")
    statement_reference = models.CharField(
        max_length=200, blank=True, help_text="Line of the financial statements, e.g. 'Interim P&L, revenue'."
    )

    class Meta:
        ordering = ["fiscal_year", "quarter"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "fiscal_year", "quarter"], name="revenue_unique_quarter")
        ]

    def __str__(self) -> str:
        return f"{self.fiscal_year}-Q{self.quarter}"


SCOPE3_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("1", "Purchased goods and services"),
    ("2", "Capital goods"),
    ("3", "Fuel- and energy-related activities"),
    ("4", "Upstream transportation and distribution"),
    ("5", "Waste generated in operations"),
    ("6", "Business travel"),
    ("7", "Employee commuting"),
    ("8", "Upstream leased assets"),
    ("9", "Downstream transportation and distribution"),
    ("10", "Processing of sold products"),
    ("11", "Use of sold products"),
    ("12", "End-of-life treatment of sold products"),
    ("13", "Downstream leased assets"),
    ("14", "Franchises"),
    ("15", "Investments"),
)


class Scope3Method(models.TextChoices):
    SUPPLIER = "supplier-specific", "Supplier-specific"
    HYBRID = "hybrid", "Hybrid (activity × factor)"
    SPEND = "spend-based", "Spend-based"
    AVERAGE = "average-data", "Average data"
    NONE = "", "—"


class Scope3Screening(models.Model):
    """ESRS E1 AR 46: each of the 15 categories included or excluded, with the reason for an exclusion."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="scope3_screening")
    category = models.CharField(max_length=2, choices=SCOPE3_CATEGORIES)
    included = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True)
    method = models.CharField(max_length=20, choices=Scope3Method.choices, blank=True)
    screened_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "category"], name="screening_unique_category")]

    def __str__(self) -> str:
        return f"Scope 3 cat. {self.category}: {'included' if self.included else 'excluded'}"


class InstrumentType(models.TextChoices):
    GO = "GO", "Guarantee of Origin"
    REC = "REC", "Renewable Energy Certificate"
    IREC = "I-REC", "I-REC"
    PPA = "PPA", "Power purchase agreement"
    GREEN_TARIFF = "green_tariff", "Green tariff"


def _evidence_path(instance: ContractualInstrument | OtherActivity, filename: str) -> str:
    # Generated name under MEDIA_ROOT (never under the static root the PDF fetcher may read); the
    # original name is kept as display text only.
    import uuid

    return f"evidence/{instance.organisation_id}/{uuid.uuid4().hex}"


class ContractualInstrument(models.Model):
    """A GO/REC/PPA/green tariff claimed for market-based Scope 2 (Scope 2 Quality Criteria)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="instruments")
    instrument_type = models.CharField(max_length=16, choices=InstrumentType.choices)
    mwh = models.FloatField("MWh")
    market = models.CharField(max_length=8, help_text="ISO 3166 alpha-3 country of consumption, e.g. FRA.")
    generation_start = models.DateField()
    generation_end = models.DateField()
    consumption_start = models.DateField()
    consumption_end = models.DateField(help_text="Inclusive.")
    emission_rate_g_per_kwh = models.FloatField(default=0.0)
    registry_ids = models.TextField(blank=True, help_text="Certificate or contract ids, one per line.")
    supplier = models.CharField(max_length=200, blank=True)
    evidence = models.FileField(upload_to=_evidence_path, blank=True)
    evidence_name = models.CharField(max_length=255, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["consumption_start", "id"]

    def __str__(self) -> str:
        return f"{self.instrument_type} {self.mwh} MWh {self.market}"


class ResidualMixFactor(models.Model):
    """Residual mix for unclaimed consumption (market-based Scope 2), e.g. AIB European Residual Mixes."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="residual_mix_factors")
    zone = models.CharField(max_length=80, help_text="ISO 3166 alpha-3 country or bidding zone, e.g. FRA.")
    year = models.PositiveSmallIntegerField()
    g_co2e_per_kwh = models.FloatField()
    nuclear_share_percent = models.FloatField(
        null=True, blank=True, help_text="Nuclear share of the residual mix (E1-5 split of uncovered electricity)."
    )
    source = models.CharField(max_length=300)
    version = models.CharField(max_length=40, default="1")

    class Meta:
        ordering = ["zone", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "zone", "year", "version"], name="residual_unique")
        ]

    def __str__(self) -> str:
        return f"{self.zone} {self.year}: {self.g_co2e_per_kwh} g/kWh ({self.source} v{self.version})"


class FuelType(models.TextChoices):
    NONE = "", "— (not a fuel)"
    COAL = "coal", "Coal and coal products"
    OIL = "oil", "Crude oil and petroleum products"
    GAS = "natural_gas", "Natural gas"
    OTHER_FOSSIL = "other_fossil", "Other fossil"
    RENEWABLE = "renewable", "Renewable fuel (biomass, biogas, …)"


class OtherActivity(models.Model):
    """A non-compute source (office electricity, heating fuel, travel, hardware …) that enters the ledger.

    Its ledger row has the natural key ``other:<id>`` and carries the evidence's SHA-256 as lineage.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="other_activities")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    description = models.CharField(max_length=200)
    scope = models.PositiveSmallIntegerField(choices=[(1, "Scope 1"), (2, "Scope 2"), (3, "Scope 3")])
    category = models.CharField(max_length=4, blank=True, help_text="Scope 3 category 1–15 (blank for 1 and 2).")
    quantity = models.FloatField()
    unit = models.CharField(max_length=20, help_text="kWh or MWh for electricity; otherwise free (km, €, l, unit).")
    energy_kwh = models.FloatField(
        null=True, blank=True, help_text="Final energy in kWh (net calorific value) for fuels; derived for kWh/MWh."
    )
    fuel_type = models.CharField(max_length=16, choices=FuelType.choices, blank=True)
    country_iso = models.CharField(max_length=3, blank=True)
    factor = models.ForeignKey(
        "footprint.EmissionFactor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stated_kgco2e = models.FloatField("Stated kgCO2e", null=True, blank=True)
    stated_source = models.CharField(max_length=300, blank=True, help_text="Where the stated figure comes from.")
    evidence = models.FileField(upload_to=_evidence_path, blank=True)
    evidence_name = models.CharField(max_length=255, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Inclusive. The ledger assigns the activity to this day's period.")
    import_name = models.CharField(max_length=255, blank=True)
    import_sha256 = models.CharField(max_length=64, blank=True)
    import_row = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "id"]
        verbose_name_plural = "other activities"

    def __str__(self) -> str:
        return f"{self.description} ({self.quantity} {self.unit})"

    @property
    def natural_key(self) -> str:
        return f"other:{self.pk}"


class OtherActivityImport(models.Model):
    """One uploaded CSV of other activities, imported by the worker: all rows or none.

    The request only streams the upload to private storage (ingestion.storage) and creates this row;
    the task claims it with a conditional update and a lease, as import jobs do (docs/operations.md §4.2).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="other_imports")
    # Relative to the imports folder under MEDIA_ROOT; emptied once the import has finished.
    stored_path = models.CharField(max_length=255, blank=True)
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    # [{"line": 5, "column": "category", "message": "…"}], capped; column "" means the whole row or file.
    errors = models.JSONField(default=list, blank=True)
    errors_total = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two uploads of the same bytes cannot both be waiting or running (double click, two tabs);
            # a finished one is checked by the service, since a failed file may be uploaded again.
            models.UniqueConstraint(
                fields=["organisation", "sha256"],
                condition=Q(status__in=["pending", "running"]),
                name="otherimport_unique_active_content",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="otherimport_status")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {JobStatus.DONE, JobStatus.FAILED}


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "Draft (queued)"
    GENERATING = "generating", "Generating"
    READY = "ready", "Ready for sign-off"
    SIGNED = "signed", "Signed"
    FAILED = "failed", "Failed"


class Report(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="esrs_reports")
    period = models.CharField(max_length=10, help_text="2026-Q3, 2026-YTD or 2026 (fiscal).")
    status = models.CharField(max_length=12, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=60, blank=True)
    error_message = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    restates = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="restatements")
    restatement_reason = models.TextField(blank=True)
    # The frozen package: inputs snapshot (ledger aggregates, settings, instruments, factor versions),
    # the facts computed from it and the SHA-256 of the canonical inputs JSON.
    inputs = models.JSONField(null=True, blank=True)
    inputs_sha256 = models.CharField(max_length=64, blank=True)
    facts = models.JSONField(null=True, blank=True)
    factor_versions = models.JSONField(default=list, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "period"], name="report_org_period")]

    def __str__(self) -> str:
        return f"{self.organisation.slug} {self.period} v{self.version} ({self.status})"

    @property
    def is_signed(self) -> bool:
        return self.status == ReportStatus.SIGNED


class ArtifactFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "Excel workbook"
    CSV = "csv", "CSV (all tables)"
    JSON = "json", "JSON facts"
    IXBRL = "ixbrl", "Inline XBRL"
    LINEAGE = "lineage", "Lineage (CSV)"
    INPUTS = "inputs", "Frozen inputs (JSON)"
    # The PDF's first page as PNG, for the report page only (reports/esrs/preview.py); optional (poppler).
    PREVIEW = "preview", "First-page preview (PNG)"


class ReportArtifact(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="artifacts")
    format = models.CharField(max_length=8, choices=ArtifactFormat.choices)
    # Relative to MEDIA_ROOT; deterministic: reports/<org>/<report>/v<version>/<name>.
    path = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["format"]
        constraints = [models.UniqueConstraint(fields=["report", "format"], name="artifact_unique_format")]

    def __str__(self) -> str:
        return f"{self.report} {self.format}"
