"""Steering: budgets and the organisation target, threshold notifications, functional-unit counts for SCI,
recorded region moves (advice followed) and the model/metric tags of runs.

None of these rows is ever added to the inventory: budgets and SCI read it, avoided emissions sit beside it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from greenesg.accounts.models import Organisation, Project


class Basis(models.TextChoices):
    LOCATION = "location", "Location-based"
    MARKET = "market", "Market-based"


class BudgetOrigin(models.TextChoices):
    MANUAL = "manual", "Set by hand"
    TARGET = "target", "Derived from the organisation target"


class Budget(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="budgets")
    # Canonical period key: "2026" (year), "2026-Q4" (quarter) or "2026-11" (month); see budget.period_parse.
    period = models.CharField(max_length=7)
    kg = models.FloatField(help_text="Budget in kgCO2e for the period.")
    basis = models.CharField(max_length=8, choices=Basis.choices, default=Basis.LOCATION)
    run_limit_kg = models.FloatField(null=True, blank=True, help_text="Optional per-run limit in kgCO2e (CI gate).")
    origin = models.CharField(max_length=8, choices=BudgetOrigin.choices, default=BudgetOrigin.MANUAL)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project__name", "period"]
        constraints = [
            models.UniqueConstraint(fields=["project", "period"], name="budget_unique_period"),
            models.CheckConstraint(condition=models.Q(kg__gte=0), name="budget_kg_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.period}: {self.kg} kg ({self.basis})"


class TargetSplit(models.TextChoices):
    BASE_YEAR_SHARE = "share", "By each project's share of the base year"
    MANUAL = "manual", "By hand-set percentages"


class OrgTarget(models.Model):
    """The organisation's absolute reduction target, from which project budgets can be derived."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="steering_target")
    base_year = models.PositiveSmallIntegerField()
    base_year_kg = models.FloatField(help_text="Inventory kgCO2e of the base year (all projects).")
    target_year = models.PositiveSmallIntegerField()
    reduction_pct = models.FloatField(help_text="Reduction from the base year, reached in the target year (%).")
    basis = models.CharField(max_length=8, choices=Basis.choices, default=Basis.LOCATION)
    split = models.CharField(max_length=8, choices=TargetSplit.choices, default=TargetSplit.BASE_YEAR_SHARE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.organisation.slug}: −{self.reduction_pct}% by {self.target_year} vs {self.base_year}"


class TargetShare(models.Model):
    """A hand-set share of the target for one project (used when the split is manual)."""

    target = models.ForeignKey(OrgTarget, on_delete=models.CASCADE, related_name="shares")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    share_pct = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "project"], name="targetshare_unique_project")]

    def __str__(self) -> str:
        return f"{self.project}: {self.share_pct}%"


class ProjectSteering(models.Model):
    """Per-project steering settings: the notification webhook and the SCI functional unit."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="steering")
    webhook_url = models.URLField(
        blank=True, max_length=500, help_text="POSTed a JSON message when 50, 80 and 100 % of a budget is reached."
    )
    functional_unit = models.CharField(
        max_length=100, blank=True, help_text='The SCI functional unit, e.g. "training run" or "1,000 inferences".'
    )
    non_production = models.BooleanField(
        default=False,
        help_text="A development, test or staging environment: the advisor proposes scheduling compute that runs "
        "around the clock.",
    )
    quality_tolerance_percent = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(50.0)],
        help_text="How much worse (relative, in %) a model's quality metric may be and still count as good enough.",
    )

    def __str__(self) -> str:
        return f"steering of {self.project}"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Sent"
    FAILED = "failed", "Failed"


class BudgetNotification(models.Model):
    """One threshold crossing of one budget. The unique constraint is what makes "sent once" hold, also when two
    imports finish at the same moment: the second insert fails and that worker sends nothing."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="notifications")
    threshold = models.PositiveSmallIntegerField()
    used_kg = models.FloatField()
    budget_kg = models.FloatField()
    status = models.CharField(max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    emailed_to = models.JSONField(default=list, blank=True)
    webhook_status = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["budget", "threshold"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "threshold"], name="budgetnotification_unique_threshold")
        ]

    def __str__(self) -> str:
        return f"{self.budget} at {self.threshold}%"


class UnitCount(models.Model):
    """How many functional units (R of SCI) the project delivered in a period. Re-posting replaces the count."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sci_unit_counts")
    period = models.CharField(max_length=7)
    count = models.FloatField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "period"]
        constraints = [
            models.UniqueConstraint(fields=["project", "period"], name="unitcount_unique_period"),
            models.CheckConstraint(condition=models.Q(count__gt=0), name="unitcount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.period}: {self.count} units"


class RegionMove(models.Model):
    """Advice followed: the project's runs moved region. Avoided kg is reported apart and never netted."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="region_moves")
    provider = models.CharField(max_length=16)
    from_region = models.CharField(max_length=64)
    to_region = models.CharField(max_length=64)
    period = models.CharField(max_length=7)
    energy_kwh = models.FloatField(help_text="Facility energy of the moved runs in the period.")
    from_g_per_kwh = models.FloatField()
    to_g_per_kwh = models.FloatField()
    avoided_kg = models.FloatField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.project}: {self.from_region} → {self.to_region} ({self.period})"


class RunModelSource(models.TextChoices):
    API = "api", "Posted through the API"
    NAMING = "naming", "Parsed from the codecarbon project name"


class RunModel(models.Model):
    """The model and quality metric of one run (keyed like the ledger's run_id; LedgerEntry is not touched)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="run_models")
    run_id = models.CharField(max_length=100)
    model = models.CharField(max_length=200)
    metric_name = models.CharField(max_length=100)
    metric_value = models.FloatField()
    higher_is_better = models.BooleanField(default=True)
    source = models.CharField(max_length=8, choices=RunModelSource.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "run_id"]
        constraints = [models.UniqueConstraint(fields=["project", "run_id"], name="runmodel_unique_run")]

    def __str__(self) -> str:
        return f"{self.project} run {self.run_id}: {self.model}"


class RecommendationStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DONE = "done", "Done"
    DISMISSED = "dismissed", "Dismissed"


ACTIVE_RECOMMENDATION = (RecommendationStatus.OPEN, RecommendationStatus.ACCEPTED)
DETECTOR_LABELS = {
    "idle_runs": "Idle runs",
    "always_on": "Compute around the clock",
    "oversized_memory": "Over-sized memory",
    "gpu_underuse": "GPU under-use",
    "region": "Cleaner region",
    "model_choice": "Model choice",
}


class Recommendation(models.Model):
    """One finding of the efficiency advisor (steering/advisor/) for a project, with its estimated saving per month
    and its status (open → accepted → done / dismissed, every change audited)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="recommendations")
    detector = models.CharField(max_length=32)
    subject = models.CharField(max_length=300)
    title = models.CharField(max_length=500)
    action = models.TextField()
    method = models.TextField()
    assumptions = models.JSONField(default=list)
    details = models.JSONField(default=dict)
    evidence_entry_ids = models.JSONField(default=list)
    saving_kwh_month = models.FloatField()
    saving_kg_location_month = models.FloatField()
    saving_kg_market_month = models.FloatField()
    saving_cost_month = models.FloatField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    window_start = models.DateField()
    window_end = models.DateField()
    status = models.CharField(max_length=10, choices=RecommendationStatus.choices, default=RecommendationStatus.OPEN)
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-saving_kg_location_month", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "detector", "subject"],
                condition=models.Q(status__in=["open", "accepted"]),
                name="recommendation_one_active_per_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.title}"

    @property
    def detector_label(self) -> str:
        return DETECTOR_LABELS.get(self.detector, self.detector)
