"""Reporting periods of the ESRS report: fiscal quarter (`2026-Q3`), year to date (`2026-YTD`) and fiscal year
(`2026`). The model is greenesg.lib.periods (fiscal years, quarters tiling the year, inclusive ends compared
with the ledger's `day`); this module keeps the forms a report accepts and their wording.
"""

from __future__ import annotations

import datetime as dt

from greenesg.lib import periods
from greenesg.lib.periods import InvalidPeriod, Period

__all__ = ["InvalidPeriod", "Period", "fiscal_year_range", "last_closed_quarter", "period_choices", "period_parse"]

_KINDS = (periods.QUARTER, periods.YTD, periods.YEAR)
_YEARS = (1990, 2200)
_MESSAGES = {
    "form": "Period must look like 2026-Q3, 2026-YTD or 2026, not {text!r}.",
    "year": "Year {year} is out of range.",
}


def fiscal_year_range(fiscal_year: int, fiscal_start_month: int) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of a fiscal year."""
    year = Period(fiscal_year, fiscal_start_month=fiscal_start_month)
    return year.start, year.end


def last_closed_quarter(today: dt.date, fiscal_start_month: int = 1) -> tuple[int, int]:
    """(fiscal year, quarter) of the most recent fiscal quarter that ended before `today`."""
    closed = periods.last_closed_quarter(today, fiscal_start_month=fiscal_start_month)
    return closed.year, closed.quarter  # type: ignore[return-value]


def period_parse(text: str, *, fiscal_start_month: int = 1, today: dt.date | None = None) -> Period:
    """Parse `2026-Q3`, `2026-YTD` or `2026`.

    YTD runs to the end of the last closed quarter of that fiscal year as of `today` (all four quarters
    for a past year); its N-1 column (`previous_year()`) covers the same quarters.
    """
    return periods.period_parse(
        text,
        kinds=_KINDS,
        fiscal_start_month=fiscal_start_month,
        years=_YEARS,
        today=today,
        messages=_MESSAGES,
    )


PICKER_YEARS = 3


def period_choices(
    today: dt.date, *, fiscal_start_month: int = 1, years: int = PICKER_YEARS
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The periods a report can be generated for, grouped by fiscal year, newest first (the period picker).

    Per fiscal year: the year itself, its year to date (when a quarter of it has closed and it is not complete)
    and each quarter that has begun. Periods not over yet are marked, since their figures will still grow. The
    values are the texts `period_parse` reads, so the server validates what the picker sends like typed text.
    """
    current = periods.Period.containing(today, periods.YEAR, fiscal_start_month=fiscal_start_month)
    groups = []
    for year in range(current.year, current.year - years, -1):
        fiscal = Period(year, fiscal_start_month=fiscal_start_month)
        options = [_option(fiscal, today)]
        closed = periods.closed_quarters(year, today, fiscal_start_month=fiscal_start_month)
        if 0 < closed < 4:
            options.append(_option(Period(year, ytd_through=closed, fiscal_start_month=fiscal_start_month), today))
        options += [_option(q, today) for q in reversed(fiscal.quarters) if q.start <= today]
        groups.append((fiscal.title, options))
    return groups


def _option(period: Period, today: dt.date) -> tuple[str, str]:
    if period.start.year == period.end.year:
        span = f"{period.start:%b}–{period.end:%b %Y}"
    else:
        span = f"{period.start:%b %Y} – {period.end:%b %Y}"
    running = " (in progress)" if period.end >= today else ""
    return period.key, f"{period.title}: {span}{running}"
