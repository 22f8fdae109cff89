"""Import jobs: one per uploaded file, API post, CLI file or live record, processed by a Celery task."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from greenesg.accounts.models import ApiToken, Organisation, Project


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class JobKind(models.TextChoices):
    CODECARBON = "codecarbon", "codecarbon emissions file"
    CODECARBON_LIVE = "codecarbon_live", "codecarbon live record"
    BILLING = "billing", "Cloud billing export"


class JobOrigin(models.TextChoices):
    UPLOAD = "upload", "Browser upload"
    API = "api", "API"
    CLI = "cli", "Command line"
    LIVE = "live", "Live tracker"
    DEMO = "demo", "Demo loader"


class ImportJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="import_jobs")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="import_jobs")
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    origin = models.CharField(max_length=8, choices=JobOrigin.choices)
    # Stored under a generated name in MEDIA_ROOT; the original name is display text only.
    stored_path = models.CharField(max_length=255, blank=True)
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    payload = models.JSONField(null=True, blank=True, help_text="Live records carry their JSON here.")
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    stage = models.CharField(max_length=40, blank=True)
    rows_processed = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    records_new = models.PositiveIntegerField(default=0)
    records_updated = models.PositiveIntegerField(default=0)
    records_unchanged = models.PositiveIntegerField(default=0)
    detected_format = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    totals = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set when the stored upload was deleted under UPLOAD_RETENTION_DAYS; the job, its sha256, totals and row
    # errors stay (docs/operations.md §7.1).
    file_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # The same bytes imported twice into one project is one job: the constraint settles
            # concurrent duplicate uploads, not a prior SELECT.
            models.UniqueConstraint(fields=["organisation", "project", "sha256"], name="importjob_unique_content"),
            # Org-level jobs (billing) have no project, and NULLs never collide in a unique index (PostgreSQL
            # and SQLite alike), so the constraint above cannot see their duplicates: this one does.
            models.UniqueConstraint(
                fields=["organisation", "sha256"],
                condition=Q(project__isnull=True),
                name="importjob_unique_org_content",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="importjob_status")]

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {JobStatus.DONE, JobStatus.FAILED}

    @property
    def records_accepted(self) -> int:
        return self.records_new + self.records_updated + self.records_unchanged


class RowError(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(help_text="1-based line number in the file, header = line 1")
    column = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=40)
    message = models.CharField(max_length=500)
    raw_value = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["row", "id"]

    def __str__(self) -> str:
        return f"line {self.row}, {self.column or 'row'}: {self.message}"


class IdempotencyKey(models.Model):
    """A retried API call with the same key and body replays the stored response."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.key} → {self.job_id}"


# ---------------------------------------------------------------------------------------------- cloud billing


class DeliveryStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded"


class BillingDelivery(models.Model):
    """One billing period of one account as delivered by one import (docs/methodology.md §3.6).

    CUR and the other exports restate a month cumulatively, so the unit of idempotency is (provider, account,
    month): a newer delivery replaces the active one in one transaction and the old one is kept, superseded,
    for audit. Exactly one delivery per unit is active (the partial unique constraint settles races).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="billing_deliveries")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="billing_deliveries")
    provider = models.CharField(max_length=16)
    account = models.CharField(max_length=128, help_text="AWS account, GCP project id or Azure subscription")
    account_name = models.CharField(max_length=200, blank=True)
    month = models.DateField(help_text="First day of the billing period (UTC usage month)")
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.ACTIVE)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    superseded_at = models.DateTimeField(null=True, blank=True)
    source_format = models.CharField(max_length=40, blank=True)
    lines = models.PositiveIntegerField(default=0)
    cost = models.FloatField(default=0.0)
    currency = models.CharField(max_length=3, blank=True)
    energy_facility_kwh = models.FloatField(default=0.0)
    kgco2e_location = models.FloatField(default=0.0)
    kgco2e_embodied = models.FloatField(default=0.0)
    # Coverage report (docs/methodology.md §4.8, §8.3): rows we could not estimate, and unsupported rows dropped.
    lines_unestimated = models.PositiveIntegerField(default=0)
    cost_unestimated = models.FloatField(default=0.0)
    lines_unsupported = models.PositiveIntegerField(default=0)
    cost_unsupported = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month", "provider", "account", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "provider", "account", "month"],
                condition=Q(status="active"),
                name="billingdelivery_one_active",
            ),
            models.UniqueConstraint(fields=["job", "provider", "account", "month"], name="billingdelivery_unique_job"),
        ]
        indexes = [models.Index(fields=["organisation", "status", "month"], name="billingdelivery_org_status")]

    def __str__(self) -> str:
        return f"{self.provider} {self.account} {self.month:%Y-%m} ({self.status})"


class BillingAggregate(models.Model):
    """Billing lines of one delivery summed per day and resource, before attribution to projects.

    The estimate is computed here once; ledger rows are this × each project's share, so changing the
    attribution rules rebuilds the ledger from these rows without re-reading any file.
    """

    delivery = models.ForeignKey(BillingDelivery, on_delete=models.CASCADE, related_name="aggregates")
    day = models.DateField()
    service = models.CharField(max_length=200, blank=True)
    usage_type = models.CharField(max_length=255, blank=True)
    region = models.CharField(max_length=64, blank=True)
    unit = models.CharField(max_length=32, blank=True)
    bucket = models.CharField(max_length=16)
    machine_type = models.CharField(max_length=64, blank=True)
    resource_group = models.CharField(max_length=200, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    method = models.CharField(max_length=20, help_text="modelled, extrapolated, unestimated or excluded")
    lines = models.PositiveIntegerField(default=0)
    first_line = models.PositiveIntegerField(default=0)
    usage_amount = models.FloatField(default=0.0)
    cost = models.FloatField(default=0.0)
    currency = models.CharField(max_length=3, blank=True)
    energy_it_kwh = models.FloatField(default=0.0)
    energy_facility_kwh = models.FloatField(default=0.0)
    kgco2e_location = models.FloatField(null=True, blank=True)
    kgco2e_embodied = models.FloatField(default=0.0)
    pue = models.FloatField(default=1.0)
    factor = models.ForeignKey(
        "footprint.EmissionFactor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    factor_g_per_kwh = models.FloatField(null=True, blank=True)
    factor_version = models.CharField(max_length=120, blank=True)
    flags = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivery", "day"], name="billingagg_delivery_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.service} {self.usage_type} ({self.method})"


class MatchField(models.TextChoices):
    ACCOUNT = "account", "Account id (AWS account, GCP project id, Azure subscription id)"
    ACCOUNT_NAME = "account_name", "Account name (GCP project name, Azure subscription name)"
    RESOURCE_GROUP = "resource_group", "Azure resource group"
    TAG = "tag", "Tag or label (key = value)"


class AttributionRule(models.Model):
    """Maps billing lines to projects; rules are tried by position and the first match wins."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="attribution_rules")
    position = models.PositiveIntegerField(default=0)
    provider = models.CharField(max_length=16, blank=True, help_text="aws, gcp, azure; blank matches any")
    match_field = models.CharField(max_length=16, choices=MatchField.choices)
    tag_key = models.CharField(max_length=128, blank=True)
    match_value = models.CharField(max_length=200, help_text="Compared case-insensitively; * matches anything")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["organisation", "position"], name="attrrule_org_position")]

    def __str__(self) -> str:
        key = f"{self.tag_key}=" if self.match_field == MatchField.TAG else f"{self.match_field}="
        return f"#{self.position} {self.provider or 'any'} {key}{self.match_value}"


class AttributionTarget(models.Model):
    """A project and its share of what the rule matches; shares under 100 % leave the rest unallocated."""

    rule = models.ForeignKey(AttributionRule, on_delete=models.CASCADE, related_name="targets")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    percent = models.FloatField()

    class Meta:
        ordering = ["-percent", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "project"], name="attrtarget_unique_project"),
            models.CheckConstraint(condition=Q(percent__gt=0) & Q(percent__lte=100), name="attrtarget_percent_range"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.percent:g} %"


class ProviderFigure(models.Model):
    """A provider-reported carbon figure (docs/methodology.md §6), normalised to kg; the original value and unit kept.

    A restated month arrives as a new import: earlier figures of the same (provider, account, month) are
    kept as superseded, the newest is active and used for reconciliation.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="provider_figures")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="provider_figures")
    provider = models.CharField(max_length=16)
    account = models.CharField(max_length=128, blank=True)
    month = models.DateField()
    service = models.CharField(max_length=200, blank=True)
    region = models.CharField(max_length=64, blank=True)
    source_format = models.CharField(max_length=40)
    model_version = models.CharField(max_length=40, blank=True)
    kg_location = models.FloatField(null=True, blank=True)
    kg_market = models.FloatField(null=True, blank=True)
    scopes = models.JSONField(default=dict, blank=True, help_text="kg per reported metric (scope split)")
    original = models.JSONField(default=dict, blank=True, help_text="metric -> [value, unit] as in the file")
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.ACTIVE)
    source_line = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["organisation", "status", "month"], name="providerfig_org_status")]

    def __str__(self) -> str:
        return f"{self.provider} {self.account} {self.month:%Y-%m} {self.service}: {self.kg_location} kg"
