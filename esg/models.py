"""ESG values with four-eyes approval, period locks, organisation settings, project scorecard inputs
(accessibility reports, dataset/model reviews) and factor-set change requests.

The approval history of a value is its audit-log trail (object_type "esg_value"), so history and
audit log can never disagree.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from greenesg.accounts.models import Organisation, Project


class ValueStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted, awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class MetricValue(models.Model):
    """One entered datapoint for one organisation and period (computed ones are derived on read)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="esg_values")
    metric_code = models.CharField(max_length=80)
    period = models.CharField(max_length=7, help_text="2026 or 2026-Q3")
    # Full precision; rounding only when presenting (docs/esrs.md §8).
    value = models.DecimalField(max_digits=24, decimal_places=6)
    status = models.CharField(max_length=10, choices=ValueStatus.choices, default=ValueStatus.SUBMITTED)
    source = models.CharField(max_length=20, help_text="form, import, api, ap_ledger or demo")
    evidence = models.TextField(blank=True, help_text="what the figure comes from: file name and SHA-256, system")
    comment = models.TextField(blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["period", "metric_code"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "metric_code", "period"], name="esg_value_unique_period"),
            # Four-eyes in the database too: no row can be approved by the user who submitted it.
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True)
                | models.Q(submitted_by__isnull=True)
                | ~models.Q(approved_by=models.F("submitted_by")),
                name="esg_value_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.slug} {self.period} {self.metric_code}={self.value} ({self.status})"

    def snapshot(self) -> dict[str, object]:
        """The audit-log view of this value (before/after)."""
        return {
            "metric": self.metric_code,
            "period": self.period,
            "value": str(self.value),
            "status": self.status,
            "source": self.source,
            "evidence": self.evidence,
        }


class PeriodStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ReportingPeriod(models.Model):
    """A period lock. No row, or an open one, means open; closing a year also locks its quarters.

    Every write into a period creates its row (open) and locks it, so writes and closes serialise on it.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="esg_periods")
    period = models.CharField(max_length=7)
    status = models.CharField(max_length=6, choices=PeriodStatus.choices, default=PeriodStatus.OPEN)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["period"]
        constraints = [models.UniqueConstraint(fields=["organisation", "period"], name="esg_period_unique")]

    def __str__(self) -> str:
        return f"{self.organisation.slug} {self.period} {self.status}"


class EsgSettings(models.Model):
    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="esg_settings")
    # Region keys as the ledger holds them: "eu-north-1", "europe-west1", or "aws/eu-north-1".
    approved_regions = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"ESG settings of {self.organisation.slug}"


class AccessibilityTool(models.TextChoices):
    AXE = "axe", "axe-core"
    LIGHTHOUSE = "lighthouse", "Lighthouse"


class AccessibilityReport(models.Model):
    """The summary of one axe-core or Lighthouse run posted by CI; the raw report is not kept."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="accessibility_reports")
    tool = models.CharField(max_length=12, choices=AccessibilityTool.choices)
    tool_version = models.CharField(max_length=40, blank=True)
    url = models.CharField(max_length=500)
    tested_at = models.DateTimeField()
    score = models.FloatField(null=True, blank=True, help_text="0–100")
    critical = models.PositiveIntegerField(default=0)
    serious = models.PositiveIntegerField(default=0)
    moderate = models.PositiveIntegerField(default=0)
    minor = models.PositiveIntegerField(default=0)
    unknown_impact = models.PositiveIntegerField(default=0)
    violation_nodes = models.PositiveIntegerField(default=0)
    passes = models.PositiveIntegerField(default=0)
    failing_rules = models.JSONField(default=list, blank=True)
    # SHA-256 of the posted body: a CI retry of the same report is recorded once.
    sha256 = models.CharField(max_length=64)
    posted_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-tested_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "sha256"], name="a11y_unique_body")]

    def __str__(self) -> str:
        return f"{self.project} {self.tool} {self.url} {self.tested_at:%Y-%m-%d}"

    @property
    def violations(self) -> int:
        return self.critical + self.serious + self.moderate + self.minor + self.unknown_impact


class ModelReview(models.Model):
    """A dataset/model bias review record: reviewed or not, when, and the model card."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="model_reviews")
    subject = models.CharField(max_length=200, help_text="dataset or model name")
    reviewed = models.BooleanField(default=False)
    reviewed_on = models.DateField(null=True, blank=True)
    model_card_url = models.URLField(max_length=500, blank=True)
    notes = models.TextField(blank=True)
    recorded_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project} {self.subject} reviewed={self.reviewed}"


class ChangeStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class FactorSetChangeRequest(models.Model):
    """Four-eyes control over the factor registry: a pending EmissionFactorSet waits for a second officer."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    factor_set = models.OneToOneField(
        "footprint.EmissionFactorSet", on_delete=models.PROTECT, related_name="change_request"
    )
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.factor_set} {self.status}"
