"""ESRS report pages: report list and generation, detail with progress, sign-off, downloads, settings.

Access (issue 7): officers generate, sign and edit settings; auditors see and download signed reports
and their lineage only; engineers and outsiders get 404 (the organisation's reports do not exist for
them); an auditor posting to an officer action gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from greenesg.accounts.access import Capability, OrgAccess, org_access_for_request
from greenesg.http import AuthedHttpRequest
from greenesg.lib.downloads import attachment_response
from ingestion import storage
from ingestion.forms import LimitedUploadHandler, display_name
from ingestion.storage import UploadTooLarge
from reports.esrs import forms as report_forms
from reports.esrs import preview as report_preview
from reports.esrs import selectors as report_selectors
from reports.esrs import services as report_services
from reports.models import (
    SCOPE3_CATEGORIES,
    ArtifactFormat,
    ContractualInstrument,
    OtherActivity,
    OtherActivityImport,
    QuarterRevenue,
    ReductionTarget,
    Report,
    ReportArtifact,
    ReportingSettings,
    ReportStatus,
    ResidualMixFactor,
    Scope3Screening,
)


def _get_reports_access(request: HttpRequest, org_slug: str, *, manage: Capability | None = None) -> OrgAccess:
    access = org_access_for_request(request, org_slug)
    if not access.can(Capability.VIEW_REPORTS):
        raise Http404("No such organisation")
    if manage is not None and not access.can(manage):
        raise PermissionDenied("Only officers enter report settings and generate or sign reports; auditors read them.")
    return access


def _visible_reports(access: OrgAccess) -> models.QuerySet[Report]:
    reports = Report.objects.filter(organisation=access.organisation)
    if not access.can(Capability.VIEW_DRAFT_REPORTS):
        reports = reports.filter(status=ReportStatus.SIGNED)
    return reports


def _get_report_for_user(access: OrgAccess, pk: int) -> Report:
    reports = _visible_reports(access)
    report = reports.select_related("created_by", "signed_by", "restates").filter(pk=pk).first()
    if report is None:
        raise Http404("No such report")
    return report


def _crumbs(access: OrgAccess, *extra: tuple[str, str | None]) -> list[dict[str, Any]]:
    org = access.organisation
    items = [
        {"label": org.name, "url": reverse("org-overview", args=[org.slug])},
        {"label": "ESRS reports", "url": reverse("esrs-reports", args=[org.slug])},
    ]
    return items + [{"label": label, "url": url} for label, url in extra]


@login_required
@require_http_methods(["GET", "POST"])
def report_list(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    access = _get_reports_access(
        request, org_slug, manage=Capability.MANAGE_REPORTS if request.method == "POST" else None
    )
    picker = report_selectors.report_period_choices(organisation=access.organisation)
    form = report_forms.ReportCreateForm(
        request.POST or None, period_choices=picker["choices"], initial={"period": picker["initial"]}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                report = report_services.report_create(
                    organisation=access.organisation,
                    period_text=form.cleaned_data["period"],
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except report_services.ReportError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("esrs-report-detail", org_slug=org_slug, pk=report.pk)
        status = 400
    reports = _visible_reports(access).select_related("signed_by", "restates")
    context = {"access": access, "form": form, "reports": reports[:200], "breadcrumbs": _crumbs(access)}
    return render(request, "reports/esrs/reports.html", context, status=status)


@login_required
def report_detail(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    access = _get_reports_access(request, org_slug)
    report = _get_report_for_user(access, pk)
    artifacts = {a.format: a for a in report.artifacts.all()}
    context = {
        "access": access,
        "report": report,
        "pdf": artifacts.pop(ArtifactFormat.PDF, None),
        "preview": artifacts.pop(ArtifactFormat.PREVIEW, None),
        "preview_available": report_preview.preview_available(),
        "artifacts": list(artifacts.values()),
        "headline": report_selectors.report_headline(report=report),
        "working": report.status in (ReportStatus.DRAFT, ReportStatus.GENERATING),
        "breadcrumbs": _crumbs(access, (f"{report.period} v{report.version}", None)),
    }
    return render(request, "reports/esrs/report_detail.html", context)


def _fix_url(org_slug: str, fix: str) -> str:
    """Where an open item of the sign-off list is fixed."""
    if fix == "esg":
        return reverse("esg-overview", args=[org_slug])
    if fix == "billing":
        return reverse("billing-home", args=[org_slug])
    if fix == "instruments":
        return reverse("esrs-settings-section", args=[org_slug, "residual-mix"])
    if fix == "factors":
        return reverse("esg-factor-requests", args=[org_slug])
    return reverse("esrs-settings", args=[org_slug])


@login_required
@require_http_methods(["GET", "POST"])
def report_sign(request: AuthedHttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """GET: what is still open, and a confirmation; POST with the confirmation: sign (see report_services)."""
    access = _get_reports_access(request, org_slug, manage=Capability.SIGN_REPORTS)
    report = _get_report_for_user(access, pk)
    items = report_selectors.report_open_items(report=report)
    confirmed = request.POST.get("confirm") == "yes"
    if request.method == "POST" and confirmed:
        try:
            report_services.report_sign(report=report, user=request.user, acknowledged=[i.code for i in items])
        except (report_services.ReportError, report_services.ArtifactTampered) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Report {report.period} v{report.version} signed and frozen.")
        return redirect("esrs-report-detail", org_slug=org_slug, pk=pk)
    context = {
        "access": access,
        "report": report,
        "items": [{"item": i, "url": _fix_url(org_slug, i.fix)} for i in items],
        "unconfirmed": request.method == "POST",
        "breadcrumbs": _crumbs(
            access,
            (f"{report.period} v{report.version}", reverse("esrs-report-detail", args=[org_slug, pk])),
            ("Sign off", None),
        ),
    }
    return render(request, "reports/esrs/report_sign.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET"])
def report_view(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """The report as a web page, from its stored inputs: each E1-6 figure links to the ledger rows it sums."""
    access = _get_reports_access(request, org_slug)
    report = _get_report_for_user(access, pk)
    if not report.inputs or report.status not in (ReportStatus.READY, ReportStatus.SIGNED):
        raise Http404("This report has not been generated yet.")
    html = report_services.report_web_html(report=report, records_url=reverse("org-records", args=[org_slug]))
    return HttpResponse(html)


@login_required
def report_download(request: HttpRequest, org_slug: str, pk: int, fmt: str) -> HttpResponseBase:
    access = _get_reports_access(request, org_slug)
    report = _get_report_for_user(access, pk)
    artifact = ReportArtifact.objects.filter(report=report, format=fmt).first()
    if artifact is None:
        raise Http404("No such document")
    data = report_services.artifact_verify(artifact)
    name = report_services.DOCUMENT_NAMES[ArtifactFormat(fmt)]
    filename = f"{access.organisation.slug}-{report.period}-v{report.version}-{name}"
    response = attachment_response(data, filename=filename, content_type=report_services.CONTENT_TYPES[fmt])
    response["X-Content-SHA256"] = artifact.sha256
    return response


# ------------------------------------------------------------------------------------------- settings


@login_required
@require_http_methods(["GET", "POST"])
def settings_general(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    access = _get_reports_access(request, org_slug, manage=Capability.MANAGE_REPORTS)
    stored = ReportingSettings.objects.filter(organisation=access.organisation).first()
    # Show what is stored, nothing else: an unsaved object filled with the organisation's name and the
    # model's NACE default made the page look configured while every report said it was not.
    instance = stored or ReportingSettings(organisation=access.organisation, legal_name="", nace_code="")
    form = report_forms.ReportingSettingsForm(
        request.POST or None, instance=instance, suggested_legal_name=access.organisation.name
    )
    if request.method == "POST" and form.is_valid():
        report_services.settings_object_save(
            instance=form.save(commit=False), user=request.user, organisation=access.organisation
        )
        messages.success(request, "Reporting settings saved.")
        return redirect("esrs-settings", org_slug=org_slug)
    context = {
        "access": access,
        "form": form,
        "stored": stored,
        "sections": SECTIONS,
        "breadcrumbs": _crumbs(access, ("Settings", None)),
    }
    return render(request, "reports/esrs/settings.html", context, status=400 if form.errors else 200)


@dataclass(frozen=True)
class Section:
    model: type[models.Model]
    form: type[Any]
    title: str
    columns: tuple[str, ...]
    help: str = ""


SECTIONS: dict[str, Section] = {
    "targets": Section(
        ReductionTarget,
        report_forms.ReductionTargetForm,
        "Reduction targets (E1-4)",
        ("scope", "target_year", "reduction_percent", "absolute_target_t", "science_based"),
    ),
    "revenue": Section(
        QuarterRevenue,
        report_forms.QuarterRevenueForm,
        "Net revenue per quarter",
        ("fiscal_year", "quarter", "revenue_used", "revenue_other", "statement_reference"),
        "Net revenue used for GHG intensity and the rest, reconciled to the financial statements (AR 55).",
    ),
    "instruments": Section(
        ContractualInstrument,
        report_forms.ContractualInstrumentForm,
        "Contractual instruments (market-based Scope 2)",
        ("instrument_type", "mwh", "market", "consumption_start", "consumption_end", "evidence_name"),
    ),
    "residual-mix": Section(
        ResidualMixFactor,
        report_forms.ResidualMixFactorForm,
        "Residual-mix factors",
        ("zone", "year", "g_co2e_per_kwh", "nuclear_share_percent", "source", "version"),
    ),
    "other": Section(
        OtherActivity,
        report_forms.OtherActivityForm,
        "Other activities",
        ("description", "scope", "category", "quantity", "unit", "stated_kgco2e", "period_end", "evidence_name"),
        "Office electricity, heating fuel, business travel, purchased hardware … They enter the ledger as "
        "source 'other' with natural key other:<id>.",
    ),
}


def _section_form(section: Section, access: OrgAccess, data: Any = None, files: Any = None) -> Any:
    if section.form is report_forms.OtherActivityForm:
        return section.form(data, files, organisation=access.organisation)
    return section.form(data, files)


@login_required
@require_http_methods(["GET", "POST"])
def settings_section(request: AuthedHttpRequest, org_slug: str, section: str) -> HttpResponse:
    access = _get_reports_access(request, org_slug, manage=Capability.MANAGE_REPORTS)
    spec = SECTIONS.get(section)
    if spec is None:
        raise Http404("No such section")
    form = _section_form(spec, access, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        instance = form.save(commit=False)
        instance.organisation = access.organisation
        evidence = form.cleaned_data.get("evidence_file")
        try:
            if isinstance(instance, OtherActivity):
                report_services.other_activity_save(activity=instance, user=request.user, evidence=evidence)
            else:
                report_services.settings_object_save(
                    instance=instance, user=request.user, organisation=access.organisation, evidence=evidence
                )
        except report_services.ReportError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Saved.")
            return redirect("esrs-settings-section", org_slug=org_slug, section=section)
    objects = spec.model._default_manager.filter(organisation=access.organisation)[:500]
    rows = [{"pk": o.pk, "cells": [_display(o, c) for c in spec.columns]} for o in objects]
    context = {
        "access": access,
        "section": section,
        "spec": spec,
        "form": form,
        "headers": [_header(spec.model, c) for c in spec.columns],
        "rows": rows,
        "breadcrumbs": _crumbs(access, ("Settings", reverse("esrs-settings", args=[org_slug])), (spec.title, None)),
    }
    return render(request, "reports/esrs/settings_section.html", context, status=400 if form.errors else 200)


def _header(model: type[models.Model], column: str) -> Any:
    field = model._meta.get_field(column)
    # Section columns are the model's own fields; a reverse relation (never listed) has no verbose name.
    return field.verbose_name if isinstance(field, models.Field) else column


def _display(obj: models.Model, column: str) -> Any:
    getter = getattr(obj, f"get_{column}_display", None)
    return getter() if getter else getattr(obj, column)


@login_required
@require_POST
def settings_delete(request: AuthedHttpRequest, org_slug: str, section: str, pk: int) -> HttpResponse:
    access = _get_reports_access(request, org_slug, manage=Capability.MANAGE_REPORTS)
    spec = SECTIONS.get(section)
    instance = spec.model._default_manager.filter(organisation=access.organisation, pk=pk).first() if spec else None
    if instance is None:
        raise Http404("No such item")
    if isinstance(instance, OtherActivity):
        report_services.other_activity_delete(activity=instance, user=request.user)
    else:
        report_services.settings_object_delete(instance=instance, user=request.user, organisation=access.organisation)
    messages.success(request, "Deleted.")
    return redirect("esrs-settings-section", org_slug=org_slug, section=section)


@login_required
@require_http_methods(["GET", "POST"])
def settings_screening(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    access = _get_reports_access(request, org_slug, manage=Capability.MANAGE_REPORTS)
    existing = {s.category: s for s in Scope3Screening.objects.filter(organisation=access.organisation)}
    initial = [
        {
            "category": code,
            "included": existing[code].included if code in existing else False,
            "reason": existing[code].reason if code in existing else "",
            "method": existing[code].method if code in existing else "",
            "screened_on": existing[code].screened_on if code in existing else None,
        }
        for code, _ in SCOPE3_CATEGORIES
    ]
    formset = report_forms.Scope3ScreeningFormSet(request.POST or None, initial=initial)
    if request.method == "POST" and formset.is_valid():
        rows = [f.cleaned_data for f in formset.forms if f.cleaned_data.get("category") in dict(SCOPE3_CATEGORIES)]
        report_services.scope3_screening_save(organisation=access.organisation, rows=rows, user=request.user)
        messages.success(request, "Scope 3 screening saved.")
        return redirect("esrs-screening", org_slug=org_slug)
    labels = dict(SCOPE3_CATEGORIES)
    context = {
        "access": access,
        "formset": formset,
        "rows": [(labels.get(str(f.initial.get("category")), ""), f) for f in formset.forms],
        "breadcrumbs": _crumbs(access, ("Settings", reverse("esrs-settings", args=[org_slug])), ("Scope 3", None)),
    }
    return render(request, "reports/esrs/screening.html", context, status=400 if formset.errors else 200)


@csrf_exempt  # CSRF is checked by _other_import_post once our upload handlers are installed (Django docs)
@login_required
@require_http_methods(["GET", "POST"])
def other_import(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    # Membership and role are checked before a byte of the body is read (docs/security.md §5).
    access = _get_reports_access(request, org_slug, manage=Capability.MANAGE_REPORTS)
    if request.method != "POST":
        return _other_import_page(request, access, report_forms.CsvImportForm())
    # Stream the body to a temporary file, counting bytes: the file is parsed by the worker, never here.
    request.upload_handlers = [LimitedUploadHandler(request), TemporaryFileUploadHandler(request)]
    try:
        return _other_import_post(request, access)
    except UploadTooLarge as exc:
        return _other_import_page(request, access, report_forms.CsvImportForm(), too_large=str(exc), status=413)


@csrf_protect
def _other_import_post(request: AuthedHttpRequest, access: OrgAccess) -> HttpResponse:
    form = report_forms.CsvImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _other_import_page(request, access, form, status=400)
    upload = form.cleaned_data["file"]
    stored = storage.store_chunks(upload.chunks())  # streamed and hashed; the cap applies again here
    submission = report_services.other_activities_import_submit(
        organisation=access.organisation, stored=stored, original_name=display_name(upload.name), user=request.user
    )
    if not submission.created:
        messages.info(request, "This file was already uploaded; it is not imported twice. Here is that import.")
    return redirect("esrs-other-import-detail", org_slug=access.organisation.slug, pk=submission.job.pk)


def _other_import_page(
    request: HttpRequest,
    access: OrgAccess,
    form: report_forms.CsvImportForm,
    *,
    too_large: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "access": access,
        "form": form,
        "too_large": too_large,
        "jobs": OtherActivityImport.objects.filter(organisation=access.organisation)[:20],
        "columns": report_services.OTHER_CSV_COLUMNS,
        "breadcrumbs": _other_crumbs(access),
    }
    return render(request, "reports/esrs/other_import.html", context, status=status)


def _other_crumbs(access: OrgAccess, *extra: tuple[str, str | None]) -> list[dict[str, Any]]:
    slug = access.organisation.slug
    return _crumbs(
        access,
        ("Other activities", reverse("esrs-settings-section", args=[slug, "other"])),
        ("Import from CSV", reverse("esrs-other-import", args=[slug]) if extra else None),
        *extra,
    )


def _get_other_import_for_user(access: OrgAccess, pk: int) -> OtherActivityImport:
    job = OtherActivityImport.objects.filter(organisation=access.organisation, pk=pk).first()
    if job is None:
        raise Http404("No such import")
    return job


@login_required
def other_import_detail(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    access = _get_reports_access(request, org_slug, manage=Capability.MANAGE_REPORTS)
    job = _get_other_import_for_user(access, pk)
    context = {
        "access": access,
        "job": job,
        "working": not job.is_finished,
        "breadcrumbs": _other_crumbs(access, (job.original_name, None)),
    }
    return render(request, "reports/esrs/other_import_detail.html", context)


def latest_signed(organisation: Any, period: str) -> Report | None:
    return report_selectors.latest_signed_report(organisation=organisation, period_label=period)
