"""CSV downloads that are safe to open in a spreadsheet (reliability.md §3).

Text cells starting with a formula trigger (= + - @ TAB CR LF) get a leading apostrophe and every
text cell is quoted, so a value can neither run as a formula nor open a new cell. Numbers are
written unquoted and unprefixed, so negative values stay numeric. Stored values are never altered:
neutralising happens here, at export only.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: Any) -> Any:
    """One cell: numbers as numbers, everything else as neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return "" if isinstance(value, float) and math.isnan(value) else value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    # QUOTE_NONNUMERIC quotes every text cell and leaves int/float cells bare, so they stay numbers.
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    yield writer.writerow(list(header))
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], *, filename: str) -> StreamingHttpResponse:
    """Stream the rows as an attachment; `filename` must be built from slugs (no quoting needed)."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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


def runs_csv_response(queryset: Any, *, filename: str) -> StreamingHttpResponse:
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


def records_csv_response(queryset: Any, *, filename: str) -> StreamingHttpResponse:
    """The drill-down rows as CSV, streamed in chunks (the same neutralising as the runs CSV)."""
    fields = [field for _, field in RECORD_COLUMNS]
    rows = queryset.values_list(*fields).iterator(chunk_size=2000)
    return csv_response([name for name, _ in RECORD_COLUMNS], rows, filename=filename)
