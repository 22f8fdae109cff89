"""Reads for dashboards, drill-downs, the summary API and the `footprint` command.

Totals come from the daily rollup (`LedgerDaily`, inventory rows only) and are cached under the
organisation's dashboard generation (docs/operations.md §11: the last step of every import bumps it, so a
cached aggregate never outlives the data it was computed from). Drill-down reads the ledger by index.
Selectors take the whole `DashboardFilter`, so new filter fields (issue 4) need no new signatures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Max, QuerySet, Sum
from django.db.models.functions import TruncMonth

from greenesg.accounts.models import Organisation, Project
from greenesg.footprint.models import LedgerDaily, LedgerEntry
from ingestion.billing.coverage import billing_coverage_for
from reports.dashboards import aggregation
from reports.dashboards.cache import dashboard_cached
from reports.dashboards.filters import DashboardFilter, InvalidFilter, RunSearch, dashboard_filter_build

if TYPE_CHECKING:
    import pandas as pd

RUNS_CHART_LIMIT = 2000  # the most recent runs drawn per chart; the table pages through all of them
RUN_SORTS: dict[str, str] = {
    "end": "period_end",
    "experiment": "experiment",
    "duration": "duration_s",
    "kwh": "energy_it_kwh",
    "kwh_facility": "energy_facility_kwh",
    "kg": "kgco2e_location",
    "kg_market": "kgco2e_market",
}
DEFAULT_RUN_SORT = "-end"


def _ids_part(project_ids: Sequence[int] | None) -> str:
    if project_ids is None:
        return "org"
    joined = ",".join(str(i) for i in sorted(project_ids))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def day_filtered(queryset: QuerySet[Any], flt: DashboardFilter) -> QuerySet[Any]:
    # `day` is the UTC day of period_end in both the ledger and the rollup: one period rule everywhere.
    if flt.start is not None:
        queryset = queryset.filter(day__gte=flt.start)
    if flt.end is not None:
        queryset = queryset.filter(day__lte=flt.end)
    return queryset


def dimension_filtered(queryset: QuerySet[Any], flt: DashboardFilter) -> QuerySet[Any]:
    """The filter's non-project dimensions on a ledger or rollup queryset (the same columns in both)."""
    for name in ("provider", "region", "service", "source"):
        if getattr(flt, name):
            queryset = queryset.filter(**{name: getattr(flt, name)})
    if flt.scope is not None:
        queryset = queryset.filter(scope=flt.scope)
        if flt.category is not None:
            queryset = queryset.filter(category=flt.category)
    return queryset


def _footprint_rows(organisation_id: int, project_ids: Sequence[int] | None, flt: DashboardFilter) -> list[tuple]:
    queryset = LedgerDaily.objects.filter(organisation_id=organisation_id, in_inventory=True)
    if project_ids is not None:
        queryset = queryset.filter(project_id__in=list(project_ids))
    sums = {column: Sum(column) for column in ("records", *aggregation.SUM_COLUMNS)}
    rows = (
        day_filtered(queryset, flt)
        .annotate(month=TruncMonth("day"))
        .values("project_id", "month", "source", "scope", "category")
        .annotate(**sums)
        .order_by()
        .values_list(*aggregation.FRAME_COLUMNS)
    )
    return list(rows)


def footprint_frame(
    *, organisation: Organisation, project_ids: Sequence[int] | None, flt: DashboardFilter
) -> pd.DataFrame:
    """Inventory totals per (project, month, source, scope, category), prepared by `aggregation`.

    `project_ids=None` is the whole organisation, including the unallocated bucket (project NULL).
    """
    import pandas as pd

    if project_ids is not None and not project_ids:
        return aggregation.footprint_prepare(aggregation.empty_footprint_frame())
    key = f"footprint:{_ids_part(project_ids)}:{flt.cache_part}"
    rows = dashboard_cached(organisation.id, key, lambda: _footprint_rows(organisation.id, project_ids, flt))
    frame = pd.DataFrame(rows, columns=list(aggregation.FRAME_COLUMNS)) if rows else None
    return aggregation.footprint_prepare(frame if frame is not None else aggregation.empty_footprint_frame())


def footprint_summary(
    *,
    organisation: Organisation,
    project: Project | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict[str, Any]:
    """The summary object shared by the API and `manage.py footprint --json` (JSON-ready values).

    Figures come from the one totals route (reports/dashboards/selectors/totals.py), so they match the dashboards
    and the report.
    Raises InvalidFilter when start is after end.
    """
    from reports.dashboards.selectors.rollups import ProjectRef, ProjectScope
    from reports.dashboards.selectors.totals import footprint_totals

    flt = dashboard_filter_build(start=start, end=end)
    if project is None:
        scope = ProjectScope(ids=None, unallocated=True)
    else:
        scope = ProjectScope(ids=(project.id,), unallocated=False, projects=(ProjectRef.of(project),))
    return {
        "organisation": organisation.slug,
        "project": project.slug if project is not None else None,
        "start": flt.start.isoformat() if flt.start else None,
        "end": flt.end.isoformat() if flt.end else None,
        **footprint_totals(organisation_id=organisation.id, scope=scope, flt=flt),
        # Billing is covered per organisation: lines are estimated before they are attributed to projects.
        "coverage": {
            "scope": "organisation",
            **billing_coverage_for(
                organisation_id=organisation.id, start=flt.start or dt.date.min, end=flt.end or dt.date.max
            ),
        },
    }


def run_sort_parse(value: str | None) -> str:
    """Validate `?sort=` for the runs table: a key of RUN_SORTS, optionally prefixed with "-"."""
    if value is None or value == "":
        return DEFAULT_RUN_SORT
    if value.removeprefix("-") not in RUN_SORTS:
        allowed = ", ".join(sorted(RUN_SORTS))
        raise InvalidFilter(f"sort must be one of {allowed} (prefix '-' for descending), not {value!r}.")
    return value


def run_list(
    *,
    project: Project,
    flt: DashboardFilter,
    experiment: str | None = None,
    sort: str = DEFAULT_RUN_SORT,
    search: RunSearch | None = None,
) -> QuerySet[LedgerEntry]:
    """codecarbon runs of a project (in the inventory or not), sorted with a stable tie-breaker for paging."""
    queryset = LedgerEntry.objects.filter(project=project, source=aggregation.RUN_SOURCE)
    if experiment is not None:
        queryset = queryset.filter(experiment=experiment)
    if search is not None:
        queryset = run_searched(queryset, search)
    field = F(RUN_SORTS[sort.removeprefix("-")])
    descending = sort.startswith("-")
    order = field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
    # Ties (same experiment, same energy) show newest first; the id makes paging deterministic. The table names
    # each run's machine.
    queryset = dimension_filtered(day_filtered(queryset, flt), flt).select_related("machine")
    return queryset.order_by(order, "-period_end", "-id")


def run_searched(queryset: QuerySet[LedgerEntry], search: RunSearch) -> QuerySet[LedgerEntry]:
    """Runs whose id and experiment contain the searched text (any case), created or updated by a job."""
    if search.run:
        queryset = queryset.filter(run_id__icontains=search.run)
    if search.experiment:
        queryset = queryset.filter(experiment__icontains=search.experiment)
    if search.job is not None:
        queryset = queryset.filter(import_job_id=search.job)
    return queryset


def experiment_list(*, project: Project, flt: DashboardFilter) -> list[dict[str, Any]]:
    """Per experiment of a project: runs, energy, emissions and the last run's end, latest first."""

    def compute() -> list[dict[str, Any]]:
        queryset = day_filtered(LedgerEntry.objects.filter(project=project, source=aggregation.RUN_SOURCE), flt)
        queryset = dimension_filtered(queryset, flt)
        rows = (
            queryset.values("experiment")
            .annotate(
                runs=Count("id"),
                energy_kwh_it=Sum("energy_it_kwh"),
                energy_kwh_facility=Sum("energy_facility_kwh"),
                kgco2e_location=Sum("kgco2e_location"),
                kgco2e_market=Sum("kgco2e_market"),
                last_end=Max("period_end"),
            )
            .order_by("-last_end", "experiment")
        )
        # Market-based kg as on every other page: the totals route's method (reports/dashboards/selectors/totals.py).
        from reports.dashboards.selectors.totals import experiment_market

        market = experiment_market(runs=queryset, organisation_id=project.organisation_id, flt=flt)
        return [{**row, "kgco2e_market": market.get(row["experiment"], 0.0)} for row in rows]

    return dashboard_cached(project.organisation_id, f"experiments:{project.id}:{flt.cache_part}", compute)


def runs_chart_frame(
    *, project: Project, flt: DashboardFilter, experiment: str | None = None, limit: int = RUNS_CHART_LIMIT
) -> pd.DataFrame:
    """The most recent runs (up to `limit`) for the emissions-per-run chart, oldest first."""
    import pandas as pd

    columns = ["id", "period_end", "experiment", "run_id", "kgco2e_location", "energy_facility_kwh"]

    def compute() -> list[tuple]:
        queryset = run_list(project=project, flt=flt, experiment=experiment, sort="-end")
        return list(queryset.values_list(*columns)[:limit])

    # Experiment names are free text: hashed, so the key stays short and safe for any cache backend.
    experiment_part = "all" if experiment is None else hashlib.sha256(experiment.encode()).hexdigest()[:16]
    key = f"runs-chart:{project.id}:{experiment_part}:{limit}:{flt.cache_part}"
    rows = dashboard_cached(project.organisation_id, key, compute)
    frame = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame({c: [] for c in columns})
    return frame.iloc[::-1].reset_index(drop=True)


def ledger_entry_for_project(*, project: Project, pk: int) -> LedgerEntry | None:
    """One ledger row of a project, with its factor, factor set and import job for the drill-down."""
    return (
        LedgerEntry.objects.select_related("factor__factor_set", "import_job", "project", "machine")
        .filter(project=project, pk=pk)
        .first()
    )


# --- drill-down: the ledger rows behind a number (issue 4) ---------------------------------------------

RECORD_SORTS: dict[str, tuple[str, ...]] = {
    # Newest first walks the (organisation|project, day) indexes backwards; id breaks ties for stable paging.
    "end": ("day", "period_end", "id"),
    "kg": ("kgco2e_location", "id"),
    "kwh": ("energy_facility_kwh", "id"),
    "cost": ("cost", "id"),
}
DEFAULT_RECORD_SORT = "-end"


def record_sort_parse(value: str | None) -> str:
    if value is None or value == "":
        return DEFAULT_RECORD_SORT
    if value.removeprefix("-") not in RECORD_SORTS:
        allowed = ", ".join(sorted(RECORD_SORTS))
        raise InvalidFilter(f"sort must be one of {allowed} (prefix '-' for descending), not {value!r}.")
    return value


def record_list(
    *, organisation_id: int, project_q: Any, flt: DashboardFilter, sort: str = DEFAULT_RECORD_SORT
) -> QuerySet[LedgerEntry]:
    """Inventory ledger rows matching a dashboard filter: what a chart element or table row is made of.

    `project_q` is the reader's project scope (`ProjectScope.q()`); the filter's dimensions are the
    rollup's, so the rows listed here sum to the figure the reader clicked.
    """
    queryset = LedgerEntry.objects.filter(project_q, organisation_id=organisation_id, in_inventory=True)
    queryset = dimension_filtered(day_filtered(queryset, flt), flt)
    columns = RECORD_SORTS[sort.removeprefix("-")]
    descending = sort.startswith("-")
    order = [F(c).desc(nulls_last=True) if descending else F(c).asc(nulls_last=True) for c in columns]
    return queryset.select_related("project").order_by(*order)


def record_page(queryset: QuerySet[LedgerEntry], *, number: int, size: int) -> tuple[list[LedgerEntry], bool]:
    """One page and whether another follows, without COUNT(*): counting an organisation's millions of rows
    on every page view would cost more than the page itself."""
    offset = (number - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    return rows[:size], len(rows) > size


def ledger_entry_for_org(*, organisation_id: int, project_q: Any, pk: int) -> LedgerEntry | None:
    """One ledger row the reader may see (unallocated rows only for readers of the whole organisation)."""
    return (
        LedgerEntry.objects.select_related("factor__factor_set", "import_job", "project", "machine")
        .filter(project_q, organisation_id=organisation_id, pk=pk)
        .first()
    )
