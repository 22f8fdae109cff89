"""Navigation of the organisation the page belongs to, by capability (links only to what the user may open)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from greenesg.accounts.access import Capability, capability_has
from greenesg.accounts.models import Membership
from greenesg.accounts.nav_badges import nav_badge_counts

# (url name, label, capability needed or None for every member); missing URL names are skipped, so apps can
# come and go. Each capability is the one the page's view checks, so a link is never a 403.
ORG_LINKS: tuple[tuple[str, str, Capability | None], ...] = (
    ("org-overview", "Overview", None),
    ("my-projects", "My projects", None),
    ("esg-overview", "ESG", Capability.VIEW_ESG),  # S1/G1 data: pay, incidents
    ("esg-inbox", "Approvals", Capability.APPROVE_VALUES),  # values, factor changes and reports awaiting me
    ("steering-org-budgets", "Budgets", None),
    ("steering-org-recommendations", "Savings", None),  # each member sees the projects they can see
    ("billing-home", "Cloud billing", Capability.VIEW_WHOLE_ORG),
    ("esrs-reports", "Reports", Capability.VIEW_REPORTS),
    ("data-quality", "Data quality", Capability.VIEW_WHOLE_ORG),
    ("org-members", "Members", Capability.VIEW_MEMBERS),
    ("org-audit", "Audit log", Capability.VIEW_AUDIT_LOG),
)


def org_navigation(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    org_slug = match.kwargs.get("org_slug") if match else None
    if not org_slug or not request.user.is_authenticated:
        return {}
    # A view that checked access with `org_access_for_request` / `project_access_for_request` left the membership it
    # read on the request (on a cached page this second query was a tenth of the CPU); any other page reads it here.
    membership: Membership | None = getattr(request, "org_membership", None)
    if membership is None or membership.user_id != request.user.pk or membership.organisation.slug != org_slug:
        membership = (
            Membership.objects.select_related("organisation")
            .filter(user=request.user, organisation__slug=org_slug)
            .first()
        )
    if membership is None:
        return {}
    # Badges (greenesg/accounts/nav_badges.py): cached per member until a counted row changes.
    badges = nav_badge_counts(membership, request.user) if isinstance(request.user, User) else {}
    links = []
    for name, label, needed in ORG_LINKS:
        if needed is not None and not capability_has(membership, needed):
            continue
        try:
            url = reverse(name, args=[org_slug])
        except NoReverseMatch:
            continue
        links.append({"url": url, "label": label, "current": request.path == url, "badge": badges.get(name, 0)})
    return {"org_nav": links}
