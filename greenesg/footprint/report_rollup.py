"""The report-grain monthly rollup (`LedgerReportMonthly`): what the ESRS report's inputs read.

`ledger.rollup_refresh` calls `report_rollup_refresh` for the projects and days it refreshes, so every path that
keeps the dashboard rollups true (imports, re-attribution, the double-counting rule, other activities) keeps this
one true too. The whole months touching the refreshed days are regrouped from the ledger itself, not from the
daily rollup: the report groups by dimensions the daily rollup does not hold (country, market basis, fuel,
factor, source file, flags). Only in-inventory rows are kept, as the report counts nothing else.

Flags are a grouping key (the row's JSON list as stored) rather than a second table of counts per flag: a row
has few flag combinations, so the key adds few groups, and the refresh stays one INSERT … SELECT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection

from greenesg.footprint.models import LedgerEntry, LedgerReportMonthly
from greenesg.lib.periods import month_end, month_start

LEDGER_TABLE = LedgerEntry._meta.db_table
REPORT_MONTHLY_TABLE = LedgerReportMonthly._meta.db_table

REPORT_DIMENSIONS = (
    "organisation_id",
    "project_id",
    "scope",
    "category",
    "source",
    "method",
    "provider",
    "region",
    "country_iso",
    "market_basis",
    "resource_category",
    "factor_id",
    "factor_version",
    "import_job_id",
)
# (rollup column, ledger expression). A record without a market figure counts at its location figure, and a
# missing location figure or cost as zero: the rules the report applied to the ledger rows (docs/esrs.md).
REPORT_MARKET = "SUM(COALESCE(kgco2e_market, kgco2e_location, 0))"
REPORT_SUMS = (
    ("energy_facility_kwh", "SUM(energy_facility_kwh)"),
    ("kgco2e_location", "SUM(COALESCE(kgco2e_location, 0))"),
    ("kgco2e_market", REPORT_MARKET),
    ("kgco2e_embodied", "SUM(kgco2e_embodied)"),
    ("cost", "SUM(COALESCE(cost, 0))"),
)
# The same sums over a table already grouped by `ledger._grain_fill`: its sums regroup as they are, except the market
# column, which it holds as REPORT_MARKET already.
_GRAIN_SUMS = tuple(
    (column, "SUM(report_kgco2e_market)" if column == "kgco2e_market" else expression)
    for column, expression in REPORT_SUMS
)
# The flags list as stored (JSON text), the report's grouping key.
REPORT_FLAGS = "COALESCE(CAST(flags AS TEXT), '')"


def _month_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def report_rollup_insert_sql(where: str, source: str | None = None) -> str:
    """INSERT … SELECT that groups the in-inventory rows matching `where` into the report rollup: ledger rows, or the
    rows of `source`, the ledger already grouped by `ledger._grain_fill`."""
    dims = ", ".join(REPORT_DIMENSIONS)
    month = _month_sql("day")
    flags = REPORT_FLAGS if source is None else "flags_json"
    records = "COUNT(*)" if source is None else "SUM(records)"
    columns = ", ".join(column for column, _ in REPORT_SUMS)
    sums = ", ".join(expression for _, expression in (REPORT_SUMS if source is None else _GRAIN_SUMS))
    return (
        f"INSERT INTO {REPORT_MONTHLY_TABLE} (month, {dims}, flags_json, records, {columns}) "  # noqa: S608
        f"SELECT {month}, {dims}, {flags}, {records}, {sums} FROM {source or LEDGER_TABLE} "
        f"WHERE in_inventory AND {where} GROUP BY {month}, {dims}, {flags}"
    )


def report_rollup_refresh(
    *,
    organisation_id: int,
    project_ids: Iterable[int | None],
    first_day: dt.date,
    last_day: dt.date,
    source: str | None = None,
) -> None:
    """Regroup the whole months touching [first_day, last_day] of some projects (inside the caller's transaction),
    from the ledger or from `source` (see report_rollup_insert_sql), which must hold those whole months."""
    ids = list(project_ids)
    if not ids:
        return
    real_ids = [i for i in ids if i is not None]
    project_filter = "(project_id IN ({}) {})".format(
        ", ".join(["%s"] * len(real_ids)) or "NULL", "OR project_id IS NULL" if None in ids else ""
    )
    first, last = month_start(first_day), month_end(last_day)
    params: list[int | dt.date] = [organisation_id, *real_ids, first, last]
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {REPORT_MONTHLY_TABLE} WHERE organisation_id = %s AND {project_filter} "  # noqa: S608
            "AND month BETWEEN %s AND %s",
            params,
        )
        cursor.execute(
            report_rollup_insert_sql(f"organisation_id = %s AND {project_filter} AND day BETWEEN %s AND %s", source),
            params,
        )
