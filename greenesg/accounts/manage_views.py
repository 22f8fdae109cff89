"""Officer pages: create and configure projects, manage members; the audit log for officers and auditors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from greenesg.accounts.access import Capability, OrgAccess, org_access_for_user, project_access_for_user
from greenesg.accounts.manage_forms import AuditFilterForm, MemberForm, ProjectSettingsForm
from greenesg.accounts.manage_services import (
    lockout_list,
    lockout_reset,
    membership_remove,
    membership_set,
    project_save,
    project_state,
)
from greenesg.accounts.models import Membership, Project
from greenesg.accounts.selectors import (
    AUDIT_CSV_HEADER,
    audit_entry_list,
    audit_export_rows,
    audit_filter_choices,
    audit_rows,
)
from greenesg.http import AuthedHttpRequest
from greenesg.lib.csv_safe import safe_csv_response


def _get_org_for(request: HttpRequest, org_slug: str, needed: Capability) -> OrgAccess:
    access = org_access_for_user(request.user, org_slug)  # 404 for outsiders before any 403
    if not access.can(needed):
        raise PermissionDenied("Only officers can change organisation settings.")
    return access


def _crumbs(access: OrgAccess, label: str) -> list[dict[str, str]]:
    return [
        {"label": access.organisation.name, "url": reverse("org-overview", args=[access.organisation.slug])},
        {"label": label, "url": ""},
    ]


@login_required
def project_create(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    access = _get_org_for(request, org_slug, Capability.MANAGE_PROJECTS)
    project = Project(organisation=access.organisation)
    form = ProjectSettingsForm(request.POST or None, instance=project, organisation=access.organisation)
    if request.method == "POST" and form.is_valid():
        project = project_save(project=form.save(commit=False), actor=request.user, before=None)
        messages.success(request, f"Project {project.name} created.")
        return redirect("project-detail", org_slug, project.slug)
    return render(
        request,
        "accounts/project_form.html",
        {"form": form, "access": access, "breadcrumbs": _crumbs(access, "New project"), "creating": True},
        status=400 if form.errors else 200,
    )


@login_required
def project_settings(request: AuthedHttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    project = project_access_for_user(request.user, org_slug, project_slug).project
    access = _get_org_for(request, org_slug, Capability.MANAGE_PROJECTS)
    before = project_state(project)
    form = ProjectSettingsForm(request.POST or None, instance=project, organisation=access.organisation)
    if request.method == "POST" and form.is_valid():
        project = project_save(project=form.save(commit=False), actor=request.user, before=before)
        messages.success(request, "Project settings saved. They apply to imports from now on.")
        return redirect("project-detail", org_slug, project.slug)
    return render(
        request,
        "accounts/project_form.html",
        {
            "form": form,
            "access": access,
            "project": project,
            "breadcrumbs": _crumbs(access, f"{project.name} settings"),
        },
        status=400 if form.errors else 200,
    )


@login_required
def org_members(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    access = org_access_for_user(request.user, org_slug)
    if not access.can(Capability.VIEW_MEMBERS):
        raise PermissionDenied("Only officers and auditors see the member list.")
    form = MemberForm(request.POST or None, organisation=access.organisation)
    if request.method == "POST":
        if not access.can(Capability.MANAGE_MEMBERS):
            raise PermissionDenied("Only officers can change members.")
        if form.is_valid():
            membership_set(
                organisation=access.organisation,
                user=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
                projects=list(form.cleaned_data["projects"]),
                actor=request.user,
            )
            messages.success(request, "Member saved.")
            return redirect("org-members", org_slug)
    memberships = access.organisation.memberships.select_related("user").prefetch_related("projects")
    return render(
        request,
        "accounts/members.html",
        {
            "access": access,
            "form": form,
            "memberships": memberships.order_by("user__username"),
            "lockouts": lockout_list(organisation=access.organisation) if access.can(Capability.MANAGE_MEMBERS) else [],
            "breadcrumbs": _crumbs(access, "Members"),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def member_remove(request: AuthedHttpRequest, org_slug: str, membership_id: int) -> HttpResponse:
    access = _get_org_for(request, org_slug, Capability.MANAGE_MEMBERS)
    membership = get_object_or_404(Membership, pk=membership_id, organisation=access.organisation)
    if membership.user_id == request.user.pk:
        messages.error(request, "You cannot remove yourself.")
    else:
        membership_remove(membership=membership, actor=request.user)
        messages.success(request, "Member removed.")
    return redirect("org-members", org_slug)


@login_required
@require_POST
def member_unlock(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    access = _get_org_for(request, org_slug, Capability.MANAGE_MEMBERS)
    try:
        attempt_id = int(request.POST.get("attempt", ""))
    except ValueError:
        raise Http404("No such lock-out") from None
    if not lockout_reset(organisation=access.organisation, attempt_id=attempt_id, actor=request.user):
        raise Http404("No such lock-out")  # not a member's record: do not say whether it exists
    messages.success(request, "Lock-out lifted: that user can log in again from that address.")
    return redirect("org-members", org_slug)


@login_required
@require_GET
def audit_log(request: AuthedHttpRequest, org_slug: str) -> HttpResponseBase:
    access = org_access_for_user(request.user, org_slug)  # 404 for outsiders before any 403
    if not access.can(Capability.VIEW_AUDIT_LOG):
        raise PermissionDenied("Only officers and auditors read the audit log.")
    organisation = access.organisation
    form = AuditFilterForm(request.GET, choices=audit_filter_choices(organisation=organisation))
    if not form.is_valid():
        context = {"access": access, "form": form, "breadcrumbs": _crumbs(access, "Audit log")}
        return render(request, "accounts/audit_log.html", context, status=400)
    entries = audit_entry_list(organisation=organisation, flt=form.audit_filter())
    if form.cleaned_data["format"] == "csv":
        rows = audit_export_rows(entries.iterator())
        return safe_csv_response(f"{org_slug}-audit-log.csv", AUDIT_CSV_HEADER, rows)
    page = Paginator(entries, 50).get_page(form.cleaned_data["page"])
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "accounts/audit_log.html",
        {
            "access": access,
            "form": form,
            "page": page,
            "rows": audit_rows(organisation=organisation, entries=list(page.object_list)),
            "query": query.urlencode(),
            "breadcrumbs": _crumbs(access, "Audit log"),
        },
    )
