"""Dashboard pages: organisation overview, project, experiment and ledger-row drill-down.

Each view starts with its scoped fetch (404 to anyone outside the organisation or project), parses
the query string (a bad value is a 400 page with the reason), calls selectors and renders. Engineers
open the organisation overview too: it is computed over the projects they are members of only.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from greenesg.accounts.access import ProjectAccess, org_access_for_user, project_access_for_user
from greenesg.footprint.models import LedgerEntry
from reports import aggregation, charts, exports, selectors
from reports.filters import DashboardFilter, InvalidFilter, dashboard_filter_parse

RUNS_PER_PAGE = 50
NO_EXPERIMENT_SLUG = "_none"
# Hardware and software attributes shown first on the ledger-row page, in this order.
HARDWARE_ATTRIBUTES = (
    "cpu_model",
    "cpu_count",
    "gpu_model",
    "gpu_count",
    "ram_total_size_gb",
    "os",
    "python_version",
    "codecarbon_version",
    "tracking_mode",
    "country_name",
    "cloud_provider",
    "cloud_region",
    "project_name",
)
RUN_HEADERS = (
    ("end", "End (UTC)"),
    ("experiment", "Experiment"),
    ("duration", "Duration"),
    ("kwh", "Energy IT (kWh)"),
    ("kwh_facility", "Energy facility (kWh)"),
    ("kg", "kgCO2e location"),
    ("kg_market", "kgCO2e market"),
)


def experiment_slug(experiment: str) -> str:
    return experiment or NO_EXPERIMENT_SLUG


def _experiment_from_slug(slug: str) -> str:
    return "" if slug == NO_EXPERIMENT_SLUG else slug


def _bad_request(request: HttpRequest, error: InvalidFilter) -> HttpResponse:
    return render(request, "reports/bad_filter.html", {"message": str(error), "path": request.path}, status=400)


def _query(params: QueryDict, **changes: str | None) -> str:
    query = params.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = value
    encoded = query.urlencode()
    return "?" + encoded if encoded else ""


def _page_number(value: str | None) -> int:
    if value is None or value == "":
        return 1
    if not value.isdigit() or int(value) < 1:
        raise InvalidFilter(f"page must be a whole number from 1, not {value!r}.")
    return int(value)


def _output_format(value: str | None) -> str:
    if value in (None, "", "html", "csv"):
        return value or "html"
    raise InvalidFilter(f"format must be html or csv, not {value!r}.")


def _runs_table(
    request: HttpRequest, access: ProjectAccess, flt: DashboardFilter, experiment: str | None
) -> tuple[dict[str, Any], Any]:
    """Parse sort/page/format and return (the table context, the runs queryset for a CSV download)."""
    sort = selectors.run_sort_parse(request.GET.get("sort"))
    number = _page_number(request.GET.get("page"))
    _output_format(request.GET.get("format"))
    runs = selectors.run_list(project=access.project, flt=flt, experiment=experiment, sort=sort)
    page = Paginator(runs, RUNS_PER_PAGE).get_page(number)
    headers = []
    for key, label in RUN_HEADERS:
        active = sort.removeprefix("-") == key
        next_sort = key if active and sort.startswith("-") else "-" + key if active else key
        aria = ("descending" if sort.startswith("-") else "ascending") if active else ""
        headers.append({"label": label, "url": _query(request.GET, sort=next_sort, page=None), "aria": aria})
    links = {
        "previous": _query(request.GET, page=str(page.previous_page_number())) if page.has_previous() else "",
        "next": _query(request.GET, page=str(page.next_page_number())) if page.has_next() else "",
        "csv": _query(request.GET, format="csv", page=None),
    }
    org, slug = access.org.organisation.slug, access.project.slug
    for entry in page.object_list:
        entry.detail_url = reverse("ledger-detail", args=[org, slug, entry.pk])
        entry.experiment_url = reverse("experiment-detail", args=[org, slug, experiment_slug(entry.experiment)])
    return {"page": page, "headers": headers, "links": links}, runs


def _crumbs(access: ProjectAccess, flt: DashboardFilter, *extra: dict[str, str]) -> list[dict[str, str]]:
    org, project = access.org.organisation, access.project
    return [
        {"label": org.name, "url": reverse("org-overview", args=[org.slug]) + flt.querystring},
        {"label": project.name, "url": reverse("project-detail", args=[org.slug, project.slug]) + flt.querystring},
        *extra,
    ]


def _runs_figure(access: ProjectAccess, flt: DashboardFilter, experiment: str | None, title: str) -> dict | None:
    frame = selectors.runs_chart_frame(project=access.project, flt=flt, experiment=experiment)
    if frame.empty:
        return None
    org, slug = access.org.organisation.slug, access.project.slug
    urls = {int(pk): reverse("ledger-detail", args=[org, slug, int(pk)]) for pk in frame["id"]}
    return charts.runs_scatter(aggregation.runs_series(frame), urls, title=title)


@login_required
@require_GET
def org_overview(request: HttpRequest, org_slug: str) -> HttpResponse:
    access = org_access_for_user(request.user, org_slug)
    try:
        flt = dashboard_filter_parse(request.GET)
    except InvalidFilter as error:
        return _bad_request(request, error)
    overview = selectors.org_overview(access=access, flt=flt)
    project_urls: dict[int | None, str] = {
        row["project"].id: reverse("project-detail", args=[org_slug, row["project"].slug]) + flt.querystring
        for row in overview.projects
    }
    figures = {}
    if not overview.is_empty:
        figures = {
            "scope": charts.scope_bar(overview.by_scope),
            "project": charts.project_bar(overview.by_project, project_urls),
            "month": charts.month_stacked(overview.by_month),
        }
    context = {
        "access": access,
        "org": access.organisation,
        "flt": flt,
        "overview": overview,
        "scope_rows": overview.by_scope.to_dict("records"),
        "project_rows": [
            {**row, "url": project_urls.get(row["project_id"])} for row in overview.by_project.to_dict("records")
        ],
        "month_rows": overview.by_month.to_dict("records"),
        "figures": figures,
    }
    return render(request, "reports/org_overview.html", context)


@login_required
@require_GET
def project_detail(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access = project_access_for_user(request.user, org_slug, project_slug)
    try:
        flt = dashboard_filter_parse(request.GET)
        table, runs = _runs_table(request, access, flt, experiment=None)
    except InvalidFilter as error:
        return _bad_request(request, error)
    if request.GET.get("format") == "csv":
        return exports.runs_csv_response(runs, filename=f"{org_slug}-{project_slug}-runs.csv")
    project = access.project
    experiments = selectors.experiment_list(project=project, flt=flt)
    for row in experiments:
        row["label"] = aggregation.experiment_label(row["experiment"])
        row["url"] = reverse("experiment-detail", args=[org_slug, project_slug, experiment_slug(row["experiment"])])
    context = {
        "access": access,
        "org": access.org.organisation,
        "project": project,
        "flt": flt,
        "summary": selectors.footprint_summary(
            organisation=access.org.organisation, project=project, start=flt.start, end=flt.end
        ),
        "table": table,
        "experiments": experiments,
        "figure": _runs_figure(access, flt, None, f"Emissions per run: {project.name}"),
        "breadcrumbs": _crumbs(access, flt),
    }
    return render(request, "reports/project_detail.html", context)


@login_required
@require_GET
def experiment_detail(request: HttpRequest, org_slug: str, project_slug: str, experiment: str) -> HttpResponse:
    access = project_access_for_user(request.user, org_slug, project_slug)
    name = _experiment_from_slug(experiment)
    if not selectors.run_list(project=access.project, flt=DashboardFilter(), experiment=name).exists():
        raise Http404("No such experiment")
    try:
        flt = dashboard_filter_parse(request.GET)
        table, runs = _runs_table(request, access, flt, experiment=name)
    except InvalidFilter as error:
        return _bad_request(request, error)
    if request.GET.get("format") == "csv":
        return exports.runs_csv_response(runs, filename=f"{org_slug}-{project_slug}-experiment-runs.csv")
    experiments = selectors.experiment_list(project=access.project, flt=flt)
    totals = next((row for row in experiments if row["experiment"] == name), None)
    label = aggregation.experiment_label(name)
    context = {
        "access": access,
        "org": access.org.organisation,
        "project": access.project,
        "experiment": label,
        "flt": flt,
        "totals": totals,
        "table": table,
        "figure": _runs_figure(access, flt, name, f"Emissions per run: {label}"),
        "breadcrumbs": _crumbs(access, flt, {"label": label, "url": ""}),
    }
    return render(request, "reports/experiment_detail.html", context)


def _get_entry_for_user(
    request: HttpRequest, org_slug: str, project_slug: str, pk: int
) -> tuple[ProjectAccess, LedgerEntry]:
    access = project_access_for_user(request.user, org_slug, project_slug)
    entry = selectors.ledger_entry_for_project(project=access.project, pk=pk)
    if entry is None:
        raise Http404("No such record")
    return access, entry


def _attribute_rows(attributes: dict[str, Any]) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    hardware = [(key, attributes[key]) for key in HARDWARE_ATTRIBUTES if attributes.get(key) not in (None, "")]
    shown = {key for key, _ in hardware} | {"codecarbon_kg", "implied_factor_g_per_kwh"}
    rest = sorted((key, value) for key, value in attributes.items() if key not in shown)
    return hardware, rest


@login_required
@require_GET
def ledger_detail(request: HttpRequest, org_slug: str, project_slug: str, pk: int) -> HttpResponse:
    access, entry = _get_entry_for_user(request, org_slug, project_slug, pk)
    attributes = entry.attributes if isinstance(entry.attributes, dict) else {}
    hardware, other_attributes = _attribute_rows(attributes)
    crumbs = []
    if entry.source in {"codecarbon", "codecarbon_task"}:
        label = aggregation.experiment_label(entry.experiment)
        url = reverse("experiment-detail", args=[org_slug, project_slug, experiment_slug(entry.experiment)])
        crumbs.append({"label": label, "url": url})
    crumbs.append({"label": f"Record {entry.run_id or entry.pk}", "url": ""})
    context = {
        "access": access,
        "org": access.org.organisation,
        "project": access.project,
        "entry": entry,
        "hardware": hardware,
        "other_attributes": other_attributes,
        "codecarbon_kg": attributes.get("codecarbon_kg"),
        "implied_factor": attributes.get("implied_factor_g_per_kwh"),
        "breadcrumbs": _crumbs(access, DashboardFilter(), *crumbs),
    }
    return render(request, "reports/ledger_detail.html", context)
