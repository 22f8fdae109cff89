"""Shared types and value parsers for the billing readers (pure: no Django, no ORM)."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from greenesg.footprint.vocabulary import Method

# Row problems are capped so a file with a million bad rows cannot exhaust worker memory (docs/security.md §5).
MAX_ROW_PROBLEMS = 1000


class BillingFileError(ValueError):
    """A structural problem: the whole file is rejected, nothing from it may be written."""

    def __init__(self, file_name: str, reason: str) -> None:
        self.file_name = file_name
        self.reason = reason
        super().__init__(f"{file_name}: {reason}" if file_name else reason)


@dataclass(frozen=True)
class RowProblem:
    """One bad cell: (line, column, code, message, raw_value). Line 1 is the header row."""

    line: int
    column: str
    code: str
    message: str
    raw_value: str

    def as_tuple(self) -> tuple[int, str, str, str, str]:
        return (self.line, self.column, self.code, self.message, self.raw_value)


@dataclass
class ReadReport:
    """What a read saw: counts per filter reason and bucket, and the row problems (capped)."""

    file_name: str
    format: str = ""
    rows_read: int = 0
    rows_kept: int = 0
    rows_rejected: int = 0
    filtered: Counter[str] = field(default_factory=Counter)
    buckets: Counter[str] = field(default_factory=Counter)
    problems: list[RowProblem] = field(default_factory=list)
    problems_truncated: int = 0
    notes: list[str] = field(default_factory=list)

    def add_problem(self, problem: RowProblem) -> None:
        if len(self.problems) < MAX_ROW_PROBLEMS:
            self.problems.append(problem)
        else:
            self.problems_truncated += 1


@dataclass(frozen=True)
class ProviderCarbonRecord:
    """A provider-reported carbon figure (docs/methodology.md §6), normalised to kg; the original value/unit kept."""

    provider: str
    source_format: str
    account: str
    service: str
    region: str
    period_start: datetime | None
    model_version: str
    kg: dict[str, float] = field(hash=False)
    original: dict[str, tuple[float, str]] = field(hash=False)
    source_line: int = 0
    method: str = Method.SUPPLIER_SPECIFIC


class RowSink:
    """Parses cells of one row and records problems with the real header name."""

    def __init__(self, report: ReadReport, headers: dict[str, str]) -> None:
        self.report = report
        self.headers = headers  # logical field -> header as written in the file
        self.failed = False

    def problem(self, line: int, fld: str, code: str, message: str, raw: str) -> None:
        self.failed = True
        self.report.add_problem(RowProblem(line, self.headers.get(fld, fld), code, message, raw[:200]))

    def number(self, row: dict[str, str], fld: str, line: int, *, required: bool = True) -> float | None:
        raw = row.get(fld, "")
        if not raw.strip():
            if required:
                self.problem(line, fld, "missing_value", "a number is required here", raw)
            return None
        value = parse_number(raw)
        if value is None:
            self.problem(line, fld, "bad_number", "not a number", raw)
        return value

    def timestamp(self, row: dict[str, str], fld: str, line: int) -> datetime | None:
        raw = row.get(fld, "")
        value = parse_utc(raw)
        if value is None:
            code = "missing_value" if not raw.strip() else "bad_date"
            self.problem(line, fld, code, "expected a date/time such as 2024-01-31T00:00:00Z", raw)
        return value


_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_number(raw: str) -> float | None:
    """Strict float parsing; a decimal comma is accepted when it is the only separator (European Excel)."""
    try:
        value = float(raw)
    except ValueError:
        pass
    else:
        # float() also takes "nan", "inf" and "1_000": none of them is a billing amount.
        return value if math.isfinite(value) and "_" not in raw else None
    text = raw.strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    if not _NUMBER_RE.match(text):
        return None
    return float(text)


@lru_cache(maxsize=65536)
def parse_utc(raw: str) -> datetime | None:
    """ISO 8601 (with Z, offset or ' UTC'), US month-first (Azure) or yyyymmdd; naive values are UTC.

    Billing exports are UTC by definition (CUR, GCP export, Azure cost details), so naive means UTC.
    Cached because hourly billing repeats the same few timestamps on many rows.
    """
    text = raw.strip()
    if not text:
        return None
    if text.endswith(" UTC"):
        text = text[:-4] + "+00:00"
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    value: datetime | None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = _parse_other_date(text)
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse_other_date(text: str) -> datetime | None:
    for fmt in ("%m/%d/%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%Y%m%d", "%Y%m"):
        try:
            return datetime.strptime(text, fmt)  # noqa: DTZ007 - made aware by the caller (UTC by definition)
        except ValueError:
            continue
    return None


def parse_json_object(raw: str) -> dict[str, str]:
    """Tags / labels / AdditionalInfo cells: a JSON object, a GCP [{key, value}] list, or an Azure
    tag list without braces (`"env": "prod","team": "x"`). Bad JSON yields {} (tags are not required)."""
    text = raw.strip()
    if not text:
        return {}
    if not text.startswith(("{", "[")):
        text = "{" + text + "}"
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if isinstance(data, list):
        return {str(d.get("key")): str(d.get("value", "")) for d in data if isinstance(d, dict) and "key" in d}
    if isinstance(data, dict):
        return {str(k): "" if v is None else str(v) for k, v in data.items()}
    return {}
