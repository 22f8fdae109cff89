"""Writes on tenancy objects. Every write leaves an audit-log entry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from greenesg.accounts.models import ApiToken, AuditLog, Organisation, Project, TokenScope, token_scopes_default
from greenesg.accounts.tokens import NewToken, new_raw_token, token_digest


def audit_log_write(
    *,
    organisation: Organisation,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    actor_label: str = "",
) -> AuditLog:
    label = actor_label or (actor.get_username() if actor is not None else "system")
    return AuditLog.objects.create(
        organisation=organisation,
        actor=actor,
        actor_label=label,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        reason=reason,
    )


@transaction.atomic
def api_token_create(
    *, project: Project, name: str, created_by: User | None, scopes: Iterable[str] | None = None
) -> NewToken:
    """Without `scopes`, the token gets what tools/greenesg-ci needs (ingest + ci-gate)."""
    chosen = token_scopes_default() if scopes is None else sorted(set(scopes))
    unknown = set(chosen) - set(TokenScope.values)
    if unknown or not chosen:
        raise ValueError(f"Token scopes must be some of {', '.join(TokenScope.values)}; got {sorted(unknown)}.")
    prefix, raw = new_raw_token()
    token = ApiToken.objects.create(
        project=project, name=name, prefix=prefix, digest=token_digest(raw), created_by=created_by, scopes=chosen
    )
    audit_log_write(
        organisation=project.organisation,
        actor=created_by,
        action="token.create",
        object_type="api_token",
        object_id=str(token.pk),
        after={"project": str(project), "name": name, "prefix": prefix, "scopes": chosen},
    )
    return NewToken(token=token, raw=raw)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, revoked_by: User | None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_log_write(
            organisation=token.project.organisation,
            actor=revoked_by,
            action="token.revoke",
            object_type="api_token",
            object_id=str(token.pk),
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at.isoformat()},
        )
    return token


@transaction.atomic
def organisation_get_or_create(*, slug: str, name: str = "", actor_label: str = "system") -> Organisation:
    organisation, created = Organisation.objects.get_or_create(slug=slug, defaults={"name": name or slug})
    if created:
        audit_log_write(
            organisation=organisation,
            actor=None,
            actor_label=actor_label,
            action="organisation.create",
            object_type="organisation",
            object_id=str(organisation.pk),
            after={"slug": slug, "name": organisation.name},
        )
    return organisation


def project_get_or_create(*, organisation: Organisation, slug: str, name: str = "", team: str = "") -> Project:
    project, created = Project.objects.get_or_create(
        organisation=organisation, slug=slug, defaults={"name": name or slug, "team": team}
    )
    if created:
        audit_log_write(
            organisation=organisation,
            actor=None,
            action="project.create",
            object_type="project",
            object_id=str(project.pk),
            after={"slug": slug, "name": project.name, "team": team},
        )
    return project
