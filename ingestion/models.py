"""Import jobs: one per uploaded file, API post, CLI file or live record, processed by a Celery task."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

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

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # The same bytes imported twice into one project is one job: the constraint settles
            # concurrent duplicate uploads, not a prior SELECT.
            models.UniqueConstraint(fields=["organisation", "project", "sha256"], name="importjob_unique_content"),
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
