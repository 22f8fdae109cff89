"""Tenancy: organisations, projects, memberships with roles, project API tokens, the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Organisation(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Infrastructure(models.TextChoices):
    # The asset register decides the scope (docs/methodology.md §1.6); AUTO trusts codecarbon's on_cloud flag.
    AUTO = "auto", "Detect from codecarbon's on_cloud flag"
    OWN = "own", "Own or controlled hardware (Scope 2)"
    CLOUD = "cloud", "Public cloud (Scope 3 cat. 1.1)"


class InventorySource(models.TextChoices):
    # When codecarbon and billing both cover a project/provider/period, only one enters the inventory.
    BILLING = "billing", "Cloud billing"
    CODECARBON = "codecarbon", "codecarbon runs"


class Project(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="projects")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    team = models.CharField(max_length=200, blank=True)
    host_timezone = models.CharField(
        max_length=64,
        blank=True,
        help_text="IANA zone of the hosts writing codecarbon files (their timestamps are naive local time). "
        "Blank: UTC is assumed and runs are flagged timezone_assumed.",
    )
    infrastructure = models.CharField(max_length=8, choices=Infrastructure.choices, default=Infrastructure.AUTO)
    site_pue = models.FloatField(
        null=True, blank=True, help_text="PUE of our own site; blank uses 1.58 (Uptime Institute average)."
    )
    inventory_source = models.CharField(max_length=12, choices=InventorySource.choices, default=InventorySource.BILLING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "slug"], name="project_unique_slug")]

    def __str__(self) -> str:
        return f"{self.organisation.slug}/{self.slug}"


class Role(models.TextChoices):
    OFFICER = "officer", "Officer / admin"
    ENGINEER = "engineer", "Engineer"
    AUDITOR = "auditor", "Auditor (read-only)"


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    # Engineers see and ingest into these projects only; officers and auditors see the whole org.
    projects = models.ManyToManyField(Project, blank=True, related_name="engineer_memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique_user_org")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation.slug} as {self.role}"


class TokenScope(models.TextChoices):
    # What a CI pipeline may do with a token; tools/greenesg-ci needs ingest + ci-gate.
    INGEST = "ingest", "ingest: post imports, live records, accessibility reports, reviews, SCI counts"
    READ = "read", "read: list imports and rejected rows, summary, runs, scorecard, reviews"
    CI_GATE = "ci-gate", "ci-gate: poll an import job and read the budget verdict"


def token_scopes_default() -> list[str]:
    """What a new token gets unless its creator chooses: exactly what the CI gate client calls."""
    return [TokenScope.INGEST.value, TokenScope.CI_GATE.value]


class ApiToken(models.Model):
    """A per-project token. Only a non-secret prefix and an HMAC of the whole token are stored."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    scopes = models.JSONField(default=token_scopes_default, help_text="names from TokenScope")
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    use_count = models.PositiveBigIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class AuditLog(models.Model):
    """Append-only record of every write that matters to an auditor: who, when, before → after, why."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=200, help_text="user name, token prefix or 'system'")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organisation", "-at"], name="audit_org_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}#{self.object_id}"
