"""CSV downloads of dashboard tables, safe to open in a spreadsheet (docs/security.md §6).

The neutralising itself (formula triggers prefixed, every text cell quoted, numbers left numeric) is
the shared rule of `greenesg.lib.csv_safe`; this module adds the dashboards' display conventions (yes/no,
UTC timestamps to the second, lists as words) and the column sets of the run and record tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http.response import HttpResponseBase

from greenesg.lib.csv_safe import safe_cell, safe_csv_lines, safe_csv_response


def csv_cell(value: Any) -> Any:
    """One cell: numbers as numbers, everything else as neutralised text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    return safe_cell(value)


def _cells(rows: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
    return ([csv_cell(value) for value in row] for row in rows)


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    return safe_csv_lines(header, _cells(rows), bom=False)


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], *, filename: str) -> HttpResponseBase:
    """Stream the rows as an attachment."""
    return safe_csv_response(filename, header, _cells(rows), bom=False)


RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ledger_id", "id"),
    ("run_id", "run_id"),
    ("experiment", "experiment"),
    ("period_start_utc", "period_start"),
    ("period_end_utc", "period_end"),
    ("duration_s", "duration_s"),
    ("energy_kwh_it", "energy_it_kwh"),
    ("energy_kwh_facility", "energy_facility_kwh"),
    ("kgco2e_location", "kgco2e_location"),
    ("kgco2e_market", "kgco2e_market"),
    ("water_l", "water_l"),
    ("scope", "scope"),
    ("category", "category"),
    ("method", "method"),
    ("in_inventory", "in_inventory"),
    ("country_iso", "country_iso"),
    ("region", "region"),
    ("factor_version", "factor_version"),
    ("factor_g_per_kwh", "factor_g_per_kwh"),
    ("flags", "flags"),
    ("source_row", "source_row"),
)


def runs_csv_response(queryset: Any, *, filename: str) -> HttpResponseBase:
    """The runs table as CSV, streamed from the database in chunks (no whole-table list in memory)."""
    fields = [field for _, field in RUN_COLUMNS]
    rows = queryset.values_list(*fields).iterator(chunk_size=2000)
    return csv_response([name for name, _ in RUN_COLUMNS], rows, filename=filename)


RECORD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ledger_id", "id"),
    ("project", "project__slug"),
    ("source", "source"),
    ("period_start_utc", "period_start"),
    ("period_end_utc", "period_end"),
    ("provider", "provider"),
    ("service", "service"),
    ("region", "region"),
    ("country_iso", "country_iso"),
    ("experiment", "experiment"),
    ("run_id", "run_id"),
    ("energy_kwh_it", "energy_it_kwh"),
    ("energy_kwh_facility", "energy_facility_kwh"),
    ("kgco2e_location", "kgco2e_location"),
    ("kgco2e_market", "kgco2e_market"),
    ("cost", "cost"),
    ("currency", "currency"),
    ("scope", "scope"),
    ("category", "category"),
    ("method", "method"),
    ("factor_version", "factor_version"),
    ("factor_g_per_kwh", "factor_g_per_kwh"),
    ("flags", "flags"),
    ("import_job", "import_job_id"),
    ("source_row", "source_row"),
)


def records_csv_response(queryset: Any, *, filename: str) -> HttpResponseBase:
    """The drill-down rows as CSV, streamed in chunks (the same neutralising as the runs CSV)."""
    fields = [field for _, field in RECORD_COLUMNS]
    rows = queryset.values_list(*fields).iterator(chunk_size=2000)
    return csv_response([name for name, _ in RECORD_COLUMNS], rows, filename=filename)
