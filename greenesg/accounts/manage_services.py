"""Officer writes: project settings and memberships, each with a before → after audit entry."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from greenesg.accounts.models import Membership, Organisation, Project
from greenesg.accounts.services import audit_log_write

PROJECT_FIELDS = ("slug", "name", "team", "host_timezone", "infrastructure", "site_pue", "inventory_source")


def _project_state(project: Project) -> dict[str, Any]:
    return {name: getattr(project, name) for name in PROJECT_FIELDS}


@transaction.atomic
def project_save(*, project: Project, actor: User, before: dict[str, Any] | None) -> Project:
    project.save()
    audit_log_write(
        organisation=project.organisation,
        actor=actor,
        action="project.update" if before else "project.create",
        object_type="project",
        object_id=str(project.pk),
        before=before,
        after=_project_state(project),
    )
    if before and before.get("inventory_source") != project.inventory_source:
        # Which source counts where codecarbon and billing overlap changed: re-apply the rule now.
        from greenesg.footprint.inventory import inventory_refresh

        inventory_refresh(organisation=project.organisation, project=project)
    return project


def project_state(project: Project) -> dict[str, Any]:
    return _project_state(project)


@transaction.atomic
def membership_set(
    *, organisation: Organisation, user: User, role: str, projects: list[Project], actor: User
) -> Membership:
    membership = Membership.objects.filter(organisation=organisation, user=user).first()
    before = None
    if membership is not None:
        before = {"role": membership.role, "projects": sorted(p.slug for p in membership.projects.all())}
        membership.role = role
        membership.save(update_fields=["role"])
    else:
        membership = Membership.objects.create(organisation=organisation, user=user, role=role)
    membership.projects.set(projects)
    audit_log_write(
        organisation=organisation,
        actor=actor,
        action="membership.update" if before else "membership.create",
        object_type="membership",
        object_id=str(membership.pk),
        before=before,
        after={"user": user.get_username(), "role": role, "projects": sorted(p.slug for p in projects)},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    before = {"user": membership.user.get_username(), "role": membership.role}
    audit_log_write(
        organisation=membership.organisation,
        actor=actor,
        action="membership.delete",
        object_type="membership",
        object_id=str(membership.pk),
        before=before,
    )
    membership.delete()


def lockout_list(*, organisation: Organisation) -> list[dict[str, Any]]:
    """Failed-login records (django-axes) of this organisation's members, newest first.

    Only members' user names are listed: an officer must not learn who else tried to log in, or from where.
    """
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.utils import timezone

    usernames = organisation.memberships.values_list("user__username", flat=True)
    cool_off = get_cool_off()
    now = timezone.now()
    rows = []
    for attempt in AccessAttempt.objects.filter(username__in=list(usernames)).order_by("-attempt_time"):
        fresh = cool_off is None or attempt.attempt_time + cool_off > now
        locked = fresh and attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT
        rows.append({"attempt": attempt, "locked": locked})
    return rows


@transaction.atomic
def lockout_reset(*, organisation: Organisation, attempt_id: int, actor: User) -> bool:
    """Lift one (user name, address) lock-out of a member; False if there is no such record of a member."""
    from axes.models import AccessAttempt
    from axes.utils import reset

    usernames = list(organisation.memberships.values_list("user__username", flat=True))
    attempt = AccessAttempt.objects.filter(pk=attempt_id, username__in=usernames).first()
    if attempt is None:
        return False
    before = {"username": attempt.username, "ip_address": attempt.ip_address, "failures": attempt.failures_since_start}
    reset(ip=attempt.ip_address, username=attempt.username)
    audit_log_write(
        organisation=organisation,
        actor=actor,
        action="lockout.reset",
        object_type="login_lockout",
        object_id=str(attempt_id),
        before=before,
    )
    return True
