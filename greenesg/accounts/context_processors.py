"""Navigation of the organisation the page belongs to, by role (links only to what the user may open)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from greenesg.accounts.models import Membership, Role

# (url name, label, roles that see it); missing URL names are skipped, so apps can come and go.
ORG_LINKS = (
    ("org-overview", "Overview", {Role.OFFICER, Role.ENGINEER, Role.AUDITOR}),
    ("my-projects", "My projects", {Role.OFFICER, Role.ENGINEER, Role.AUDITOR}),
    ("esg-overview", "ESG", {Role.OFFICER, Role.AUDITOR}),  # S1/G1 data: pay, incidents
    ("steering-org-budgets", "Budgets", {Role.OFFICER, Role.ENGINEER, Role.AUDITOR}),
    ("billing-home", "Cloud billing", {Role.OFFICER, Role.AUDITOR}),
    ("esrs-reports", "Reports", {Role.OFFICER, Role.AUDITOR}),
    ("data-quality", "Data quality", {Role.OFFICER, Role.AUDITOR}),
    ("org-members", "Members", {Role.OFFICER, Role.AUDITOR}),
    ("org-audit", "Audit log", {Role.OFFICER, Role.AUDITOR}),
)


def org_navigation(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    org_slug = match.kwargs.get("org_slug") if match else None
    if not org_slug or not request.user.is_authenticated:
        return {}
    membership = Membership.objects.filter(user=request.user, organisation__slug=org_slug).first()
    if membership is None:
        return {}
    links = []
    for name, label, roles in ORG_LINKS:
        if membership.role not in roles:
            continue
        try:
            url = reverse(name, args=[org_slug])
        except NoReverseMatch:
            continue
        links.append({"url": url, "label": label, "current": request.path == url})
    return {"org_nav": links}
