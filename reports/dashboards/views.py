"""Dashboard pages: organisation overview, project, experiment and ledger-row drill-down.

Each view starts with its scoped fetch (404 to anyone outside the organisation or project), parses
the query string (a bad value is a 400 page with the reason), calls selectors and renders. Engineers
open the organisation overview too: it is computed over the projects they are members of only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from greenesg.accounts.access import (
    Capability,
    OrgAccess,
    ProjectAccess,
    org_access_for_request,
    project_access_for_request,
    roles_with,
)
from greenesg.accounts.models import Membership, Organisation
from greenesg.footprint.flags import GLOSSARY, flag_explain
from greenesg.footprint.ledger import dashboard_generation
from greenesg.footprint.models import EmissionFactorSet, LedgerEntry, Source
from greenesg.http import AuthedHttpRequest
from greenesg.lib.periods import add_months, month_start
from reports.dashboards import aggregation, charts, compare, engineer, exports
from reports.dashboards.cache import cache_filling
from reports.dashboards.filters import (
    PRESETS,
    UNALLOCATED,
    DashboardFilter,
    InvalidFilter,
    dashboard_filter_parse,
    run_search_parse,
)
from reports.dashboards.selectors import footprint as selectors
from reports.dashboards.selectors import rollups as rollup_selectors
from reports.dashboards.selectors.quality import flag_filtered
from reports.dashboards.selectors.rollups import ProjectRef, ProjectScope

RUNS_PER_PAGE = 50
RECORDS_PER_PAGE = 50
TABLE_ROWS = 50  # project rows rendered on the overview; 1,000 rows would double the page's render time
IDLE_SHOWN = 20
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
    # PostgreSQL text cannot hold NUL, and no codecarbon experiment id contains one: name it a bad filter
    # here rather than let the query fail with a server error.
    if "\x00" in slug:
        raise InvalidFilter("experiment must not contain NUL characters.")
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


MAX_PAGE = 1_000_000


def _page_number(value: str | None) -> int:
    if value is None or value == "":
        return 1
    # isdigit() also accepts other scripts' digits ("²"); the length cap keeps the SQL offset in range.
    if not (value.isascii() and value.isdigit()) or len(value) > 7 or not 1 <= int(value) <= MAX_PAGE:
        raise InvalidFilter(f"page must be a whole number from 1 to {MAX_PAGE:,}, not {value[:20]!r}.")
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
    search = run_search_parse(request.GET)
    runs = selectors.run_list(project=access.project, flt=flt, experiment=experiment, sort=sort, search=search)
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
    return {"page": page, "headers": headers, "links": links, "search": search}, runs


def _crumbs(access: ProjectAccess, flt: DashboardFilter, *extra: dict[str, str]) -> list[dict[str, str]]:
    org, project = access.org.organisation, access.project
    return [
        {"label": org.name, "url": reverse("org-overview", args=[org.slug]) + flt.link(projects=())},
        {
            "label": project.name,
            "url": reverse("project-detail", args=[org.slug, project.slug]) + flt.link(projects=()),
        },
        *extra,
    ]


def _runs_figure(access: ProjectAccess, flt: DashboardFilter, experiment: str | None, title: str) -> dict | None:
    frame = selectors.runs_chart_frame(project=access.project, flt=flt, experiment=experiment)
    if frame.empty:
        return None
    org, slug = access.org.organisation.slug, access.project.slug
    return charts.runs_scatter(aggregation.runs_series(frame), ledger_detail_urls(org, slug, frame["id"]), title=title)


def ledger_detail_urls(org_slug: str, project_slug: str, pks: Iterable[Any]) -> dict[int, str]:
    """The drill-down URL of each ledger row of a project, from one `reverse`: the row id is the pattern's last
    segment (a test pins the result to `reverse`'s). Reversing a runs chart's 2,000 rows one by one was 16-45 ms of
    its 60-75 ms (cProfile, 10M rows)."""
    prefix = reverse("ledger-detail", args=[org_slug, project_slug, 0]).removesuffix("0/")
    return {int(pk): f"{prefix}{int(pk)}/" for pk in pks}


SCOPE_CHOICES = (
    ("scope1", "Scope 1"),
    ("scope2", "Scope 2"),
    ("scope3", "Scope 3 (all categories)"),
    ("scope3.cat1.1", "Scope 3 cat. 1.1 (cloud)"),
)


def _filter_context(access: OrgAccess, flt: DashboardFilter) -> dict[str, Any]:
    return {
        "flt": flt,
        "options": rollup_selectors.filter_options(access=access),
        "presets": PRESETS,
        "scope_choices": SCOPE_CHOICES,
        "source_choices": Source.choices,
    }


@login_required
@require_GET
def org_overview(request: HttpRequest, org_slug: str) -> HttpResponse:
    access = org_access_for_request(request, org_slug)
    try:
        flt = dashboard_filter_parse(request.GET)
        page = _overview_page_cached(request, access, flt)
        if page is not None:
            return page
        context = _overview_context(access, flt)
    except InvalidFilter as error:
        return _bad_request(request, error)
    return _render_body(request, "reports/org_overview.html", context)


def _overview_page_cached(request: HttpRequest, access: OrgAccess, flt: DashboardFilter) -> HttpResponse | None:
    """The overview around its cached body, or None on a miss: a hit reads the body once and nothing else.

    Most views are hits (the body lives until the next import), and the context of a miss cost more than the
    page itself: the organisation's project list and the overview's DataFrames unpickled, only for the template
    to skip them. The scope key is the one `project_scope` gives, without reading projects for the usual case
    (a whole-organisation reader and no project or team filter); any other case resolves (and validates) it.
    """
    if access.can(Capability.VIEW_WHOLE_ORG) and not flt.projects and not flt.team:
        scope_key = "org"
    else:
        scope_key = rollup_selectors.project_scope(access=access, flt=flt).key
    body_key = _overview_body_key(access, flt, scope_key)
    html = cache.get(make_template_fragment_key("dashboard-body", [body_key]))
    if html is None:
        return None
    context = {
        "access": access,
        "org": access.organisation,
        # The HTML our own `{% cache %}` fragment stored, rendered from escaped values: the same bytes the tag
        # would emit, read once here instead of once to test for it and once more in the template.
        "body_html": mark_safe(html),  # noqa: S308  safe-reviewed: our own {% cache %} fragment, rendered escaped
        # The figures' scripts load when the body drew charts: only a non-empty overview has `data-figure`.
        "charts": 'data-figure="' in html,
    }
    return render(request, "reports/org_overview.html", context)


def _overview_body_key(access: OrgAccess, flt: DashboardFilter, scope_key: str) -> str:
    return _body_key(access, f"overview:{access.role}:{scope_key}:{flt.cache_part}")


def _overview_context(access: OrgAccess, flt: DashboardFilter) -> dict[str, Any]:
    scope, overview = rollup_selectors.org_overview_data(access=access, flt=flt)
    return {
        "access": access,
        "org": access.organisation,
        "overview": overview,
        "charts": not overview.is_empty,
        "restricted": not access.can(Capability.VIEW_WHOLE_ORG),
        **_deferred_body(
            access,
            f"overview:{access.role}:{scope.key}:{flt.cache_part}",
            lambda: {**_filter_context(access, flt), **_overview_parts(access, flt, scope, overview)},
        ),
    }


def overview_body_warm(*, organisation_id: int) -> int:
    """Render the default overview body of every whole-organisation role into the cache; returns how many.

    Called after an import (reports/apps.py): the import bumped the generation, so without this the first
    viewers all find the body missing. Engineers' bodies depend on their project sets and are left to demand.
    The body holds no per-user data, so an unsaved membership of the role renders the same HTML.
    """
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        return 0
    warmed = 0
    for whole_org_role in sorted(roles_with(Capability.VIEW_WHOLE_ORG)):
        membership = Membership(organisation=organisation, role=whole_org_role)
        access = OrgAccess(organisation=organisation, membership=membership)
        context = _overview_context(access, DashboardFilter())
        with cache_filling(_body_cache_key(context)):
            render_to_string("reports/org_overview.html", context)
        warmed += 1
    return warmed


def _body_cache_key(context: dict[str, Any]) -> str:
    # The key `{% cache 86400 dashboard-body body_key %}` writes under (the templates' body fragments).
    return make_template_fragment_key("dashboard-body", [context["body_key"]])


def _render_body(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """Render a page with a deferred body, one request at a time per missing body (reports/dashboards/cache.py):
    after an import, the first viewers of a page wait for one render instead of each building the figures."""
    with cache_filling(_body_cache_key(context)):
        return render(request, template, context)


def _deferred_body(access: OrgAccess, key: str, parts: Any) -> dict[str, Any]:
    """Context for a page body rendered once per import (the generation) and per reader scope.

    The body is cached as HTML by `{% cache %}` under `body_key`; `parts` (figures, tables) is only
    called on a miss (`{% load_body_parts %}`). Bodies hold no per-user token (no CSRF form), so the
    same HTML serves every reader with the same role and scope. Under load this is what keeps
    dashboards in the tens of milliseconds: building figures is the expensive step, not the SQL.
    """
    return {"body_key": _body_key(access, key), "body_parts": parts}


def _body_key(access: OrgAccess, key: str) -> str:
    generation = dashboard_generation(access.organisation.id)
    return f"{access.organisation.id}:{generation}:{key}"


def _records_url(org_slug: str, flt: DashboardFilter, **changes: Any) -> str:
    return reverse("org-records", args=[org_slug]) + flt.link(**changes)


def _overview_parts(
    access: OrgAccess, flt: DashboardFilter, scope: ProjectScope, overview: rollup_selectors.Overview
) -> dict[str, Any]:
    """Rows with their drill-down links and the figures of the overview (escaping happens in charts)."""
    org = access.organisation.slug
    slugs = {p.id: p.slug for p in scope.projects}
    names = {p.id: p for p in scope.projects}
    project_urls: dict[int | None, str] = {
        pid: reverse("project-detail", args=[org, slug]) + flt.link(projects=()) for pid, slug in slugs.items()
    }
    if access.can(Capability.VIEW_WHOLE_ORG):
        project_urls[None] = _records_url(org, flt, projects=(UNALLOCATED,))
    scope_rows = [
        {**row, "url": reverse("org-overview", args=[org]) + flt.link(scope=row["scope"], category=row["category"])}
        for row in _scope_keys(overview.by_scope.to_dict("records"))
    ]
    providers = [
        {
            **row,
            "label": row["provider"] or aggregation.NO_PROVIDER_LABEL,
            "url": _records_url(org, flt, provider=row["provider"]),
        }
        for row in overview.by_provider.to_dict("records")
    ]
    regions = [
        {
            **row,
            "label": "/".join(v for v in (row["provider"], row["region"]) if v) or aggregation.NO_REGION_LABEL,
            "url": _records_url(org, flt, provider=row["provider"], region=row["region"]),
        }
        for row in overview.by_region.to_dict("records")
    ]
    services = [
        {
            **row,
            "label": (f"{row['provider']}: " if row["provider"] else "")
            + (row["service"] or aggregation.NO_SERVICE_LABEL),
            "url": _records_url(org, flt, provider=row["provider"], service=row["service"]),
        }
        for row in overview.by_service.to_dict("records")
    ]
    top = [
        {
            **row,
            "url": _records_url(
                org,
                flt,
                projects=(slugs.get(row["project_id"], UNALLOCATED),),
                source=row["source"],
                provider=row["provider"],
                service=row["service"],
                region=row["region"],
            ),
        }
        for row in overview.top.to_dict("records")
    ]
    month_urls = (
        {m: reverse("org-overview", args=[org]) + _period_link(flt, m) for m in overview.trend["month"]}
        if len(overview.trend)
        else {}
    )
    figures = {}
    if not overview.is_empty:
        unit = "tCO2e"
        figures = {
            "trend": charts.month_stacked(overview.trend, unit=unit, grain=flt.grain, urls=month_urls),
            "scope": charts.scope_bar(overview.by_scope, unit=unit, urls=[r["url"] for r in scope_rows]),
            "project": charts.project_bar(overview.by_project, project_urls, unit=unit),
            "provider": _dim_figure(providers, "Emissions by provider (location-based)"),
            "region": _dim_figure(regions, "Emissions by region (location-based)"),
            "service": _dim_figure(services, "Emissions by service (location-based)"),
        }
    # Large organisations: the page shows the biggest projects; "My projects" and the records list have all.
    project_rows = [
        {**row, "url": project_urls.get(row["project_id"]), "slug": slugs.get(row["project_id"])}
        for row in overview.by_project.head(TABLE_ROWS).to_dict("records")
    ]
    return {
        "figures": figures,
        "scope_rows": scope_rows,
        "project_rows": project_rows,
        "trend_rows": [{**row, "url": month_urls.get(row["month"], "")} for row in overview.trend.to_dict("records")],
        "provider_rows": providers,
        "region_rows": regions,
        "service_rows": services,
        "top_rows": top,
        "unallocated_url": project_urls.get(None, ""),
        "unmapped_rows": [
            {**row, "url": _records_url(org, flt, provider=row["provider"], region=row["region"])}
            for row in overview.unmapped
        ],
        "idle_projects": [names[pid] for pid in overview.idle_project_ids[:IDLE_SHOWN]],
        "idle_more": max(0, len(overview.idle_project_ids) - IDLE_SHOWN),
        "project_count": len(scope.projects),
        "projects": _project_listing(scope, overview, project_urls, flt, org)[:TABLE_ROWS],
    }


def _scope_keys(rows: list[dict[Hashable, Any]]) -> list[dict[Hashable, Any]]:
    for row in rows:
        scope, _, category = str(row["scope_key"]).removeprefix("scope").partition(".cat")
        row["scope"], row["category"] = int(scope), category
    return rows


def _period_link(flt: DashboardFilter, first: Any) -> str:
    """The filter narrowed to one month or quarter of the trend (a click on a bar)."""
    months = 3 if flt.grain == "quarter" else 1
    following = add_months(month_start(first), months)
    return flt.link(period="", start=first, end=following - dt.timedelta(days=1), grain="month")


def _dim_figure(rows: list[dict[Hashable, Any]], title: str) -> dict[str, Any]:
    import pandas as pd

    frame = pd.DataFrame({"kgco2e_location": [r["kgco2e_location"] for r in rows]})
    return charts.dimension_bar(
        frame, labels=[r["label"] for r in rows], urls=[r["url"] for r in rows], title=title, unit="tCO2e"
    )


def _project_listing(
    scope: ProjectScope,
    overview: rollup_selectors.Overview,
    urls: dict[int | None, str],
    flt: DashboardFilter,
    org: str,
) -> list[dict[str, Any]]:
    totals = {row["project_id"]: row for row in overview.by_project.to_dict("records")}
    return [{"project": p, "url": urls[p.id], **_metrics(totals.get(p.id))} for p in scope.projects]


def _metrics(row: dict[Hashable, Any] | None) -> dict[str, Any]:
    return {metric: (row or {}).get(metric, 0) for metric in aggregation.METRICS}


@login_required
@require_GET
def project_detail(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponseBase:
    access = project_access_for_request(request, org_slug, project_slug)
    try:
        flt = dashboard_filter_parse(request.GET)
        if request.GET.get("format") == "csv":
            _, runs = _runs_table(request, access, flt, experiment=None)
            return exports.runs_csv_response(runs, filename=f"{org_slug}-{project_slug}-runs.csv")
        # Validate sort, page and search now, so a bad value is a 400 even when the body comes from the cache.
        selectors.run_sort_parse(request.GET.get("sort"))
        _page_number(request.GET.get("page"))
        _output_format(request.GET.get("format"))
        search = run_search_parse(request.GET)
    except InvalidFilter as error:
        return _bad_request(request, error)
    project = access.project
    scope = ProjectScope(ids=(project.id,), unallocated=False, projects=(ProjectRef.of(project),))
    organisation_id = access.org.organisation.id

    def parts() -> dict[str, Any]:
        table, _ = _runs_table(request, access, flt, experiment=None)
        return {
            "summary": rollup_selectors.filtered_totals(organisation_id=organisation_id, scope=scope, flt=flt),
            "sources": _source_rows(access, flt, scope),
            "table": table,
            "experiments": _experiment_rows(access, flt),
            "figure": _runs_figure(access, flt, None, f"Emissions per run: {project.name}"),
        }

    query = request.GET.urlencode()
    context = {
        "access": access,
        "org": access.org.organisation,
        "project": project,
        **_filter_context(access.org, flt),
        "search": search,
        "breadcrumbs": _crumbs(access, flt),
        **_deferred_body(access.org, f"project:{project.id}:{_digest(query)}", parts),
    }
    return _render_body(request, "reports/project_detail.html", context)


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _experiment_rows(access: ProjectAccess, flt: DashboardFilter) -> list[dict[str, Any]]:
    org_slug, project_slug = access.org.organisation.slug, access.project.slug
    rows = selectors.experiment_list(project=access.project, flt=flt)
    for row in rows:
        row["label"] = aggregation.experiment_label(row["experiment"])
        row["url"] = reverse("experiment-detail", args=[org_slug, project_slug, experiment_slug(row["experiment"])])
    return rows


def _source_rows(access: ProjectAccess, flt: DashboardFilter, scope: ProjectScope) -> list[dict[Hashable, Any]]:
    """The project's sources (provider/service/region or codecarbon), each linking to its ledger rows."""
    org = access.org.organisation
    frame = rollup_selectors.source_breakdown(organisation_id=org.id, scope=scope, flt=flt)
    rows = frame.to_dict("records")
    for row in rows:
        row["url"] = _records_url(
            org.slug,
            flt,
            projects=(access.project.slug,),
            source=row["source"],
            provider=row["provider"],
            service=row["service"],
            region=row["region"],
        )
    return rows


@login_required
@require_GET
def experiment_detail(request: HttpRequest, org_slug: str, project_slug: str, experiment: str) -> HttpResponseBase:
    access = project_access_for_request(request, org_slug, project_slug)
    try:
        name = _experiment_from_slug(experiment)
    except InvalidFilter as error:
        return _bad_request(request, error)
    if not selectors.run_list(project=access.project, flt=DashboardFilter(), experiment=name).exists():
        raise Http404("No such experiment")
    try:
        flt = dashboard_filter_parse(request.GET)
        table, runs = _runs_table(request, access, flt, experiment=name)
    except InvalidFilter as error:
        return _bad_request(request, error)
    if request.GET.get("format") == "csv":
        return exports.runs_csv_response(runs, filename=f"{org_slug}-{project_slug}-{experiment}-runs.csv")
    experiments = selectors.experiment_list(project=access.project, flt=flt)
    totals = next((row for row in experiments if row["experiment"] == name), None)
    label = aggregation.experiment_label(name)
    context = {
        "access": access,
        "org": access.org.organisation,
        "project": access.project,
        "experiment": label,
        **_filter_context(access.org, flt),
        "totals": totals,
        "table": table,
        "figure": _runs_figure(access, flt, name, f"Emissions per run: {label}"),
        "breadcrumbs": _crumbs(access, flt, {"label": label, "url": ""}),
    }
    return render(request, "reports/experiment_detail.html", context)


def _get_entry_for_user(
    request: HttpRequest, org_slug: str, project_slug: str, pk: int
) -> tuple[ProjectAccess, LedgerEntry]:
    access = project_access_for_request(request, org_slug, project_slug)
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
    return _render_entry(request, access.org, entry)


def _get_org_entry_for_user(request: HttpRequest, org_slug: str, pk: int) -> tuple[OrgAccess, LedgerEntry]:
    access = org_access_for_request(request, org_slug)
    scope = rollup_selectors.project_scope(access=access, flt=DashboardFilter())
    entry = selectors.ledger_entry_for_org(organisation_id=access.organisation.id, project_q=scope.q(), pk=pk)
    if entry is None:
        raise Http404("No such record")
    return access, entry


@login_required
@require_GET
def org_record_detail(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """A ledger row by id alone: the drill-down target for unallocated billing lines (no project)."""
    access, entry = _get_org_entry_for_user(request, org_slug, pk)
    return _render_entry(request, access, entry)


def _render_entry(request: HttpRequest, access: OrgAccess, entry: LedgerEntry) -> HttpResponse:
    try:
        chosen, alternatives = engineer.run_what_if(entry=entry, zone=request.GET.get("zone"))
    except InvalidFilter as error:
        return _bad_request(request, error)
    attributes = entry.run_attributes
    hardware, other_attributes = _attribute_rows(attributes)
    context = {
        "access": access,
        "org": access.organisation,
        "project": entry.project,
        "entry": entry,
        "hardware": hardware,
        "other_attributes": other_attributes,
        "codecarbon_kg": attributes.get("codecarbon_kg"),
        "source_time": _source_time(entry, attributes),
        "implied_factor": attributes.get("implied_factor_g_per_kwh"),
        "factor_set": _factor_set(entry),
        "flags": [flag_explain(str(code)) for code in entry.flags or []],
        "what_if": chosen,
        "alternatives": alternatives,
        "zones": engineer.zone_choices(),
        "zone": request.GET.get("zone", ""),
        "breadcrumbs": _entry_crumbs(access, entry),
    }
    return render(request, "reports/ledger_detail.html", context)


def _source_time(entry: LedgerEntry, attributes: dict[str, Any]) -> dict[str, Any] | None:
    """The record's end as its source wrote it: codecarbon's local time in the zone it was read in (stored at
    import; older rows fall back to the project's zone setting). Billing exports are already UTC."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not entry.source.startswith("codecarbon"):
        return None
    name = str(attributes.get("source_timezone") or "")
    stored = bool(name)
    if not name and entry.project is not None:
        name = entry.project.host_timezone or "UTC"
    try:
        local = entry.period_end.astimezone(ZoneInfo(name or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return None
    offset = local.strftime("%z")
    # Formatted here: the template's date filter would convert an aware time back to the site's zone.
    return {
        "local": local.strftime("%Y-%m-%d %H:%M:%S"),
        "utc": entry.period_end.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "offset": f"UTC{offset[:3]}:{offset[3:]}",
        "zone": name or "UTC",
        "from_setting": not stored,
    }


def _factor_set(entry: LedgerEntry) -> EmissionFactorSet | None:
    """The factor set behind the row, for its source, version and load date: through the row's factor, or, for a
    row that kept only the version label (`name@vN`), among the sets its organisation sees (its own first)."""
    if entry.factor is not None:
        return entry.factor.factor_set
    name, sep, version = entry.factor_version.rpartition("@v")
    if not sep or not version.isdigit():
        return None
    candidates = EmissionFactorSet.objects.filter(
        Q(organisation=None) | Q(organisation_id=entry.organisation_id), name=name, version=int(version)
    )
    return candidates.order_by(F("organisation_id").asc(nulls_last=True)).first()


def _entry_crumbs(access: OrgAccess, entry: LedgerEntry) -> list[dict[str, str]]:
    """org → project (or Unallocated) → source (experiment or provider/service/region) → record."""
    org = access.organisation
    crumbs = [{"label": org.name, "url": reverse("org-overview", args=[org.slug])}]
    flt = DashboardFilter(projects=(entry.project.slug if entry.project else UNALLOCATED,))
    if entry.project is not None:
        crumbs.append(
            {"label": entry.project.name, "url": reverse("project-detail", args=[org.slug, entry.project.slug])}
        )
    else:
        crumbs.append({"label": aggregation.UNALLOCATED_LABEL, "url": _records_url(org.slug, flt)})
    if entry.source in {Source.CODECARBON, Source.CODECARBON_TASK} and entry.project is not None:
        url = reverse("experiment-detail", args=[org.slug, entry.project.slug, experiment_slug(entry.experiment)])
        crumbs.append({"label": aggregation.experiment_label(entry.experiment), "url": url})
    else:
        label = " · ".join(v for v in (entry.get_source_display(), entry.provider, entry.service, entry.region) if v)
        url = _records_url(
            org.slug, flt, source=entry.source, provider=entry.provider, service=entry.service, region=entry.region
        )
        crumbs.append({"label": label, "url": url})
    crumbs.append({"label": f"Record {entry.run_id or entry.pk}", "url": ""})
    return crumbs


@login_required
@require_GET
def org_records(request: HttpRequest, org_slug: str) -> HttpResponseBase:
    """The ledger rows behind a chart element or table row, for the same filter (paged, sortable, CSV)."""
    access = org_access_for_request(request, org_slug)
    try:
        flt = dashboard_filter_parse(request.GET)
        scope = rollup_selectors.project_scope(access=access, flt=flt)
        sort = selectors.record_sort_parse(request.GET.get("sort"))
        number = _page_number(request.GET.get("page"))
        output = _output_format(request.GET.get("format"))
        flag = _flag_param(request.GET.get("flag"))
    except InvalidFilter as error:
        return _bad_request(request, error)
    records = selectors.record_list(organisation_id=access.organisation.id, project_q=scope.q(), flt=flt, sort=sort)
    if flag:
        records = flag_filtered(records, flag)
    if output == "csv":
        return exports.records_csv_response(records, filename=f"{org_slug}-records.csv")

    def parts() -> dict[str, Any]:
        rows, has_next = selectors.record_page(records, number=number, size=RECORDS_PER_PAGE)
        return {
            **_filter_context(access, flt),
            "rows": [_record_row(access, row) for row in rows],
            "table": _records_links(request, sort, number, has_next),
            # Totals are the rollups' (one totals route); a flag narrows the list below the rollups' grain.
            "totals": None
            if flag
            else rollup_selectors.filtered_totals(organisation_id=access.organisation.id, scope=scope, flt=flt),
            "flag": flag_explain(flag) if flag else None,
        }

    context = {
        "access": access,
        "org": access.organisation,
        "breadcrumbs": _records_crumbs(access, flt, scope),
        **_deferred_body(access, f"records:{access.role}:{scope.key}:{flt.cache_part}:{sort}:{number}:{flag}", parts),
    }
    return _render_body(request, "reports/records.html", context)


RECORD_HEADERS = (("end", "End (UTC)"), ("kwh", "Energy facility (kWh)"), ("kg", "kgCO2e location"), ("cost", "Cost"))


def _records_links(request: HttpRequest, sort: str, number: int, has_next: bool) -> dict[str, Any]:
    headers = []
    for key, label in RECORD_HEADERS:
        active = sort.removeprefix("-") == key
        next_sort = key if active and sort.startswith("-") else "-" + key
        aria = ("descending" if sort.startswith("-") else "ascending") if active else ""
        headers.append(
            {"key": key, "label": label, "url": _query(request.GET, sort=next_sort, page=None), "aria": aria}
        )
    return {
        "headers": {h["key"]: h for h in headers},
        "number": number,
        "previous": _query(request.GET, page=str(number - 1)) if number > 1 else "",
        "next": _query(request.GET, page=str(number + 1)) if has_next else "",
        "csv": _query(request.GET, format="csv", page=None),
    }


def _flag_param(value: str | None) -> str:
    """A flag code from the glossary, or "" (no flag filter); anything else is a bad request."""
    if not value:
        return ""
    if value not in GLOSSARY:
        raise InvalidFilter("flag must be a flag code listed in the glossary.")
    return value


def _record_row(access: OrgAccess, entry: LedgerEntry) -> LedgerEntry:
    org = access.organisation.slug
    if entry.project is not None:
        entry.detail_url = reverse("ledger-detail", args=[org, entry.project.slug, entry.pk])
    else:
        entry.detail_url = reverse("org-record-detail", args=[org, entry.pk])
    return entry


def _records_crumbs(access: OrgAccess, flt: DashboardFilter, scope: ProjectScope) -> list[dict[str, str]]:
    org = access.organisation
    crumbs = [{"label": org.name, "url": reverse("org-overview", args=[org.slug]) + flt.link(projects=())}]
    if len(flt.projects) == 1 and flt.projects[0] != UNALLOCATED and scope.projects:
        project = scope.projects[0]
        url = reverse("project-detail", args=[org.slug, project.slug]) + flt.link(projects=())
        crumbs.append({"label": project.name, "url": url})
    elif flt.projects == (UNALLOCATED,):
        crumbs.append({"label": aggregation.UNALLOCATED_LABEL, "url": ""})
    parts = [flt.source, flt.provider, flt.service, flt.region, flt.scope_param]
    crumbs.append({"label": "Records: " + (" · ".join(p for p in parts if p) or "all sources"), "url": ""})
    return crumbs


@login_required
@require_GET
def my_projects(request: HttpRequest, org_slug: str) -> HttpResponse:
    access = org_access_for_request(request, org_slug)
    try:
        flt = dashboard_filter_parse(request.GET)
    except InvalidFilter as error:
        return _bad_request(request, error)
    rows = engineer.my_projects(access=access, flt=flt)
    for row in rows:
        row["url"] = reverse("project-detail", args=[org_slug, row["project"].slug]) + flt.querystring
    context = {"access": access, "org": access.organisation, **_filter_context(access, flt), "rows": rows}
    return render(request, "reports/my_projects.html", context)


@login_required
@require_GET
def experiment_compare(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access = project_access_for_request(request, org_slug, project_slug)
    try:
        names = [_experiment_from_slug(v) for v in dict.fromkeys(request.GET.getlist("experiment")) if v]
        flt = dashboard_filter_parse(request.GET)
        rows = engineer.experiment_compare(project=access.project, flt=flt, names=names)
    except InvalidFilter as error:
        return _bad_request(request, error)
    for row in rows:
        url = reverse("experiment-detail", args=[org_slug, project_slug, experiment_slug(row["experiment"])])
        row["url"] = url + flt.querystring
    context = {
        "access": access,
        "org": access.org.organisation,
        "project": access.project,
        **_filter_context(access.org, flt),
        "rows": rows,
        "figures": compare.compare_table(rows),
        "experiments": _experiment_rows(access, flt),
        "chosen": {row["experiment"] for row in rows},
        "figure": charts.compare_bar(rows) if rows else None,
        "breadcrumbs": _crumbs(access, flt, {"label": "Compare experiments", "url": ""}),
    }
    return render(request, "reports/experiment_compare.html", context)


SEARCH_MAX_LENGTH = 100


@login_required
@require_GET
def project_search(request: AuthedHttpRequest, org_slug: str) -> JsonResponse:
    """Up to 20 of the reader's projects matching `q` (name, slug or team), for the filter form's search box.

    Engineers find only their own projects; an outsider gets 404 like every page of the organisation.
    """
    access = org_access_for_request(request, org_slug)
    text = request.GET.get("q", "")
    if len(text) > SEARCH_MAX_LENGTH or "\x00" in text:
        return JsonResponse(
            {"error": f"q must be at most {SEARCH_MAX_LENGTH} characters of text, without NUL."}, status=400
        )
    matches = rollup_selectors.project_search(access=access, text=text)
    return JsonResponse({"results": [{"slug": p.slug, "name": p.name, "team": p.team} for p in matches]})
