"""Billing pages of an organisation: upload and deliveries, attribution rules, reconciliation.

Billing exports cover a whole organisation (accounts, subscriptions, GCP projects), so these pages are
org-level: officers read and write, auditors read, engineers get 403 and outsiders 404 (the scoped
fetches below decide it in one place, docs/security.md §2). Every rule write is audited and
re-attributes.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from greenesg.accounts.access import Capability, OrgAccess, org_access_for_request
from greenesg.http import AuthedHttpRequest
from ingestion import storage
from ingestion.billing.attribution import targets_format
from ingestion.billing.forms import AttributionRuleForm, BillingUploadForm
from ingestion.forms import LimitedUploadHandler, display_name
from ingestion.models import AttributionRule, BillingDelivery, JobOrigin
from ingestion.storage import UploadTooLarge

DELIVERIES_PER_PAGE = 50


# ---------------------------------------------------------------------------------------------- scoped fetches


def _get_org_for_reader(request: HttpRequest, org_slug: str) -> OrgAccess:
    access = org_access_for_request(request, org_slug)  # 404 first: never reveal existence
    if not access.can(Capability.VIEW_WHOLE_ORG):
        raise PermissionDenied("Billing data covers the whole organisation: officers and auditors only.")
    return access


def _get_org_for_officer(request: HttpRequest, org_slug: str) -> OrgAccess:
    access = _get_org_for_reader(request, org_slug)
    if not access.can(Capability.MANAGE_BILLING):
        raise PermissionDenied("Only officers can change billing data.")
    return access


def _get_rule_for_officer(request: HttpRequest, org_slug: str, pk: int) -> tuple[OrgAccess, AttributionRule]:
    access = _get_org_for_officer(request, org_slug)
    rule = AttributionRule.objects.filter(organisation=access.organisation, pk=pk).first()
    if rule is None:
        raise Http404("No such rule")
    return access, rule


def _crumbs(access: OrgAccess, *tail: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        url = reverse("org-overview", args=[access.organisation.slug])
    except NoReverseMatch:
        url = ""
    return [{"label": access.organisation.name, "url": url}, *tail]


def _billing_crumb(access: OrgAccess) -> dict[str, Any]:
    return {"label": "Cloud billing", "url": reverse("billing-home", args=[access.organisation.slug])}


# ---------------------------------------------------------------------------------------------- upload


@csrf_exempt  # CSRF is checked by _upload_post once our upload handlers are installed (Django docs)
@login_required
@require_http_methods(["GET", "POST"])
def billing_home(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    if request.method != "POST":
        return _home_page(request, _get_org_for_reader(request, org_slug), BillingUploadForm())
    # Membership and role are checked before a byte of the body is read (docs/security.md §5).
    access = _get_org_for_officer(request, org_slug)
    request.upload_handlers = [LimitedUploadHandler(request), TemporaryFileUploadHandler(request)]
    try:
        return _upload_post(request, access)
    except UploadTooLarge as exc:
        return _home_page(request, access, BillingUploadForm(), too_large=str(exc), status=413)


@csrf_protect
def _upload_post(request: AuthedHttpRequest, access: OrgAccess) -> HttpResponse:
    from ingestion.billing.pipeline import billing_job_submit  # keeps the parsing stack off URL loading

    form = BillingUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _home_page(request, access, form, status=400)
    upload = form.cleaned_data["file"]
    stored = storage.store_chunks(upload.chunks())
    submission = billing_job_submit(
        organisation=access.organisation,
        origin=JobOrigin.UPLOAD,
        stored=stored,
        original_name=display_name(upload.name),
        created_by=request.user,
    )
    job = submission.job
    if not submission.created:
        messages.info(
            request,
            f"This file was already imported on {job.created_at:%Y-%m-%d %H:%M} UTC; "
            "nothing was changed. Here is that import.",
        )
    return redirect("import-detail", access.organisation.slug, job.pk)


def _home_page(
    request: HttpRequest, access: OrgAccess, form: BillingUploadForm, *, too_large: str = "", status: int = 200
) -> HttpResponse:
    deliveries = BillingDelivery.objects.filter(organisation=access.organisation).select_related("job")
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "access": access,
        "organisation": access.organisation,
        "form": form,
        "too_large": too_large,
        "page": page,
        "breadcrumbs": _crumbs(access, {"label": "Cloud billing"}),
    }
    return render(request, "ingestion/billing_home.html", context, status=status)


# ---------------------------------------------------------------------------------------------- rules


def _project_ids(access: OrgAccess) -> dict[str, int]:
    return dict(access.organisation.projects.values_list("slug", "id"))


def _rule_rows(access: OrgAccess) -> list[dict[str, Any]]:
    rules = AttributionRule.objects.filter(organisation=access.organisation).prefetch_related("targets__project")
    return [
        {
            "rule": r,
            "targets": [(t.project, t.percent) for t in r.targets.all()],
            "unallocated": max(100.0 - sum(t.percent for t in r.targets.all()), 0.0),
        }
        for r in rules
    ]


@login_required
@require_http_methods(["GET", "POST"])
def billing_rules(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    from ingestion.billing.rules import attribution_rule_create

    if request.method != "POST":
        access = _get_org_for_reader(request, org_slug)
        return _rules_page(request, access, AttributionRuleForm(project_ids=_project_ids(access)))
    access = _get_org_for_officer(request, org_slug)
    form = AttributionRuleForm(request.POST, project_ids=_project_ids(access))
    if not form.is_valid():
        return _rules_page(request, access, form, status=400)
    attribution_rule_create(organisation=access.organisation, actor=request.user, data=form.cleaned_data)
    messages.success(request, "Rule added; billing data was re-attributed.")
    return redirect("billing-rules", org_slug)


def _rules_page(
    request: HttpRequest, access: OrgAccess, form: AttributionRuleForm, *, status: int = 200
) -> HttpResponse:
    context = {
        "access": access,
        "organisation": access.organisation,
        "rules": _rule_rows(access),
        "form": form,
        "breadcrumbs": _crumbs(access, _billing_crumb(access), {"label": "Attribution rules"}),
    }
    return render(request, "ingestion/billing_rules.html", context, status=status)


def _rule_initial(rule: AttributionRule) -> dict[str, Any]:
    targets = [(t.project.slug, t.percent) for t in rule.targets.select_related("project")]
    return {
        "provider": rule.provider,
        "match_field": rule.match_field,
        "tag_key": rule.tag_key,
        "match_value": rule.match_value,
        "note": rule.note,
        "targets": targets_format(targets),
    }


@login_required
@require_http_methods(["GET", "POST"])
def billing_rule_edit(request: AuthedHttpRequest, org_slug: str, pk: int) -> HttpResponse:
    from ingestion.billing.rules import attribution_rule_update

    access, rule = _get_rule_for_officer(request, org_slug, pk)
    if request.method == "POST":
        form = AttributionRuleForm(request.POST, project_ids=_project_ids(access))
        if form.is_valid():
            attribution_rule_update(rule=rule, actor=request.user, data=form.cleaned_data)
            messages.success(request, "Rule saved; billing data was re-attributed.")
            return redirect("billing-rules", org_slug)
    else:
        form = AttributionRuleForm(initial=_rule_initial(rule), project_ids=_project_ids(access))
    context = {
        "access": access,
        "organisation": access.organisation,
        "rule": rule,
        "form": form,
        "breadcrumbs": _crumbs(access, _billing_crumb(access), {"label": f"Rule #{rule.position}"}),
    }
    return render(request, "ingestion/billing_rule_form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def billing_rule_delete(request: AuthedHttpRequest, org_slug: str, pk: int) -> HttpResponse:
    from ingestion.billing.rules import attribution_rule_delete

    _, rule = _get_rule_for_officer(request, org_slug, pk)
    attribution_rule_delete(rule=rule, actor=request.user)
    messages.success(request, "Rule deleted; billing data was re-attributed.")
    return redirect("billing-rules", org_slug)


@login_required
@require_POST
def billing_rule_move(request: AuthedHttpRequest, org_slug: str, pk: int) -> HttpResponse:
    from ingestion.billing.rules import attribution_rule_move

    _, rule = _get_rule_for_officer(request, org_slug, pk)
    direction = request.POST.get("direction", "")
    if direction not in {"up", "down"}:
        return HttpResponse("direction must be up or down", status=400, content_type="text/plain")
    attribution_rule_move(rule=rule, actor=request.user, direction=direction)
    return redirect("billing-rules", org_slug)
