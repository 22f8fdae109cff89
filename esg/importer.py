"""CSV and XLSX import of the ESG templates: an HR export (one row per period, one column per metric)
and an accounts-payable ledger export (one row per invoice → G1-6 payment days). Pure, no ORM.

All or nothing: parsing returns either values for every row or a list of per-cell messages, and the
service writes only when the list is empty. Row numbers in messages are the file's own (header = 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO

from esg.catalogue import Catalogue, catalogue
from esg.formulas import Invoice, avg_days_to_pay
from esg.periods import InvalidPeriod, Period, period_parse
from esg.validation import CellError, number_parse, values_validate
from esg.xlsx import XlsxError, xlsx_rows

MAX_IMPORT_BYTES = 5 * 1024 * 1024
META_COLUMNS = ("period", "evidence", "comment")
AP_ALIASES = {
    "term_start": "term_start",
    "invoice_date": "term_start",
    "term_start_date": "term_start",
    "payment_date": "payment_date",
    "paid_on": "payment_date",
    "amount": "amount",
    "due_date": "due_date",
    "invoice_id": "invoice_id",
}
AP_COLUMNS = ("invoice_id", "term_start", "payment_date", "amount", "due_date")
# Excel's day 0 for serial dates (the 1900 leap-year bug makes it 30 Dec 1899).
EXCEL_EPOCH = dt.date(1899, 12, 30)


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, format, size)."""


@dataclass
class Table:
    rows: list[list[str]]
    decimal_comma: bool = False


@dataclass
class MetricsPlan:
    values: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # period → code → value
    evidence: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)


@dataclass
class ApPlan:
    values: dict[str, Decimal] = field(default_factory=dict)
    invoices: int = 0
    errors: list[CellError] = field(default_factory=list)
    weighted_days: float | None = None


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        # Strict: mojibake must be a visible error, never a silently wrong cell (docs/security.md §5).
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"The file is not UTF-8 (byte {exc.start}); save it as CSV UTF-8.") from exc


def table_read(name: str, file: IO[bytes]) -> Table:
    data = file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_IMPORT_BYTES // 2**20} MB.")
    if data.startswith(b"PK\x03\x04"):
        try:
            return Table(rows=xlsx_rows(io.BytesIO(data)))
        except XlsxError as exc:
            raise ImportFileError(str(exc)) from exc
    if name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise ImportFileError("This is not an XLSX workbook; .xls (Excel 97) is not supported, save as .xlsx or CSV.")
    text = _decode(data)
    sample = text[:4096]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    return Table(rows=rows, decimal_comma=delimiter == ";")


def _nonblank(rows: Sequence[Sequence[str]]) -> list[tuple[int, list[str]]]:
    return [(number, list(row)) for number, row in enumerate(rows, start=1) if any(c.strip() for c in row)]


def _header(row: Sequence[str], known: Mapping[str, str], header_row: int) -> tuple[list[str], list[CellError]]:
    columns, errors = [], []
    for cell in row:
        key = known.get(cell.strip().lower())
        if key is None and cell.strip():
            errors.append(CellError(cell.strip()[:80], "is not a column of this template", header_row, cell[:200]))
        columns.append(key or "")
    return columns, errors


def metrics_template_header(cat: Catalogue | None = None) -> list[str]:
    cat = cat or catalogue()
    return ["period", *[m.code for m in cat.entered()], "evidence", "comment"]


def _metrics_row(
    plan: MetricsPlan,
    number: int,
    cells: dict[str, str],
    table: Table,
    existing: Mapping[str, Mapping[str, float]],
    locked: set[str],
) -> None:
    raw_period = cells.pop("period", "")
    try:
        period = period_parse(raw_period).key
    except InvalidPeriod as exc:
        plan.errors.append(CellError("period", str(exc), number, raw_period))
        return
    if period in plan.values:
        plan.errors.append(CellError("period", f"{period} appears on two rows", number, raw_period))
        return
    if period in locked:
        plan.errors.append(
            CellError("period", f"{period} is closed; an officer must reopen it first", number, raw_period)
        )
        return
    plan.evidence[period], plan.comments[period] = cells.pop("evidence", ""), cells.pop("comment", "")
    result = values_validate(cells, existing=existing.get(period, {}), row=number, decimal_comma=table.decimal_comma)
    plan.errors.extend(result.errors)
    plan.values[period] = result.values


def metrics_import_parse(
    table: Table,
    *,
    existing: Mapping[str, Mapping[str, float]] | None = None,
    locked: set[str] | None = None,
    cat: Catalogue | None = None,
) -> MetricsPlan:
    """An HR export in the metrics template. `existing`: period → stored values, for consistency checks."""
    cat = cat or catalogue()
    rows = _nonblank(table.rows)
    plan = MetricsPlan()
    if not rows:
        plan.errors.append(CellError("file", "is empty", None))
        return plan
    known = {name: name for name in META_COLUMNS} | {code.lower(): code for code in cat.metrics}
    header_row, header_cells = rows[0]
    columns, plan.errors = _header(header_cells, known, header_row)
    if "period" not in columns:
        plan.errors.append(CellError("period", "column is missing from the header", header_row))
    if plan.errors:
        return plan
    if len(rows) == 1:
        plan.errors.append(CellError("file", "has a header but no data rows", header_row))
    for number, row in rows[1:]:
        cells = {col: (row[i] if i < len(row) else "") for i, col in enumerate(columns) if col}
        _metrics_row(plan, number, cells, table, existing or {}, locked or set())
    if plan.errors:
        plan.values = {}
    return plan


def table_periods(table: Table) -> set[str]:
    """Period keys named in a metrics file (for loading the stored values the checks compare with)."""
    rows = _nonblank(table.rows)
    if not rows:
        return set()
    header = [cell.strip().lower() for cell in rows[0][1]]
    if "period" not in header:
        return set()
    index = header.index("period")
    return {row[index].strip().upper() for _, row in rows[1:] if index < len(row)}


def date_parse(raw: str) -> dt.date:
    text = raw.strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    try:
        serial = float(text)
    except ValueError:
        raise ValueError(f"must be a date such as 2026-07-31, not {raw!r}") from None
    if not 20_000 <= serial <= 80_000:  # 1954–2119: anything else is not a plausible invoice date
        raise ValueError(f"must be a date such as 2026-07-31, not {raw!r}")
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def _invoice(
    number: int, cells: Mapping[str, str], period: Period, decimal_comma: bool
) -> tuple[Invoice | None, list[CellError]]:
    errors: list[CellError] = []
    parsed: dict[str, object] = {}
    for column in ("term_start", "payment_date", "due_date"):
        raw = cells.get(column, "")
        if not raw.strip():
            if column != "due_date":
                errors.append(CellError(column, "is required", number, raw))
            continue
        try:
            parsed[column] = date_parse(raw)
        except ValueError as exc:
            errors.append(CellError(column, str(exc), number, raw))
    try:
        amount = number_parse(cells.get("amount", ""), decimal_comma=decimal_comma)
        if amount < 0:
            errors.append(
                CellError(
                    "amount", "must not be negative (credit notes are not invoices)", number, cells.get("amount", "")
                )
            )
    except ValueError as exc:
        errors.append(CellError("amount", str(exc), number, cells.get("amount", "")))
        amount = Decimal(0)
    if errors:
        return None, errors
    start, paid = parsed["term_start"], parsed["payment_date"]
    assert isinstance(start, dt.date) and isinstance(paid, dt.date)
    if paid < start:
        errors.append(
            CellError("payment_date", f"{paid} is before the term start {start}", number, cells["payment_date"])
        )
    elif not period.contains(paid):
        errors.append(
            CellError("payment_date", f"{paid} is outside the period {period.key}", number, cells["payment_date"])
        )
    due = parsed.get("due_date")
    invoice = Invoice(start, paid, float(amount), due if isinstance(due, dt.date) else None)
    return (None if errors else invoice), errors


def ap_ledger_parse(table: Table, *, period: Period) -> ApPlan:
    """An AP-ledger export → G1-6 average days to pay (unweighted per invoice) and on-term share."""
    rows = _nonblank(table.rows)
    plan = ApPlan()
    if len(rows) < 2:
        plan.errors.append(CellError("file", "needs a header and at least one invoice row", None))
        return plan
    columns, plan.errors = _header(rows[0][1], AP_ALIASES, rows[0][0])
    for required in ("term_start", "payment_date", "amount"):
        if required not in columns:
            plan.errors.append(CellError(required, "column is missing from the header", rows[0][0]))
    if plan.errors:
        return plan
    invoices = []
    for number, row in rows[1:]:
        cells = {col: (row[i] if i < len(row) else "") for i, col in enumerate(columns) if col}
        invoice, errors = _invoice(number, cells, period, table.decimal_comma)
        plan.errors.extend(errors)
        if invoice:
            invoices.append(invoice)
    if plan.errors:
        return plan
    result = avg_days_to_pay(invoices)
    plan.invoices, plan.weighted_days = result.invoices, result.avg_days_amount_weighted
    plan.values["G1-6.avg_days_to_pay"] = Decimal(str(round(result.avg_days or 0.0, 6)))
    if result.on_term_share is not None:
        plan.values["G1-6.payments_on_term_share"] = Decimal(str(round(result.on_term_share, 6)))
    return plan
