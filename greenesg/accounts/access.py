"""Scoped fetches: the one place where per-organisation and per-project access is decided.

Every view, API endpoint and download fetches its organisation or project through these functions,
so an outsider gets 404 everywhere, never a hint that the object exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404

from greenesg.accounts.models import Membership, Organisation, Project, Role


@dataclass(frozen=True)
class OrgAccess:
    organisation: Organisation
    membership: Membership

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def sees_whole_org(self) -> bool:
        return self.role in {Role.OFFICER, Role.AUDITOR}

    @property
    def can_manage(self) -> bool:
        return self.role == Role.OFFICER

    @property
    def can_read_audit_log(self) -> bool:
        return self.role in {Role.OFFICER, Role.AUDITOR}

    def visible_projects(self) -> QuerySet[Project]:
        if self.sees_whole_org:
            return self.organisation.projects.all()
        return self.membership.projects.filter(organisation=self.organisation)


@dataclass(frozen=True)
class ProjectAccess:
    org: OrgAccess
    project: Project

    @property
    def can_ingest(self) -> bool:
        # Officers ingest anywhere in their org, engineers into their own projects; auditors never write.
        return self.org.role in {Role.OFFICER, Role.ENGINEER}

    @property
    def can_manage_tokens(self) -> bool:
        return self.can_ingest


def org_access_for_user(user: User | AnonymousUser, org_slug: str) -> OrgAccess:
    if not user.is_authenticated:
        raise Http404("No such organisation")
    membership = (
        Membership.objects.select_related("organisation").filter(user=user, organisation__slug=org_slug).first()
    )
    if membership is None:
        raise Http404("No such organisation")
    return OrgAccess(organisation=membership.organisation, membership=membership)


def project_access_for_user(user: User | AnonymousUser, org_slug: str, project_slug: str) -> ProjectAccess:
    org = org_access_for_user(user, org_slug)
    project = org.visible_projects().filter(slug=project_slug).first()
    if project is None:
        raise Http404("No such project")
    return ProjectAccess(org=org, project=project)


def memberships_for_user(user: User | AnonymousUser) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.select_related("organisation").filter(user=user).order_by("organisation__name")
