"""Formula-safe CSV downloads (docs/security.md §6).

Spreadsheets run a cell as a formula when it starts with ``=``, ``+``, ``-``, ``@``, TAB, CR or LF, and
our exports (error reports echo raw cell values from uploaded files) are opened in Excel by officers.
Values are stored raw and neutralised only here, at export:

- text cells that start with a trigger character get a ``'`` prefix;
- every text cell is quoted (embedded quotes doubled), so a value can never open a new cell;
- numbers stay unquoted numbers, so credits such as ``-12.5`` remain numeric.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.http.response import HttpResponseBase

from greenesg.lib.downloads import attachment_response

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """One cell as the csv module should write it: numbers as numbers, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, float):
        return "" if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def safe_rows(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
    yield [safe_cell(name) for name in header]
    for row in rows:
        yield [safe_cell(value) for value in row]


class _Echo:
    """A write-only file that hands each written line back, so rows stream without a buffer."""

    def write(self, value: str) -> str:
        return value


def safe_csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> Iterator[str]:
    # QUOTE_NONNUMERIC quotes every text cell and leaves int/float/Decimal bare.
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    if bom:
        # Excel reads a CSV without BOM in the local ANSI code page and garbles non-ASCII names.
        yield "\ufeff"
    for row in safe_rows(header, rows):
        yield writer.writerow(row)


def safe_csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True
) -> HttpResponseBase:
    """A streamed, formula-safe CSV attachment. ``rows`` may be a lazy iterator (e.g. ``.iterator()``)."""
    return attachment_response(
        safe_csv_lines(header, rows, bom=bom), filename=filename, content_type="text/csv; charset=utf-8"
    )
