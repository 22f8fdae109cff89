"""ESG pages: organisation ESG page, period entry form, metric drill-down with approval history,
approve/reject/delete, period close/reopen, imports and templates, settings, factor-set change
requests, and the per-project scorecard.

Organisation-level ESG data (pay, incidents) is for officers and auditors; engineers open the
scorecards of their own projects (404 for others) and record review results there.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from esg import charts, selectors, services
from esg.catalogue import PILLARS, catalogue
from esg.forms import ImportForm, MetricValuesForm, ReasonForm, ReviewForm, SettingsForm
from esg.importer import AP_COLUMNS, metrics_template_header
from esg.models import FactorSetChangeRequest, MetricValue
from esg.periods import InvalidPeriod, Period, period_current, period_parse
from greenesg.accounts.access import (
    Capability,
    OrgAccess,
    ProjectAccess,
    org_access_for_request,
    project_access_for_request,
)
from greenesg.http import AuthedHttpRequest

TREND_CHARTS = (
    ("E", "Total GHG emissions", "tCO2e", ("E1-6.total_location_t", "E1-6.total_market_t")),
    (
        "S",
        "Workforce rates",
        "%",
        (
            "S1-6.turnover_rate",
            "S1-8.collective_bargaining_coverage",
            "S1-16.gender_pay_gap",
            "S1-9.top_management_female_share",
        ),
    ),
    ("G", "Payment days", "days", ("G1-6.avg_days_to_pay",)),
)


class BadRequest(Exception):
    pass


def _reader(request: HttpRequest, org_slug: str) -> OrgAccess:
    access = org_access_for_request(request, org_slug)
    if not access.can(Capability.VIEW_ESG):
        raise PermissionDenied("Organisation ESG data is for officers and auditors.")
    return access


def _writer(request: HttpRequest, org_slug: str, needed: Capability = Capability.MANAGE_ESG) -> OrgAccess:
    access = org_access_for_request(request, org_slug)
    if not access.can(needed):
        raise PermissionDenied("Only officers can change ESG data.")
    return access


def _period(value: str | None, default: Period | None = None, *, ytd: bool = False) -> Period:
    if not value and default is not None:
        return default
    try:
        return period_parse(value, ytd=ytd)
    except InvalidPeriod as exc:
        raise BadRequest(str(exc)) from exc


def _bad(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "esg/bad_request.html", {"message": message}, status=400)


def _crumbs(access: OrgAccess, *extra: tuple[str, str]) -> list[dict[str, str]]:
    org = access.organisation
    base = [
        {"label": org.name, "url": reverse("org-overview", args=[org.slug])},
        {"label": "ESG", "url": reverse("esg-overview", args=[org.slug])},
    ]
    return base + [{"label": label, "url": url} for label, url in extra]


def _overview_context(access: OrgAccess, period: Period) -> dict[str, Any]:
    org = access.organisation
    rows = selectors.metric_rows(org, period)
    series = selectors.trends(org, period, count=4 if period.quarter is not None else 3)
    # A year to date is computed, never stored: its rows open the metric's page for the year.
    metric_period = period.year_period if period.is_ytd else period
    cat = catalogue()
    sections: list[dict[str, Any]] = [
        {
            "pillar": key,
            "title": title,
            "rows": [
                {
                    "row": row,
                    "trend": series.get(row.code, []),
                    "url": reverse("esg-metric", args=[org.slug, metric_period.key, row.code]),
                }
                for row in rows
                if row.metric.pillar == key
            ],
        }
        for key, title in PILLARS.items()
    ]
    figures = {
        pillar: charts.trend_figure({cat.metrics[c].name: series.get(c, []) for c in codes}, title=title, unit=unit)
        for pillar, title, unit, codes in TREND_CHARTS
    }
    for section in sections:
        section["figure"] = figures.get(section["pillar"])
        section["figure_id"] = f"fig-{section['pillar']}"
    return {
        "access": access,
        "org": org,
        "period": period,
        "sections": sections,
        "trend_periods": [p.key for p in period.history(4 if not period.is_year else 3)],
        "completeness": selectors.completeness(rows),
        "lock": selectors.period_lock_row(org, period),
        "metric_period": metric_period,
        "pending": sum(1 for r in rows if r.record and r.record.status == "submitted"),
        "projects": access.visible_projects(),
        "breadcrumbs": _crumbs(access),
    }


@login_required
@require_GET
def esg_overview(request: HttpRequest, org_slug: str) -> HttpResponse:
    access = _reader(request, org_slug)
    try:
        period = _period(request.GET.get("period"), period_current(timezone.localdate()), ytd=True)
    except BadRequest as exc:
        return _bad(request, str(exc))
    return render(request, "esg/overview.html", _overview_context(access, period))


@login_required
def esg_enter(request: AuthedHttpRequest, org_slug: str, period: str) -> HttpResponse:
    access = _writer(request, org_slug)
    the_period = period_parse(period)
    org = access.organisation
    stored = selectors.stored_values(org, the_period.key)
    metrics = [m for m in catalogue().entered()]
    initial = {code: f"{record.value.normalize():f}" for code, record in stored.items()}
    form = MetricValuesForm(request.POST or None, metrics=metrics, initial=initial)
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            written = services.metric_values_submit(
                organisation=org,
                actor=request.user,
                period=the_period,
                cells=form.cells(),
                source="form",
                evidence=form.cleaned_data["evidence"],
                comment=form.cleaned_data["comment"],
            )
        except services.InvalidValues as exc:
            for error in exc.errors:
                form.add_error(error.code if error.code in form.fields else None, f"{error.code} {error.message}")
        except services.EsgConflict as exc:
            # The period was closed meanwhile (possibly by a concurrent request): 409, the form kept for a retry.
            form.add_error(None, str(exc))
            conflict = True
        else:
            messages.success(
                request, f"{len(written)} value(s) submitted for {the_period}; another officer approves them."
            )
            return redirect(f"{reverse('esg-overview', args=[org_slug])}?period={the_period.key}")
    return render(
        request,
        "esg/enter.html",
        {
            "access": access,
            "org": org,
            "period": the_period,
            "form": form,
            "stored": stored,
            "locked": selectors.period_locked(org, the_period),
            "breadcrumbs": _crumbs(access, (f"Enter {the_period}", "")),
        },
        status=409 if conflict else 400 if form.errors else 200,
    )


@login_required
@require_GET
def esg_metric(request: HttpRequest, org_slug: str, period: str, code: str) -> HttpResponse:
    access = _reader(request, org_slug)
    the_period = period_parse(period)
    rows = {row.code: row for row in selectors.metric_rows(access.organisation, the_period)}
    row = rows.get(code)
    if row is None:
        return _bad(request, f"{code!r} is not an organisation metric of the catalogue.")
    inputs = [rows[c] for c in row.metric.inputs]
    history = selectors.value_history(access.organisation, the_period.key, code)
    can_decide = access.can(Capability.APPROVE_VALUES) and row.record is not None and row.record.status == "submitted"
    return render(
        request,
        "esg/metric.html",
        {
            "access": access,
            "org": access.organisation,
            "period": the_period,
            "row": row,
            "inputs": inputs,
            "history": history,
            "can_decide": can_decide,
            "reason_form": ReasonForm(),
            "own_submission": row.record is not None and row.record.submitted_by_id == request.user.pk,
            "breadcrumbs": _crumbs(
                access,
                (str(the_period), reverse("esg-overview", args=[org_slug]) + f"?period={the_period.key}"),
                (code, ""),
            ),
        },
    )


@login_required
@require_POST
def esg_value_decide(request: AuthedHttpRequest, org_slug: str, pk: int, action: str) -> HttpResponse:
    access = _writer(request, org_slug, Capability.MANAGE_ESG if action == "delete" else Capability.APPROVE_VALUES)
    value = get_object_or_404(MetricValue, pk=pk, organisation=access.organisation)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        if action == "approve":
            services.metric_value_approve(value=value, actor=request.user)
        elif action == "reject":
            services.metric_value_reject(value=value, actor=request.user, reason=reason)
        elif action == "delete":
            services.metric_value_delete(value=value, actor=request.user, reason=reason)
        else:
            return _bad(request, f"Unknown action {action!r}.")
    except services.EsgConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{value.metric_code} ({value.period}): {action}d.")
    return redirect("esg-metric", org_slug, value.period, value.metric_code)


def _period_action(request: AuthedHttpRequest, org_slug: str, period: str, close: bool) -> HttpResponse:
    access = _writer(request, org_slug)
    the_period = period_parse(period)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    service = services.period_close if close else services.period_reopen
    try:
        service(organisation=access.organisation, period=the_period, actor=request.user, reason=reason)
    except services.EsgConflict as exc:
        # Already closed (perhaps by a concurrent request), values pending, no reason: 409 with the reason shown.
        messages.error(request, str(exc))
        return render(request, "esg/overview.html", _overview_context(access, the_period), status=409)
    messages.success(request, f"{the_period} {'closed' if close else 'reopened'}.")
    return redirect(f"{reverse('esg-overview', args=[org_slug])}?period={the_period.key}")


@login_required
@require_POST
def esg_period_close(request: AuthedHttpRequest, org_slug: str, period: str) -> HttpResponse:
    return _period_action(request, org_slug, period, close=True)


@login_required
@require_POST
def esg_period_reopen(request: AuthedHttpRequest, org_slug: str, period: str) -> HttpResponse:
    return _period_action(request, org_slug, period, close=False)


@login_required
def esg_import(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    access = _writer(request, org_slug)
    form = ImportForm(request.POST or None, request.FILES or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        try:
            period = _period(form.cleaned_data["period"]) if form.cleaned_data["period"] else None
        except BadRequest as exc:
            form.add_error("period", str(exc))
        else:
            upload = form.cleaned_data["file"]
            outcome = services.metric_values_import(
                organisation=access.organisation,
                actor=request.user,
                name=upload.name,
                file=upload,
                kind=form.cleaned_data["kind"],
                period=period,
            )
            if outcome.ok:
                messages.success(
                    request,
                    f"Imported: {outcome.written} value(s) submitted, {outcome.unchanged} unchanged. {outcome.summary}",
                )
                return redirect("esg-overview", org_slug)
    failed = bool(form.errors or (outcome and not outcome.ok))
    return render(
        request,
        "esg/import.html",
        {
            "access": access,
            "org": access.organisation,
            "form": form,
            "outcome": outcome,
            "breadcrumbs": _crumbs(access, ("Import", "")),
        },
        status=400 if failed else 200,
    )


@login_required
@require_GET
def esg_template(request: HttpRequest, org_slug: str) -> HttpResponseBase:
    from greenesg.lib.csv_safe import safe_csv_response

    _reader(request, org_slug)
    kind = request.GET.get("kind", "metrics")
    try:
        period = _period(request.GET.get("period"), period_current(timezone.localdate()))
    except BadRequest as exc:
        return _bad(request, str(exc))
    if kind == "ap_ledger":
        example = [["INV-0001", period.start.isoformat(), period.start.isoformat(), 0, ""]]
        return safe_csv_response("esg-ap-ledger-template.csv", list(AP_COLUMNS), example)
    header = metrics_template_header()
    return safe_csv_response("esg-metrics-template.csv", header, [[period.key] + [""] * (len(header) - 1)])


@login_required
@require_GET
def esg_export(request: HttpRequest, org_slug: str, period: str) -> HttpResponseBase:
    from greenesg.lib.csv_safe import safe_csv_response

    access = _reader(request, org_slug)
    the_period = period_parse(period)
    header = [
        "code",
        "name",
        "pillar",
        "unit",
        "value",
        "status",
        "source",
        "reference",
        "evidence",
        "submitted_by",
        "approved_by",
        "note",
    ]
    rows = ([row.as_dict()[key] for key in header] for row in selectors.metric_rows(access.organisation, the_period))
    return safe_csv_response(f"{org_slug}-esg-{the_period.key}.csv", header, rows)


@login_required
def esg_settings(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    access = _writer(request, org_slug)
    current = selectors.approved_regions(access.organisation)
    form = SettingsForm(request.POST or None, initial={"approved_regions": "\n".join(current)})
    if request.method == "POST" and form.is_valid():
        services.esg_settings_update(
            organisation=access.organisation, actor=request.user, approved_regions=form.regions()
        )
        messages.success(request, "Approved regions saved.")
        return redirect("esg-settings", org_slug)
    return render(
        request,
        "esg/settings.html",
        {"access": access, "org": access.organisation, "form": form, "breadcrumbs": _crumbs(access, ("Settings", ""))},
    )


@login_required
@require_GET
def esg_factor_requests(request: HttpRequest, org_slug: str) -> HttpResponse:
    access = _reader(request, org_slug)
    return render(
        request,
        "esg/factor_requests.html",
        {
            "access": access,
            "org": access.organisation,
            "reason_form": ReasonForm(),
            "requests": selectors.factor_change_requests(access.organisation),
            "breadcrumbs": _crumbs(access, ("Factor-set changes", "")),
        },
    )


@login_required
@require_POST
def esg_factor_request_decide(request: AuthedHttpRequest, org_slug: str, pk: int, action: str) -> HttpResponse:
    access = _writer(request, org_slug, Capability.MANAGE_FACTORS)
    change = get_object_or_404(FactorSetChangeRequest, pk=pk, organisation=access.organisation)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        if action == "approve":
            services.factor_set_change_approve(request=change, actor=request.user, reason=reason)
        elif action == "reject":
            services.factor_set_change_reject(request=change, actor=request.user, reason=reason)
        else:
            return _bad(request, f"Unknown action {action!r}.")
    except services.EsgConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{change.factor_set.label}: {action}d.")
    return redirect("esg-factor-requests", org_slug)


def _scorecard_context(access: ProjectAccess, period: Period, form: ReviewForm) -> dict[str, Any]:
    org, project = access.org.organisation, access.project
    card = selectors.project_scorecard(project, period)
    return {
        "access": access,
        "org": org,
        "project": project,
        "period": period,
        "card": card,
        "form": form,
        "rows": selectors.project_scorecard_rows(card),
        "can_record": access.can(Capability.WRITE_PROJECT_DATA),
        "region_rows": sorted(card.region_kg.items(), key=lambda item: -item[1]),
        "breadcrumbs": [
            {"label": org.name, "url": reverse("org-overview", args=[org.slug])},
            {"label": project.name, "url": reverse("project-detail", args=[org.slug, project.slug])},
            {"label": "ESG scorecard", "url": ""},
        ],
    }


@login_required
def esg_scorecard(request: AuthedHttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access = project_access_for_request(request, org_slug, project_slug)
    try:
        period = _period(request.GET.get("period"), period_current(timezone.localdate()), ytd=True)
    except BadRequest as exc:
        return _bad(request, str(exc))
    form = ReviewForm(request.POST or None, initial={"reviewed_on": timezone.localdate()})
    if request.method == "POST":
        if not access.can(Capability.WRITE_PROJECT_DATA):
            raise PermissionDenied("Auditors are read-only.")
        if form.is_valid():
            data = form.cleaned_data
            services.model_review_record(
                project=access.project,
                actor=request.user,
                actor_label=request.user.get_username(),
                subject=data["subject"],
                reviewed=data["reviewed"],
                reviewed_on=data["reviewed_on"],
                model_card_url=data["model_card_url"],
                notes=data["notes"],
            )
            messages.success(request, "Review record saved.")
            return redirect(f"{reverse('esg-scorecard', args=[org_slug, project_slug])}?period={period.key}")
    return render(
        request, "esg/scorecard.html", _scorecard_context(access, period, form), status=400 if form.errors else 200
    )
