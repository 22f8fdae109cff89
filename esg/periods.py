"""Reporting periods of ESG metrics: a calendar year (`2026`) or quarter (`2026-Q3`), and for readers a year to
date (`2026-YTD`). The model is greenesg.lib.periods; this module keeps ESG's accepted forms and wording.

Quarters add up to the year (docs/esrs.md §1): a quarter's values are interim management information in
the same structure as the annual statement, never the statutory statement itself.
"""

from __future__ import annotations

import datetime as dt

from greenesg.lib import periods
from greenesg.lib.periods import InvalidPeriod

__all__ = ["InvalidPeriod", "Period", "period_current", "period_parse"]

_YEARS = (2000, 2100)


class Period(periods.Period):
    """The shared period with ESG's historical half-open `end` (the first day after the period).

    ESG code reads `end_exclusive` (or the shared model's inclusive `end` where it passes a period on); this
    override only keeps `esg.periods.Period.end` meaning what its callers were promised.
    """

    @property
    def end(self) -> dt.date:
        return self.end_exclusive


def period_parse(value: str | None, *, ytd: bool = False, today: dt.date | None = None) -> Period:
    """'2026' or '2026-Q3'; with `ytd` also '2026-YTD' (Q1 through the last quarter ended by `today`, all four for
    a past year). Values are stored per quarter or year only, so writers parse without `ytd`."""
    also = " (or 2026-YTD for the year to date)" if ytd else ""
    messages = {
        "form": f"Period must look like 2026 or 2026-Q3{also}, not {{text!r}}.",
        "ytd": "No quarter of {year} has ended yet, so it has no year to date.",
    }
    kinds = (periods.YEAR, periods.QUARTER, periods.YTD) if ytd else (periods.YEAR, periods.QUARTER)
    found = periods.period_parse(value, kinds=kinds, years=_YEARS, today=today, messages=messages, cls=Period)
    return found  # type: ignore[return-value]


def period_current(today: dt.date) -> Period:
    """The last complete quarter: the period an officer most likely reports on."""
    return Period.containing(today, periods.QUARTER).previous()
