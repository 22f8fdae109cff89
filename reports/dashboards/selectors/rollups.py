"""Overview reads from the rollups: whole months from `LedgerMonthly`, partial edge months from `LedgerDaily`.

A period such as 2025-01-15 … 2025-04-30 reads 15–31 January from the daily rollup and February–April
from the monthly one; the parts are summed in pandas. Both rollups carry every dashboard dimension
(project, source, provider, region, service, scope, category, method, region_unmapped), so every filter
of `reports.dashboards.filters` applies without touching the ledger. Results are cached under the organisation's
dashboard generation (docs/operations.md §11), which every import bumps.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from greenesg.accounts.access import Capability, OrgAccess
from greenesg.accounts.models import Project
from greenesg.footprint.models import LedgerDaily, LedgerMonthly
from greenesg.lib.periods import month_end, month_start, next_month_start
from reports.dashboards import aggregation
from reports.dashboards.cache import dashboard_cached
from reports.dashboards.filters import UNALLOCATED, DashboardFilter, InvalidFilter
from reports.dashboards.selectors.footprint import dimension_filtered

if TYPE_CHECKING:
    import pandas as pd

TOP_EMITTERS = 10
_DIMENSIONS = {
    "project_id",
    "source",
    "provider",
    "region",
    "service",
    "scope",
    "category",
    "method",
    "region_unmapped",
}


class ProjectRef(NamedTuple):
    """What the dashboards need of a project: cheap to cache and to unpickle, unlike 1,000 model instances."""

    id: int
    slug: str
    name: str
    team: str

    @classmethod
    def of(cls, project: Project) -> ProjectRef:
        return cls(project.id, project.slug, project.name, project.team)


@dataclass(frozen=True)
class ProjectScope:
    """Which ledger projects a read covers: `ids=None` is the whole organisation (unallocated included)."""

    ids: tuple[int, ...] | None
    unallocated: bool
    projects: tuple[ProjectRef, ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        if self.ids is None:
            return "org"
        joined = ",".join(str(i) for i in sorted(self.ids)) + (",u" if self.unallocated else "")
        return hashlib.sha256(joined.encode()).hexdigest()[:16]

    def q(self) -> Q:
        if self.ids is None:
            return Q()
        condition = Q(project_id__in=list(self.ids))
        return condition | Q(project_id__isnull=True) if self.unallocated else condition


def _project_refs_read(organisation_id: int) -> list[ProjectRef]:
    rows = Project.objects.filter(organisation_id=organisation_id).order_by("name", "slug")
    return [ProjectRef(*row) for row in rows.values_list("id", "slug", "name", "team")]


def org_project_refs(organisation_id: int, *, fresh: bool = False) -> list[ProjectRef]:
    """The organisation's projects by name, cached under the dashboard generation.

    Saving or deleting a project bumps the generation (reports/apps.py), so a rename shows at once; `fresh`
    reads past the cache for the rare miss (a project created in a transaction that has not bumped yet).
    """
    if fresh:
        return _project_refs_read(organisation_id)
    return dashboard_cached(organisation_id, "project-refs", lambda: _project_refs_read(organisation_id))


def visible_project_refs(access: OrgAccess) -> list[ProjectRef]:
    """The projects the reader may see, by name: all for whole-organisation readers, else their own.

    Membership is read live (one query of ids), never from the cache: a removed engineer loses access at once.
    """
    organisation_id = access.organisation.id
    refs = org_project_refs(organisation_id)
    if access.can(Capability.VIEW_WHOLE_ORG):
        return refs
    own = set(access.visible_projects().values_list("id", flat=True))
    if not own <= {p.id for p in refs}:
        refs = org_project_refs(organisation_id, fresh=True)
    return [p for p in refs if p.id in own]


def project_scope(*, access: OrgAccess, flt: DashboardFilter) -> ProjectScope:
    """Resolve the `project` and `team` filters against the projects the reader may see.

    Raises InvalidFilter for a slug or team the reader cannot see (the same message whether it exists or not,
    so a 400 never reveals another team's project).
    """
    visible = visible_project_refs(access)
    whole_org = access.can(Capability.VIEW_WHOLE_ORG)
    by_slug = {p.slug: p for p in visible} if flt.projects else {}
    if any(s not in by_slug and s != UNALLOCATED for s in flt.projects):
        # Perhaps a project newer than the cached list: look once more in the database before refusing.
        fresh = org_project_refs(access.organisation.id, fresh=True)
        ids = {p.id for p in visible} if not whole_org else {p.id for p in fresh}
        visible = [p for p in fresh if p.id in ids]
        by_slug = {p.slug: p for p in visible}
    return scope_resolve(visible=visible, whole_org=whole_org, flt=flt, by_slug=by_slug)


def scope_resolve(
    *, visible: list[ProjectRef], whole_org: bool, flt: DashboardFilter, by_slug: dict[str, ProjectRef] | None = None
) -> ProjectScope:
    """The scope from the visible projects alone (no database): the permission rules of `project_scope`."""
    chosen = visible
    unallocated = whole_org
    if flt.projects:
        by_slug = by_slug if by_slug is not None else {p.slug: p for p in visible}
        unknown = [s for s in flt.projects if s not in by_slug and not (s == UNALLOCATED and whole_org)]
        if unknown:
            raise InvalidFilter(f"project {unknown[0]!r} is not a project you can see.")
        chosen = [by_slug[s] for s in flt.projects if s in by_slug]
        unallocated = UNALLOCATED in flt.projects
    if flt.team:
        chosen = [p for p in chosen if p.team.casefold() == flt.team.casefold()]
        unallocated = False
        if not chosen:
            raise InvalidFilter(f"no project you can see belongs to team {flt.team!r}.")
    if chosen is visible and whole_org:
        return ProjectScope(ids=None, unallocated=True, projects=tuple(visible))
    return ProjectScope(ids=tuple(p.id for p in chosen), unallocated=unallocated, projects=tuple(chosen))


# --- period split -------------------------------------------------------------------------------------


Range = tuple[dt.date | None, dt.date | None]


def period_parts(start: dt.date | None, end: dt.date | None) -> tuple[Range | None, list[Range]]:
    """Split [start, end] into (whole months as a month-start range or None, edge day ranges)."""
    m_from = None if start is None else (start if start.day == 1 else next_month_start(start))
    m_to = None
    if end is not None:
        m_to = month_start(end) if end == month_end(end) else month_start(month_start(end) - dt.timedelta(days=1))
    if m_from is not None and m_to is not None and m_from > m_to:
        return None, [(start, end)]
    days: list[Range] = []
    if start is not None and m_from is not None and m_from != start:
        days.append((start, m_from - dt.timedelta(days=1)))
    if end is not None and m_to is not None and month_end(m_to) != end:
        days.append((next_month_start(m_to), end))
    return (m_from, m_to), days


# --- grouped reads ------------------------------------------------------------------------------------


def _dimension_filtered(queryset: QuerySet[Any], scope: ProjectScope, flt: DashboardFilter) -> QuerySet[Any]:
    return dimension_filtered(queryset.filter(scope.q()), flt)


def _rows(queryset: QuerySet[Any], dims: list[str], month: Any) -> list[tuple]:
    sums = {f"s_{column}": Sum(column) for column in aggregation.ROLLUP_SUMS}
    names = [("period_month" if d == "month" else d) for d in dims]
    if "month" in dims:
        queryset = queryset.annotate(period_month=month)
    return list(queryset.values(*names).annotate(**sums).order_by().values_list(*names, *sums))


def rollup_group(
    *,
    organisation_id: int,
    scope: ProjectScope,
    flt: DashboardFilter,
    dims: list[str],
    extra: Q | None = None,
    market: bool = True,
) -> pd.DataFrame:
    """Inventory sums grouped by `dims` (any of the rollup dimensions and "month") for the filter's period.

    Market-based kg follow the report's method (reports/dashboards/selectors/totals.py), except for the rollup-only
    `extra` conditions (the unmapped-region signal, which shows location-based figures only).
    """
    import pandas as pd

    unknown = set(dims) - _DIMENSIONS - {"month"}
    if unknown:
        raise ValueError(f"not a rollup dimension: {sorted(unknown)}")
    if market and extra is None and "region_unmapped" not in dims:
        return _with_market(organisation_id=organisation_id, scope=scope, flt=flt, dims=dims)
    months, days = period_parts(flt.start, flt.end)
    base = Q(organisation_id=organisation_id, in_inventory=True) & (extra or Q())
    parts: list[list[tuple]] = []
    if months is not None:
        monthly = _dimension_filtered(LedgerMonthly.objects.filter(base), scope, flt)
        if months[0] is not None:
            monthly = monthly.filter(month__gte=months[0])
        if months[1] is not None:
            monthly = monthly.filter(month__lte=months[1])
        parts.append(_rows(monthly, dims, F("month")))
    for first, last in days:
        daily = _dimension_filtered(LedgerDaily.objects.filter(base), scope, flt)
        daily = daily.filter(day__gte=first) if first is not None else daily
        daily = daily.filter(day__lte=last) if last is not None else daily
        parts.append(_rows(daily, dims, TruncMonth("day")))
    columns = [*dims, *aggregation.ROLLUP_SUMS]
    frames = [pd.DataFrame(rows, columns=columns) for rows in parts if rows]
    return aggregation.rollup_merge(frames, dims)


def _with_market(*, organisation_id: int, scope: ProjectScope, flt: DashboardFilter, dims: list[str]) -> pd.DataFrame:
    # Market-based Scope 2 differs from the rollup's figure by scope, so group by scope too, then regroup.
    from reports.dashboards.selectors.totals import market_apply, regroup

    grouped = dims if "scope" in dims else [*dims, "scope"]
    frame = rollup_group(organisation_id=organisation_id, scope=scope, flt=flt, dims=grouped, market=False)
    frame = market_apply(frame, organisation_id=organisation_id, scope=scope, flt=flt, dims=grouped)
    return frame if grouped == dims else regroup(frame, dims)


@dataclass(frozen=True)
class Overview:
    totals: dict[str, Any]
    previous: dict[str, Any] | None
    change: dict[str, float | None]
    measured_share: float | None
    methods: list[dict[str, Any]]
    by_scope: pd.DataFrame
    trend: pd.DataFrame
    by_project: pd.DataFrame
    by_provider: pd.DataFrame
    by_region: pd.DataFrame
    by_service: pd.DataFrame
    top: pd.DataFrame
    unallocated_kg: float
    unmapped: list[dict[Hashable, Any]]  # DataFrame records
    idle_project_ids: list[int]

    @property
    def is_empty(self) -> bool:
        return self.totals["records"] == 0

    @property
    def unallocated_share(self) -> float | None:
        total = self.totals["kgco2e_location"]
        return self.unallocated_kg / total if total else None


def _compute(organisation_id: int, scope: ProjectScope, flt: DashboardFilter) -> Overview:
    from reports.dashboards.selectors.totals import scope2_rows_shared

    with scope2_rows_shared():  # the breakdowns below share one read of the filter's Scope 2 rows
        return _compute_shared(organisation_id, scope, flt)


def _compute_shared(organisation_id: int, scope: ProjectScope, flt: DashboardFilter) -> Overview:
    """1. One grouped read for every breakdown but the trend and the unmapped regions; 2. the same totals for the
    previous period; 3. pandas shaping."""
    from reports.dashboards.selectors.totals import regroup

    def group(dims: list[str], **kwargs: Any) -> pd.DataFrame:
        return rollup_group(organisation_id=organisation_id, scope=scope, flt=flt, dims=dims, **kwargs)

    # One read at the finest grain the breakdowns below need (no month), each breakdown regrouped from it in
    # pandas: the organisation's monthly rollup is scanned once instead of six times (a cold overview at 10M
    # ledger rows and 1,000 projects spent 25–60 ms per scan). Market-based kg are shared out per ledger row
    # (selectors/totals.py), so they regroup like any sum.
    fine = group(["project_id", "source", "provider", "service", "region", "scope", "category", "method"])
    base = regroup(fine, ["source", "scope", "category", "method"])
    totals = aggregation.rollup_totals(base)
    previous_flt = flt.previous()
    previous = None
    if previous_flt is not None:
        previous = aggregation.rollup_totals(
            rollup_group(organisation_id=organisation_id, scope=scope, flt=previous_flt, dims=["source"])
        )
    change = {
        metric: (aggregation.change_ratio(totals[metric], previous[metric]) if previous else None)
        for metric in ("kgco2e_location", "kgco2e_market", "energy_kwh_facility")
    }
    measured, methods = aggregation.method_shares(base)
    keys = [aggregation.scope_key(s, c) for s, c in zip(base["scope"], base["category"], strict=True)]
    by_scope = aggregation.by_scope(base.assign(scope_key=keys))
    per_project = regroup(fine, ["project_id", "source"])
    by_project = aggregation.by_project(per_project, {p.id: p.name for p in scope.projects})
    seen = {pid for pid, records in zip(per_project["project_id"], per_project["records"], strict=True) if records}
    unallocated = by_project[by_project["project_id"].isna()]["kgco2e_location"].sum() if len(by_project) else 0.0
    unmapped = group(["provider", "region"], extra=Q(region_unmapped=True))
    return Overview(
        totals=totals,
        previous=previous,
        change=change,
        measured_share=measured,
        methods=methods,
        by_scope=by_scope,
        trend=aggregation.trend(group(["month", "scope", "category", "source"]), grain=flt.grain),
        by_project=by_project,
        by_provider=_dimension(regroup(fine, ["provider", "source"]), ["provider"]),
        by_region=_dimension(regroup(fine, ["provider", "region", "source"]), ["provider", "region"]),
        by_service=_dimension(regroup(fine, ["provider", "service", "source"]), ["provider", "service"]),
        top=_top(regroup(fine, ["project_id", "source", "provider", "service", "region"]), scope),
        unallocated_kg=float(unallocated),
        unmapped=unmapped.sort_values("kgco2e_location", ascending=False).to_dict("records"),
        idle_project_ids=[p.id for p in scope.projects if p.id not in seen],
    )


def _dimension(frame: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    if frame.empty:
        return frame.assign(label=[])
    # `records` too: billing lines are records but not runs, and the project's sources table counts both.
    sums = [*aggregation.METRICS, *(["records"] if "records" in frame else [])]
    grouped = frame.groupby(dims, as_index=False)[sums].sum()
    grouped = grouped.sort_values(["kgco2e_location", *dims], ascending=[False, *[True] * len(dims)], kind="stable")
    return grouped.reset_index(drop=True)


def _top(frame: pd.DataFrame, scope: ProjectScope) -> pd.DataFrame:
    names = {p.id: p.name for p in scope.projects}
    top = frame.sort_values("kgco2e_location", ascending=False, kind="stable").head(TOP_EMITTERS).reset_index(drop=True)
    return top.assign(project=[names.get(pid, aggregation.UNALLOCATED_LABEL) for pid in top["project_id"]])


def org_overview_data(*, access: OrgAccess, flt: DashboardFilter) -> tuple[ProjectScope, Overview]:
    """The overview for the reader (engineers: their projects only), cached until the next import."""
    scope = project_scope(access=access, flt=flt)
    organisation_id = access.organisation.id
    key = f"overview:{scope.key}:{flt.cache_part}"
    return scope, dashboard_cached(organisation_id, key, lambda: _compute(organisation_id, scope, flt))


def source_breakdown(*, organisation_id: int, scope: ProjectScope, flt: DashboardFilter) -> pd.DataFrame:
    """Inventory sums per (source, provider, service, region): the "source" level of the drill-down."""

    def compute() -> pd.DataFrame:
        frame = rollup_group(
            organisation_id=organisation_id, scope=scope, flt=flt, dims=["source", "provider", "service", "region"]
        )
        return _dimension(frame, ["source", "provider", "service", "region"])

    return dashboard_cached(organisation_id, f"sources:{scope.key}:{flt.cache_part}", compute)


def filtered_totals(*, organisation_id: int, scope: ProjectScope, flt: DashboardFilter) -> dict[str, Any]:
    """Inventory totals for any filter (the KPI cards of project pages)."""

    def compute() -> dict[str, Any]:
        frame = rollup_group(organisation_id=organisation_id, scope=scope, flt=flt, dims=["source"])
        return aggregation.rollup_totals(frame)

    return dashboard_cached(organisation_id, f"totals:{scope.key}:{flt.cache_part}", compute)


def filter_options(*, access: OrgAccess) -> dict[str, Any]:
    """Choices for the filter form: the reader's projects (listed inline when few) and teams, and the
    providers/regions with data.

    For a whole-organisation reader the form's choices are the same for every page until the next import or
    project change (both bump the generation), so they are cached whole: a cached page reads one small entry
    instead of unpickling the organisation's whole project list (1,000 in the dashboard benchmark) for its teams.
    An engineer's projects come from their live membership (`visible_project_refs`), so theirs are derived per page.
    """
    organisation_id = access.organisation.id
    if access.can(Capability.VIEW_WHOLE_ORG):

        def whole_org() -> dict[str, Any]:
            projects = org_project_refs(organisation_id)
            return _filter_choices(projects, _provider_region_choices(organisation_id, None))

        return {**dashboard_cached(organisation_id, "filter-form:org", whole_org), "unallocated": True}
    projects = visible_project_refs(access)
    ids = [p.id for p in projects]
    key = "filter-options:" + ProjectScope(ids=tuple(ids), unallocated=False).key
    values = dashboard_cached(organisation_id, key, lambda: _provider_region_choices(organisation_id, ids))
    return {**_filter_choices(projects, values), "unallocated": False}


def _filter_choices(projects: list[ProjectRef], provider_regions: dict[str, list[str]]) -> dict[str, Any]:
    return {
        # Small lists go into the form's datalist; larger ones are searched (project_search) as the reader types.
        "project_list": projects if len(projects) <= PROJECT_LIST_INLINE else [],
        "teams": sorted({p.team for p in projects if p.team}, key=str.casefold),
        **provider_regions,
    }


def _provider_region_choices(organisation_id: int, project_ids: list[int] | None) -> dict[str, list[str]]:
    rows = LedgerMonthly.objects.filter(organisation_id=organisation_id)
    # Engineers see the providers and regions of their own projects only.
    rows = rows if project_ids is None else rows.filter(project_id__in=project_ids)
    providers = rows.exclude(provider="").values_list("provider", flat=True).distinct().order_by("provider")
    regions = rows.exclude(region="").values_list("region", flat=True).distinct().order_by("region")
    return {"providers": list(providers), "regions": list(regions)}


PROJECT_LIST_INLINE = 50
PROJECT_SEARCH_LIMIT = 20


def project_search(*, access: OrgAccess, text: str) -> list[ProjectRef]:
    """Up to 20 of the reader's projects whose name, slug or team contains `text` (case-insensitive), by name."""
    needle = text.strip().casefold()
    fields = ("name", "slug", "team")
    matches = [p for p in visible_project_refs(access) if any(needle in getattr(p, f).casefold() for f in fields)]
    return matches[:PROJECT_SEARCH_LIMIT]
