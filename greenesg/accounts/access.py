"""Scoped fetches and the capabilities table: the one place where access is decided.

Every view, API endpoint and download fetches its organisation or project through these functions,
so an outsider gets 404 everywhere, never a hint that the object exists. Inside an organisation, what a
member may do is a capability of their role, looked up in ROLE_CAPABILITIES; views, services, templates and
navigation ask for a capability and never compare roles themselves (docs/security.md §2), so a new role or a
changed right is one row of that table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from greenesg.accounts.models import Membership, Organisation, Project, Role


class Capability(StrEnum):
    """One right inside an organisation; the value is the name templates use (`access|can:"manage_esg"`)."""

    # Reading
    VIEW_WHOLE_ORG = "view_whole_org"  # every project, plus pages that total the organisation (billing, quality)
    VIEW_REPORTS = "view_reports"  # the ESRS report pages (404 without it: engineers never learn of them)
    VIEW_DRAFT_REPORTS = "view_draft_reports"  # reports before signing; without it, signed reports only
    VIEW_ESG = "view_esg"  # organisation S1/G1 data: pay, headcount, incidents
    VIEW_MEMBERS = "view_members"
    VIEW_AUDIT_LOG = "view_audit_log"
    # Writing into a project the member can see
    WRITE_PROJECT_DATA = "write_project_data"  # imports, live records, reviews, SCI counts, region decisions
    MANAGE_TOKENS = "manage_tokens"
    RECEIVE_BUDGET_ALERTS = "receive_budget_alerts"  # for the projects the member can see
    # Writing for the whole organisation
    MANAGE_PROJECTS = "manage_projects"  # create projects, change their settings
    MANAGE_MEMBERS = "manage_members"  # add, change and remove members, lift lock-outs
    MANAGE_BILLING = "manage_billing"  # billing imports and attribution rules
    MANAGE_REPORTS = "manage_reports"  # create reports, reporting settings, other-activity imports
    SIGN_REPORTS = "sign_reports"
    MANAGE_ESG = "manage_esg"  # enter, import and delete values, close and reopen periods, ESG settings
    APPROVE_VALUES = "approve_values"  # approve or reject submitted ESG values (never one's own: a service rule)
    MANAGE_FACTORS = "manage_factors"  # propose and decide the organisation's factor-set changes
    MANAGE_BUDGETS = "manage_budgets"  # budgets, organisation target, project steering settings


C = Capability
# Reading the whole organisation: the auditor's rights, and the officer's before any writing.
_READ_ALL = frozenset({C.VIEW_WHOLE_ORG, C.VIEW_REPORTS, C.VIEW_ESG, C.VIEW_MEMBERS, C.VIEW_AUDIT_LOG})

# The product's roles (docs/security.md §2): the officer runs the organisation's reporting, the engineer
# writes into their own projects, the auditor reads everything (signed reports only) and writes nothing.
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.OFFICER: _READ_ALL
    | {
        C.VIEW_DRAFT_REPORTS,
        C.WRITE_PROJECT_DATA,
        C.MANAGE_TOKENS,
        C.RECEIVE_BUDGET_ALERTS,
        C.MANAGE_PROJECTS,
        C.MANAGE_MEMBERS,
        C.MANAGE_BILLING,
        C.MANAGE_REPORTS,
        C.SIGN_REPORTS,
        C.MANAGE_ESG,
        C.APPROVE_VALUES,
        C.MANAGE_FACTORS,
        C.MANAGE_BUDGETS,
    },
    Role.ENGINEER: frozenset({C.WRITE_PROJECT_DATA, C.MANAGE_TOKENS, C.RECEIVE_BUDGET_ALERTS}),
    Role.AUDITOR: _READ_ALL,
}
del C


def role_capabilities(role: str) -> frozenset[Capability]:
    """What a role may do; an unknown role (a stale row) may do nothing."""
    return ROLE_CAPABILITIES.get(role, frozenset())


def roles_with(capability: Capability) -> frozenset[str]:
    """The roles holding a capability, for queries over memberships (`role__in=roles_with(...)`)."""
    return frozenset(role for role, caps in ROLE_CAPABILITIES.items() if capability in caps)


def capability_has(membership: Membership | None, capability: Capability) -> bool:
    return membership is not None and capability in role_capabilities(membership.role)


def member_can(*, organisation: Organisation, user: User | AnonymousUser | None, capability: Capability) -> bool:
    """For services called outside a view (API, CLI, tasks): does this user hold the capability here?"""
    if user is None or isinstance(user, AnonymousUser):  # no membership row either way
        return False
    membership = Membership.objects.filter(organisation=organisation, user_id=user.pk).first()
    return capability_has(membership, capability)


@dataclass(frozen=True)
class OrgAccess:
    organisation: Organisation
    membership: Membership

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def caps(self) -> frozenset[Capability]:
        return role_capabilities(self.role)

    def can(self, capability: Capability) -> bool:
        return capability in self.caps

    def visible_projects(self) -> QuerySet[Project]:
        if self.can(Capability.VIEW_WHOLE_ORG):
            return self.organisation.projects.all()
        return self.membership.projects.filter(organisation=self.organisation)


@dataclass(frozen=True)
class ProjectAccess:
    """A project the member can see. Project-level rights come from the role too: an engineer reaches a
    ProjectAccess only for their own projects, so WRITE_PROJECT_DATA here means "into this project"."""

    org: OrgAccess
    project: Project

    @property
    def caps(self) -> frozenset[Capability]:
        return self.org.caps

    def can(self, capability: Capability) -> bool:
        return self.org.can(capability)


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


def org_access_for_request(request: HttpRequest, org_slug: str) -> OrgAccess:
    """`org_access_for_user` for the request's user, keeping the membership on the request: the navigation
    (greenesg/accounts/context_processors.py) reads it there instead of querying it again for the same page."""
    access = org_access_for_user(request.user, org_slug)
    request.org_membership = access.membership  # type: ignore[attr-defined]
    return access


def project_access_for_request(request: HttpRequest, org_slug: str, project_slug: str) -> ProjectAccess:
    """`project_access_for_user` for the request's user, keeping the membership as `org_access_for_request`."""
    access = project_access_for_user(request.user, org_slug, project_slug)
    request.org_membership = access.org.membership  # type: ignore[attr-defined]
    return access


def memberships_for_user(user: User | AnonymousUser) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.select_related("organisation").filter(user=user).order_by("organisation__name")
