"""Steering pages: project budget (burn-down), organisation budgets and target, region advice, SCI, models.

Each view starts with one scoped fetch (404 outside the organisation or project, 403 for a role that may read
but not write), validates a form, calls one service or selector and renders or redirects.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from greenesg.accounts.access import (
    Capability,
    OrgAccess,
    ProjectAccess,
    org_access_for_request,
    project_access_for_request,
)
from greenesg.http import AuthedHttpRequest
from steering import budget, charts, sci, selectors, services
from steering.forms import (
    BudgetForm,
    DeriveBudgetsForm,
    OrgTargetForm,
    ProjectSteeringForm,
    RegionCandidatesForm,
    RegionMoveForm,
    UnitCountForm,
    UnitCountUploadForm,
)
from steering.models import ProjectSteering


def _get_project_for_user(
    request: HttpRequest, org_slug: str, project_slug: str, *, write: bool = False, manage: bool = False
) -> ProjectAccess:
    access = project_access_for_request(request, org_slug, project_slug)
    if manage and not access.can(Capability.MANAGE_BUDGETS):
        raise PermissionDenied("Only officers manage budgets and project steering settings.")
    if write and not access.can(Capability.WRITE_PROJECT_DATA):
        raise PermissionDenied("Auditors are read-only.")
    return access


def _get_org_for_user(request: HttpRequest, org_slug: str, *, manage: bool = False) -> OrgAccess:
    access = org_access_for_request(request, org_slug)
    if manage and not access.can(Capability.MANAGE_BUDGETS):
        raise PermissionDenied("Only officers manage the organisation target.")
    return access


def _period_param(request: HttpRequest, default_kind: str = "quarter") -> budget.Period:
    value = request.GET.get("period")
    if not value:
        return budget.Period.containing(selectors.today_utc(), default_kind)
    return budget.period_parse(value)  # InvalidPeriod is answered by _bad_period


def _bad_period(request: HttpRequest, error: Exception) -> HttpResponse:
    return render(request, "steering/bad_request.html", {"message": str(error)}, status=400)


def _crumbs(access: ProjectAccess, label: str) -> list[dict[str, str]]:
    org, project = access.org.organisation, access.project
    return [
        {"label": org.name, "url": reverse("org-overview", args=[org.slug])},
        {"label": project.name, "url": reverse("project-detail", args=[org.slug, project.slug])},
        {"label": label, "url": ""},
    ]


def _form_page(request: HttpRequest, form: Any, title: str, crumbs: list[dict[str, str]]) -> HttpResponse:
    return render(
        request,
        "steering/form.html",
        {"form": form, "title": title, "breadcrumbs": crumbs},
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------------------------------------- budgets


@login_required
@require_GET
def project_budget(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access = _get_project_for_user(request, org_slug, project_slug)
    today = selectors.today_utc()
    try:
        period = budget.period_parse(request.GET["period"]) if request.GET.get("period") else None
    except budget.InvalidPeriod as error:
        return _bad_period(request, error)
    item = (
        selectors.budget_get(project=access.project, period=period)
        if period
        else selectors.budget_current(project=access.project, today=today)
    )
    context: dict[str, Any] = {
        "access": access,
        "project": access.project,
        "item": item,
        "period": period,
        "budgets": selectors.budget_list(project=access.project),
        "breadcrumbs": _crumbs(access, "Budget"),
    }
    if item is not None:
        period = budget.period_parse(item.period)
        status = selectors.budget_status_for(item=item, today=today)
        daily = selectors.budget_daily_kg(project=access.project, period=period, basis=item.basis)
        series = budget.burn_down(budget_kg=item.kg, daily_kg=daily, period=period, today=today)
        context.update(
            period=period,
            status=status,
            notifications=item.notifications.all(),
            figure=charts.burn_down_figure(series, title=f"Burn-down {item.period}"),
        )
    return render(request, "steering/project_budget.html", context)


@login_required
def budget_edit(request: AuthedHttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access = _get_project_for_user(request, org_slug, project_slug, manage=True)
    form = BudgetForm(request.POST or None, initial={"period": request.GET.get("period", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        item = services.budget_set(
            project=access.project,
            period=data["period"],
            kg=data["kg"],
            basis=data["basis"],
            run_limit_kg=data["run_limit_kg"],
            actor=request.user,
        )
        messages.success(request, f"Budget for {item.period} saved.")
        return redirect(reverse("steering-project-budget", args=[org_slug, project_slug]) + f"?period={item.period}")
    return _form_page(request, form, f"Set a budget for {access.project.name}", _crumbs(access, "Set budget"))


@login_required
def steering_settings(request: AuthedHttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access = _get_project_for_user(request, org_slug, project_slug, manage=True)
    current = ProjectSteering.objects.filter(project=access.project).first()
    initial = (
        {
            "webhook_url": current.webhook_url,
            "functional_unit": current.functional_unit,
            "non_production": current.non_production,
            "quality_tolerance_percent": current.quality_tolerance_percent,
        }
        if current
        else {}
    )
    form = ProjectSteeringForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.project_steering_save(project=access.project, actor=request.user, **form.cleaned_data)
        messages.success(request, "Steering settings saved.")
        return redirect("steering-project-budget", org_slug, project_slug)
    return _form_page(
        request,
        form,
        f"Notifications, SCI unit and advisor settings of {access.project.name}",
        _crumbs(access, "Steering settings"),
    )


@login_required
@require_GET
def org_budgets(request: HttpRequest, org_slug: str) -> HttpResponse:
    access = _get_org_for_user(request, org_slug)
    try:
        period = _period_param(request)
    except budget.InvalidPeriod as error:
        return _bad_period(request, error)
    rows = selectors.org_budget_table(access=access, period=period, today=selectors.today_utc())
    context = {
        "access": access,
        "org": access.organisation,
        "period": period,
        "rows": rows,
        "target": selectors.org_target_get(access=access),
        "derive_form": DeriveBudgetsForm(initial={"period": period.key}),
        "breadcrumbs": [
            {"label": access.organisation.name, "url": reverse("org-overview", args=[org_slug])},
            {"label": "Budgets", "url": ""},
        ],
    }
    return render(request, "steering/org_budgets.html", context)


@login_required
def org_target(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    access = _get_org_for_user(request, org_slug, manage=True)
    target = selectors.org_target_get(access=access)
    projects = list(access.organisation.projects.order_by("name"))
    initial: dict[str, Any] = {}
    if target is not None:
        initial = {name: getattr(target, name) for name in OrgTargetForm.base_fields}
        initial.update({f"share_{s.project_id}": s.share_pct for s in target.shares.all()})
    form = OrgTargetForm(request.POST or None, initial=initial, projects=projects)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in OrgTargetForm.base_fields}
        services.org_target_save(organisation=access.organisation, shares=form.shares(), actor=request.user, **data)
        messages.success(request, "Reduction target saved. Derive budgets for a period on the budgets page.")
        return redirect("steering-org-budgets", org_slug)
    crumbs = [
        {"label": access.organisation.name, "url": reverse("org-overview", args=[org_slug])},
        {"label": "Budgets", "url": reverse("steering-org-budgets", args=[org_slug])},
        {"label": "Reduction target", "url": ""},
    ]
    return _form_page(request, form, "Organisation reduction target", crumbs)


@login_required
@require_POST
def org_target_apply(request: AuthedHttpRequest, org_slug: str) -> HttpResponse:
    access = _get_org_for_user(request, org_slug, manage=True)
    form = DeriveBudgetsForm(request.POST)
    if not form.is_valid():
        return _bad_period(request, Exception(" ".join(str(m) for m in form.errors.get("period", ["Invalid period."]))))
    period = form.cleaned_data["period"]
    try:
        made = services.budgets_from_target(access=access, period=period, actor=request.user)
    except services.SteeringError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{len(made)} project budgets derived from the target for {period.key}.")
    return redirect(reverse("steering-org-budgets", args=[org_slug]) + f"?period={period.key}")


# ---------------------------------------------------------------------------------------------- advice


@login_required
def project_advice(request: AuthedHttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access = _get_project_for_user(request, org_slug, project_slug, write=request.method == "POST")
    try:
        period = _period_param(request)
    except budget.InvalidPeriod as error:
        return _bad_period(request, error)
    form = RegionMoveForm(request.POST or None, initial={"period": period.key})
    if request.method == "POST" and form.is_valid():
        try:
            move = services.region_move_record(project=access.project, actor=request.user, **form.cleaned_data)
        except services.SteeringError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Move recorded: {move.avoided_kg:,.3f} kgCO2e avoided (outside the inventory).")
            return redirect(reverse("steering-project-advice", args=[org_slug, project_slug]) + f"?period={period.key}")
    rank_form, ranked = _rank_candidates(request, access)
    context = {
        "access": access,
        "project": access.project,
        "period": period,
        "form": form,
        "rank_form": rank_form,
        "ranked": ranked,
        "load_months": selectors.LOAD_MONTHS,
        "comparison": selectors.project_region_comparison(project=access.project, period=period),
        "moves": selectors.region_move_list(project=access.project),
        "breadcrumbs": _crumbs(access, "Region advice"),
    }
    return render(
        request, "steering/project_advice.html", context, status=400 if form.errors or rank_form.errors else 200
    )


def _rank_candidates(
    request: HttpRequest, access: ProjectAccess
) -> tuple[RegionCandidatesForm, selectors.CandidateAdvice | None]:
    """The candidate-ranking form (a GET form, so auditors may use it too) and its result once valid."""
    data = None
    if request.method == "GET" and "candidates" in request.GET:
        data = request.GET.copy()
        # A multi-select sends one parameter per region, a text box one comma list: accept both.
        data["candidates"] = ",".join(request.GET.getlist("candidates"))
    form = RegionCandidatesForm(
        data,
        regions_of=lambda p: selectors.registry_regions(provider=p),
        zone_of=selectors.region_zone,
        auto_id="rank_%s",
    )
    if data is None or not form.is_valid():
        return form, None
    return form, selectors.project_candidate_savings(
        project=access.project, today=selectors.today_utc(), **form.cleaned_data
    )


# ---------------------------------------------------------------------------------------------- SCI


@login_required
def project_sci(request: AuthedHttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access = _get_project_for_user(request, org_slug, project_slug, write=request.method == "POST")
    # One page, two forms: a single count or a CSV file; the posted fields say which one was sent.
    posted = request.method == "POST"
    form = UnitCountForm(request.POST if posted and "count" in request.POST else None)
    upload = UnitCountUploadForm(request.POST if posted and not form.is_bound else None, request.FILES or None)
    if request.method == "POST" and (form.is_valid() or upload.is_valid()):
        try:
            if form.is_bound:
                services.unit_count_set(project=access.project, actor=request.user, **form.cleaned_data)
            else:
                services.unit_counts_import(
                    project=access.project, content=upload.cleaned_data["file"], actor=request.user
                )
        except services.SteeringError as error:
            upload.add_error("file", str(error))
        else:
            messages.success(request, "Functional-unit counts saved.")
            return redirect("steering-project-sci", org_slug, project_slug)
    points = selectors.sci_trend(project=access.project)
    unit = ProjectSteering.objects.filter(project=access.project).values_list("functional_unit", flat=True).first()
    context = {
        "access": access,
        "project": access.project,
        "points": points,
        "unit": unit or "",
        "form": form,
        "upload": upload,
        "definition": sci.DEFINITION,
        "limits": sci.LIMITS,
        "figure": charts.sci_figure(points, unit=unit or "", title="SCI per period") if points else None,
        "breadcrumbs": _crumbs(access, "SCI"),
    }
    return render(request, "steering/project_sci.html", context, status=400 if form.errors or upload.errors else 200)


# ---------------------------------------------------------------------------------------------- models


@login_required
@require_GET
def project_models(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access = _get_project_for_user(request, org_slug, project_slug)
    rows = selectors.run_model_points(project=access.project)
    context = {
        "access": access,
        "project": access.project,
        "rows": rows,
        "figure": charts.pareto_figure(rows, title="Quality against kgCO2e per run") if rows else None,
        "breadcrumbs": _crumbs(access, "Model choice"),
    }
    return render(request, "steering/project_models.html", context)
