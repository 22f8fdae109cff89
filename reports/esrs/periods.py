"""Reporting periods: fiscal quarter (`2026-Q3`), year to date (`2026-YTD`) and fiscal year (`2026`).

A fiscal year is named after the calendar year in which it starts: with a fiscal year starting in
April, `2026` runs from 1 April 2026 to 31 March 2027 and `2026-Q1` is April–June 2026. Quarters tile
the year exactly, so four quarterly reports add up to the annual one (docs/esrs.md §1). Ranges are
inclusive dates compared with the ledger's `day` (UTC day of the record's end), one rule everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?P<part>Q[1-4]|YTD))?$")


class InvalidPeriod(ValueError):
    pass


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + (day.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class ReportPeriod:
    fiscal_year: int
    kind: str  # "quarter", "ytd" or "year"
    quarter: int | None
    start: dt.date
    end: dt.date  # inclusive
    fiscal_start_month: int
    # For YTD: the last closed quarter the range runs to.
    ytd_quarter: int | None = None

    @property
    def label(self) -> str:
        if self.kind == "quarter":
            return f"{self.fiscal_year}-Q{self.quarter}"
        if self.kind == "ytd":
            return f"{self.fiscal_year}-YTD"
        return str(self.fiscal_year)

    @property
    def title(self) -> str:
        if self.kind == "quarter":
            return f"Q{self.quarter} {self.fiscal_year}"
        if self.kind == "ytd":
            return f"Year to date {self.fiscal_year} (Q1–Q{self.ytd_quarter})"
        return f"Fiscal year {self.fiscal_year}"

    @property
    def months(self) -> list[dt.date]:
        """First days of the months in the period."""
        months, month = [], dt.date(self.start.year, self.start.month, 1)
        while month <= self.end:
            months.append(month)
            month = _add_months(month, 1)
        return months

    def previous_year(self) -> ReportPeriod:
        """The same period one fiscal year earlier: the N-1 column."""
        return period_parse(
            self.label.replace(str(self.fiscal_year), str(self.fiscal_year - 1), 1),
            fiscal_start_month=self.fiscal_start_month,
            today=None,
            ytd_quarter=self.ytd_quarter,
        )

    def year_to_date(self) -> ReportPeriod:
        """From the fiscal-year start to the end of this period (the YTD column of a quarterly report)."""
        year = fiscal_year_range(self.fiscal_year, self.fiscal_start_month)
        quarter = self.quarter if self.kind == "quarter" else (self.ytd_quarter or 4)
        return ReportPeriod(self.fiscal_year, "ytd", None, year[0], self.end, self.fiscal_start_month, quarter)

    def quarters(self) -> list[ReportPeriod]:
        """The fiscal quarters the period is made of."""
        count = 1 if self.kind == "quarter" else (self.ytd_quarter or 4)
        first = self.quarter or 1  # only a quarter period has a quarter number (1-4)
        return [quarter_period(self.fiscal_year, q, self.fiscal_start_month) for q in range(first, first + count)]


def fiscal_year_range(fiscal_year: int, fiscal_start_month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(fiscal_year, fiscal_start_month, 1)
    return start, _add_months(start, 12) - dt.timedelta(days=1)


def quarter_period(fiscal_year: int, quarter: int, fiscal_start_month: int = 1) -> ReportPeriod:
    start = _add_months(dt.date(fiscal_year, fiscal_start_month, 1), 3 * (quarter - 1))
    end = _add_months(start, 3) - dt.timedelta(days=1)
    return ReportPeriod(fiscal_year, "quarter", quarter, start, end, fiscal_start_month)


def fiscal_quarter_of(day: dt.date, fiscal_start_month: int = 1) -> tuple[int, int]:
    """(fiscal year, quarter) containing a day."""
    offset = (day.month - fiscal_start_month) % 12
    fiscal_year = day.year if day.month >= fiscal_start_month else day.year - 1
    return fiscal_year, offset // 3 + 1


def last_closed_quarter(today: dt.date, fiscal_start_month: int = 1) -> tuple[int, int]:
    """The most recent fiscal quarter that ended before `today`."""
    fiscal_year, quarter = fiscal_quarter_of(today, fiscal_start_month)
    if quarter == 1:
        return fiscal_year - 1, 4
    return fiscal_year, quarter - 1


def period_parse(
    text: str, *, fiscal_start_month: int = 1, today: dt.date | None = None, ytd_quarter: int | None = None
) -> ReportPeriod:
    """Parse `2026-Q3`, `2026-YTD` or `2026`.

    YTD runs to the end of the last closed quarter of that fiscal year as of `today` (all four quarters
    for a past year); `ytd_quarter` pins it (used for the N-1 column, which must cover the same quarters).
    """
    match = _PATTERN.match((text or "").strip().upper())
    if match is None:
        raise InvalidPeriod(f"Period must look like 2026-Q3, 2026-YTD or 2026, not {text!r}.")
    if not 1 <= fiscal_start_month <= 12:
        raise InvalidPeriod("Fiscal year start month must be 1–12.")
    year, part = int(match["year"]), match["part"]
    if not 1990 <= year <= 2200:
        raise InvalidPeriod(f"Year {year} is out of range.")
    if part is None:
        start, end = fiscal_year_range(year, fiscal_start_month)
        return ReportPeriod(year, "year", None, start, end, fiscal_start_month)
    if part == "YTD":
        quarter = ytd_quarter
        if quarter is None:
            closed_year, closed_quarter = last_closed_quarter(
                today or dt.datetime.now(dt.UTC).date(), fiscal_start_month
            )
            if closed_year < year:
                raise InvalidPeriod(f"No quarter of fiscal year {year} has closed yet.")
            quarter = 4 if closed_year > year else closed_quarter
        start = fiscal_year_range(year, fiscal_start_month)[0]
        end = quarter_period(year, quarter, fiscal_start_month).end
        return ReportPeriod(year, "ytd", None, start, end, fiscal_start_month, quarter)
    return quarter_period(year, int(part[1]), fiscal_start_month)
