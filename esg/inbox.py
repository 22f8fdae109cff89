"""The approvals inbox: everything waiting for one officer on one page.

Submitted S/G values and factor-set change requests (both four-eyes: the submitter never decides their own)
and ESRS reports ready for sign-off. Values and factor changes are decided here through the same services as
on their own pages; a report is signed only on its confirmation page, which lists its open items, so the inbox
links there. Each app's pending items are read through that app's selectors.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from esg import selectors, services
from esg.catalogue import catalogue
from esg.forms import BulkApproveForm, ReasonForm, RejectForm
from esg.models import FactorSetChangeRequest, MetricValue
from greenesg.accounts.access import Capability, OrgAccess, capability_has, org_access_for_request
from greenesg.accounts.models import Membership
from greenesg.http import AuthedHttpRequest
from reports.esrs.selectors import reports_awaiting_signoff


def _actionable(membership: Membership, user: User) -> list[QuerySet[Any]]:
    """The pending items this member may act on now, one queryset per kind (their own submissions excluded)."""
    org = membership.organisation
    parts: list[QuerySet[Any]] = [selectors.values_awaiting_approval(organisation=org).exclude(submitted_by=user)]
    if capability_has(membership, Capability.MANAGE_FACTORS):
        parts.append(selectors.factor_changes_pending(organisation=org).exclude(requested_by=user))
    if capability_has(membership, Capability.SIGN_REPORTS):
        parts.append(reports_awaiting_signoff(organisation=org))
    return parts


def inbox_count(membership: Membership, user: User) -> int:
    """The navigation badge: items waiting for this member, in one COUNT over a UNION ALL of the kinds."""
    if not capability_has(membership, Capability.APPROVE_VALUES):
        return 0
    first, *rest = [qs.order_by().values_list("pk") for qs in _actionable(membership, user)]
    return first.union(*rest, all=True).count() if rest else first.count()


def _approver(request: HttpRequest, org_slug: str, needed: Capability = Capability.APPROVE_VALUES) -> OrgAccess:
    access = org_access_for_request(request, org_slug)
    if not access.can(needed):
        raise PermissionDenied("The approvals inbox is for officers who approve values.")
    return access


def _context(access: OrgAccess, user: User, **extra: Any) -> dict[str, Any]:
    org = access.organisation
    metrics = catalogue().metrics
    values = [
        {
            "value": value,
            "name": metrics[value.metric_code].name if value.metric_code in metrics else value.metric_code,
            "url": reverse("esg-metric", args=[org.slug, value.period, value.metric_code]),
            "own": value.submitted_by_id == user.pk,
        }
        for value in selectors.values_awaiting_approval(organisation=org)
    ]
    can_factors, can_sign = access.can(Capability.MANAGE_FACTORS), access.can(Capability.SIGN_REPORTS)
    return {
        "access": access,
        "org": org,
        "values": values,
        "approvable": sum(1 for row in values if not row["own"]),
        "factor_changes": list(selectors.factor_changes_pending(organisation=org)) if can_factors else None,
        "reports": list(reports_awaiting_signoff(organisation=org)) if can_sign else None,
        "reason_form": ReasonForm(),
        "breadcrumbs": [
            {"label": org.name, "url": reverse("org-overview", args=[org.slug])},
            {"label": "Approvals", "url": ""},
        ],
        **extra,
    }


def _again(request: AuthedHttpRequest, access: OrgAccess, message: str, status: int) -> HttpResponse:
    """The inbox again with what went wrong: 400 for bad input, 409 when the item changed meanwhile."""
    messages.error(request, message)
    return render(request, "esg/inbox.html", _context(access, request.user), status=status)


@login_required
@require_GET
def esg_inbox(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    access = _approver(request, org_slug)
    return render(request, "esg/inbox.html", _context(access, request.user))


@login_required
@require_POST
def esg_inbox_value_decide(request: AuthedHttpRequest, org_slug: str, pk: int, action: str) -> HttpResponse:
    access = _approver(request, org_slug)
    value = get_object_or_404(MetricValue, pk=pk, organisation=access.organisation)
    try:
        if action == "approve":
            services.metric_value_approve(value=value, actor=request.user)
        else:
            form = RejectForm(request.POST)
            if not form.is_valid():
                return _again(request, access, f"{value.metric_code} ({value.period}): {form.errors['reason'][0]}", 400)
            services.metric_value_reject(value=value, actor=request.user, reason=form.cleaned_data["reason"])
    except services.EsgConflict as exc:
        return _again(request, access, f"{value.metric_code} ({value.period}): {exc}", 409)
    messages.success(request, f"{value.metric_code} ({value.period}): {action}d.")
    return redirect("esg-inbox", org_slug)


@login_required
@require_POST
def esg_inbox_values_approve(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    access = _approver(request, org_slug)
    queryset = selectors.values_awaiting_approval(organisation=access.organisation)
    form = BulkApproveForm(request.POST, queryset=queryset)
    if not form.is_valid():
        return _again(request, access, " ".join(str(error) for error in form.errors["value"]), 400)
    outcome = services.metric_values_approve_bulk(values=form.cleaned_data["value"], actor=request.user)
    if outcome.approved:
        messages.success(request, f"{len(outcome.approved)} value(s) approved.")
    if outcome.skipped_own:
        codes = ", ".join(f"{v.metric_code} ({v.period})" for v in outcome.skipped_own)
        messages.warning(request, f"Skipped {len(outcome.skipped_own)} you submitted (four-eyes): {codes}.")
    for value, reason in outcome.conflicts:
        messages.error(request, f"{value.metric_code} ({value.period}) not approved: {reason}")
    return redirect("esg-inbox", org_slug)


@login_required
@require_POST
def esg_inbox_factor_decide(request: AuthedHttpRequest, org_slug: str, pk: int, action: str) -> HttpResponse:
    access = _approver(request, org_slug, Capability.MANAGE_FACTORS)
    change = get_object_or_404(FactorSetChangeRequest, pk=pk, organisation=access.organisation)
    label = change.factor_set.label
    try:
        if action == "approve":
            form = ReasonForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            services.factor_set_change_approve(request=change, actor=request.user, reason=reason)
        else:
            reject = RejectForm(request.POST)
            if not reject.is_valid():
                return _again(request, access, f"{label}: {reject.errors['reason'][0]}", 400)
            services.factor_set_change_reject(request=change, actor=request.user, reason=reject.cleaned_data["reason"])
    except services.EsgConflict as exc:
        return _again(request, access, f"{label}: {exc}", 409)
    messages.success(request, f"{label}: {action}d.")
    return redirect("esg-inbox", org_slug)
