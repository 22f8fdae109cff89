"""Bulk writes to the ledger and its daily rollup.

The ledger is written in bulk with an upsert on (organisation, natural_key): a record seen again
replaces its earlier values only when it covers a longer duration (a later cumulative codecarbon
flush), so re-importing a file, or a grown file, never double counts. On PostgreSQL the rows are
COPYed into a temporary table and merged with one INSERT … ON CONFLICT; on SQLite the same upsert
runs through executemany.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction

from greenesg.footprint.models import LedgerDaily, LedgerEntry

LEDGER_TABLE = LedgerEntry._meta.db_table
DAILY_TABLE = LedgerDaily._meta.db_table

# Columns written by the importers, in one fixed order (id and updated_at are filled by the writer).
LEDGER_COLUMNS: tuple[str, ...] = (
    "organisation_id",
    "project_id",
    "natural_key",
    "source",
    "period_start",
    "period_end",
    "day",
    "experiment",
    "run_id",
    "provider",
    "region",
    "country_iso",
    "service",
    "resource_category",
    "usage_amount",
    "usage_unit",
    "duration_s",
    "energy_it_kwh",
    "energy_facility_kwh",
    "kgco2e_location",
    "kgco2e_market",
    "kgco2e_embodied",
    "water_l",
    "cost",
    "currency",
    "scope",
    "category",
    "method",
    "pue_applied",
    "factor_id",
    "factor_g_per_kwh",
    "factor_version",
    "market_factor_g_per_kwh",
    "market_basis",
    "flags",
    "in_inventory",
    "import_job_id",
    "source_row",
    "attributes",
)
_JSON_COLUMNS = {"flags", "attributes"}
_KEY_COLUMNS = ("organisation_id", "natural_key")


@dataclass
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


def _existing_durations(organisation_id: int, keys: Sequence[str]) -> dict[str, tuple[float | None, dt.date]]:
    found: dict[str, tuple[float | None, dt.date]] = {}
    for start in range(0, len(keys), 900):  # SQLite caps bound parameters per statement
        batch = keys[start : start + 900]
        rows = LedgerEntry.objects.filter(organisation_id=organisation_id, natural_key__in=batch).values_list(
            "natural_key", "duration_s", "day"
        )
        found.update({key: (duration, day) for key, duration, day in rows})
    return found


def classify_rows(
    organisation_id: int, rows: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], UpsertCounts, set[dt.date]]:
    """Split rows into those to write (new or longer) and count the unchanged ones.

    Returns the rows to write, the counts and the days whose rollup an update moves away from.
    """
    existing = _existing_durations(organisation_id, [row["natural_key"] for row in rows])
    counts = UpsertCounts()
    to_write: list[dict[str, Any]] = []
    old_days: set[dt.date] = set()
    for row in rows:
        previous = existing.get(row["natural_key"])
        if previous is None:
            counts.new += 1
            to_write.append(row)
        elif (row["duration_s"] or 0.0) > (previous[0] or 0.0):
            counts.updated += 1
            old_days.add(previous[1])
            to_write.append(row)
        else:
            counts.unchanged += 1
    return to_write, counts, old_days


def _adapters() -> list[Any]:
    """One value adapter per column. PostgreSQL (psycopg) takes Python values as they are; SQLite
    needs Django's text forms for datetimes, dates and UUIDs, or lookups on them would miss."""
    ops = connection.ops
    sqlite = connection.vendor == "sqlite"
    adapters: list[Any] = []
    for column in LEDGER_COLUMNS:
        if column in _JSON_COLUMNS:
            empty = "[]" if column == "flags" else "{}"
            adapters.append(lambda v, empty=empty: empty if v is None else json.dumps(v))
        elif sqlite and column in {"period_start", "period_end"}:
            adapters.append(ops.adapt_datetimefield_value)
        elif sqlite and column == "day":
            adapters.append(ops.adapt_datefield_value)
        elif sqlite and column == "import_job_id":
            adapters.append(lambda v: None if v is None else uuid.UUID(str(v)).hex)
        else:
            adapters.append(None)
    return adapters


def _db_row(row: dict[str, Any], adapters: list[Any], now: Any) -> list[Any]:
    values = [row.get(c) for c in LEDGER_COLUMNS]
    for index, adapt in enumerate(adapters):
        if adapt is not None:
            values[index] = adapt(values[index])
    values.append(now)
    return values


def _upsert_sql(source_table: str | None) -> str:
    columns = (*LEDGER_COLUMNS, "updated_at")
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in _KEY_COLUMNS)
    condition = f"COALESCE(excluded.duration_s, 0) > COALESCE({LEDGER_TABLE}.duration_s, 0)"
    if source_table is None:
        values = f"VALUES ({', '.join(['%s'] * len(columns))})"
    else:
        values = f"SELECT {names} FROM {source_table}"
        # PostgreSQL: a SELECT source needs an explicit WHERE before ON CONFLICT to parse unambiguously.
        values += " WHERE true"
    return (
        f"INSERT INTO {LEDGER_TABLE} ({names}) {values} "
        f"ON CONFLICT (organisation_id, natural_key) DO UPDATE SET {updates} WHERE {condition}"
    )


def ledger_write(rows: Sequence[dict[str, Any]]) -> None:
    """Upsert ledger rows. Call inside the import's transaction."""
    if not rows:
        return
    now = dt.datetime.now(dt.UTC)
    adapters = _adapters()
    if connection.vendor == "postgresql":
        _ledger_write_copy(rows, adapters, now)
        return
    now_value = connection.ops.adapt_datetimefield_value(now)
    params = [_db_row(row, adapters, now_value) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(_upsert_sql(None), params)


def _ledger_write_copy(rows: Sequence[dict[str, Any]], adapters: list[Any], now: dt.datetime) -> None:
    columns = (*LEDGER_COLUMNS, "updated_at")
    with connection.cursor() as cursor:
        # CREATE … AS … WITH NO DATA copies the column types but not the NOT NULL on id.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS ledger_stage ON COMMIT DELETE ROWS AS "
            f"SELECT {', '.join(columns)} FROM {LEDGER_TABLE} WITH NO DATA"
        )
        cursor.execute("TRUNCATE ledger_stage")
        raw = cursor.cursor  # the psycopg cursor: COPY is not part of the DB-API
        with raw.copy(f"COPY ledger_stage ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(_db_row(row, adapters, now))
        cursor.execute(_upsert_sql("ledger_stage"))
        cursor.execute("TRUNCATE ledger_stage")


def task_rows_exclude_counted_runs(*, organisation_id: int, project_ids: Iterable[int]) -> None:
    """Task rows cover the same energy as their run's row: keep them out of the inventory then."""
    ids = list(project_ids)
    if not ids:
        return
    runs = LedgerEntry.objects.filter(organisation_id=organisation_id, project_id__in=ids, source="codecarbon")
    LedgerEntry.objects.filter(
        organisation_id=organisation_id,
        project_id__in=ids,
        source="codecarbon_task",
        in_inventory=True,
        run_id__in=runs.values("run_id"),
    ).update(in_inventory=False)


_ROLLUP_DIMENSIONS = ("organisation_id", "project_id", "day", "source", "provider", "region", "service", "scope",
                      "category", "method", "in_inventory")
_ROLLUP_SUMS = ("energy_it_kwh", "energy_facility_kwh", "kgco2e_location", "kgco2e_market", "kgco2e_embodied",
                "water_l", "cost")


def rollup_refresh(*, organisation_id: int, project_ids: Iterable[int | None], first_day: dt.date,
                   last_day: dt.date) -> None:
    """Recompute the daily rollup for some projects and days from the ledger (inside the import transaction)."""
    ids = list(project_ids)
    if not ids:
        return
    real_ids = [i for i in ids if i is not None]
    project_filter = "(project_id IN ({}) {})".format(
        ", ".join(["%s"] * len(real_ids)) or "NULL", "OR project_id IS NULL" if None in ids else ""
    )
    where = f"organisation_id = %s AND {project_filter} AND day BETWEEN %s AND %s"
    params = [organisation_id, *real_ids, first_day, last_day]
    dims = ", ".join(_ROLLUP_DIMENSIONS)
    sums = ", ".join(f"COALESCE(SUM({c}), 0)" for c in _ROLLUP_SUMS)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DAILY_TABLE} WHERE {where}", params)
        cursor.execute(
            f"INSERT INTO {DAILY_TABLE} ({dims}, records, {', '.join(_ROLLUP_SUMS)}) "
            f"SELECT {dims}, COUNT(*), {sums} FROM {LEDGER_TABLE} WHERE {where} GROUP BY {dims}",
            params,
        )


def _generation_key(organisation_id: int) -> str:
    return f"dashboard-generation:{organisation_id}"


def dashboard_generation(organisation_id: int) -> int:
    return int(cache.get(_generation_key(organisation_id), 0))


def dashboard_generation_bump(organisation_id: int) -> None:
    """Invalidate every cached dashboard aggregate of an organisation at once (style.md §11)."""

    def bump() -> None:
        key = _generation_key(organisation_id)
        cache.add(key, 0, timeout=None)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=None)

    transaction.on_commit(bump)
