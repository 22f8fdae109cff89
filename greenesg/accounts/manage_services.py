"""Officer writes: project settings and memberships, each with a before → after audit entry."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction

from greenesg.accounts.models import Membership, Organisation, Project
from greenesg.accounts.services import audit_log_write

PROJECT_FIELDS = ("slug", "name", "team", "host_timezone", "infrastructure", "site_pue", "inventory_source")


def _project_state(project: Project) -> dict[str, Any]:
    return {name: getattr(project, name) for name in PROJECT_FIELDS}


@transaction.atomic
def project_save(*, project: Project, actor: AbstractBaseUser, before: dict[str, Any] | None) -> Project:
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
    *, organisation: Organisation, user: User, role: str, projects: list[Project], actor: AbstractBaseUser
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
def membership_remove(*, membership: Membership, actor: AbstractBaseUser) -> None:
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
