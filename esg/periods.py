"""Reporting periods: a year (`2026`) or a quarter (`2026-Q3`). Pure, no ORM.

Quarters add up to the year (docs/esrs.md §1): a quarter's values are interim management information in
the same structure as the annual statement, never the statutory statement itself.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-Q(?P<quarter>[1-4])|(?P<ytd>-YTD))?$")


class InvalidPeriod(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    year: int
    quarter: int | None = None
    ytd_through: int | None = None  # a year to date: Q1 through this quarter

    @property
    def key(self) -> str:
        if self.ytd_through is not None:
            return f"{self.year}-YTD"
        return f"{self.year}-Q{self.quarter}" if self.quarter else str(self.year)

    @property
    def is_year(self) -> bool:
        return self.quarter is None and self.ytd_through is None

    @property
    def is_ytd(self) -> bool:
        return self.ytd_through is not None

    @property
    def quarters(self) -> list[Period]:
        """The quarters the period is made of (itself for a quarter)."""
        if self.quarter is not None:
            return [self]
        last = self.ytd_through if self.ytd_through is not None else 4
        return [Period(self.year, q) for q in range(1, last + 1)]

    @property
    def label(self) -> str:
        return f"{self.year}-YTD (Q1–Q{self.ytd_through})" if self.is_ytd else self.key

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 1 if self.quarter is None else 3 * self.quarter - 2, 1)

    @property
    def end(self) -> dt.date:
        """Exclusive end: the first day after the period."""
        last = self.quarter if self.quarter is not None else (self.ytd_through or 4)
        if last == 4:
            return dt.date(self.year + 1, 1, 1)
        return dt.date(self.year, 3 * last + 1, 1)

    @property
    def year_period(self) -> Period:
        return Period(self.year)

    def previous(self) -> Period:
        if self.is_ytd:
            return Period(self.year - 1, ytd_through=self.ytd_through)
        if self.quarter is None:
            return Period(self.year - 1)
        return Period(self.year, self.quarter - 1) if self.quarter > 1 else Period(self.year - 1, 4)

    def history(self, count: int) -> list[Period]:
        """This period and the `count - 1` before it, oldest first (for trends)."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods[::-1]

    def __str__(self) -> str:
        return self.key


def period_parse(value: str | None, *, ytd: bool = False, today: dt.date | None = None) -> Period:
    """'2026' or '2026-Q3'; with `ytd` also '2026-YTD' (Q1 through the last quarter ended by `today`, all four for
    a past year). Values are stored per quarter or year only, so writers parse without `ytd`."""
    text = (value or "").strip().upper()
    match = _PATTERN.match(text)
    if match is None or (match["ytd"] and not ytd):
        also = " (or 2026-YTD for the year to date)" if ytd else ""
        raise InvalidPeriod(f"Period must look like 2026 or 2026-Q3{also}, not {value!r}.")
    year = int(match["year"])
    if not 2000 <= year <= 2100:
        raise InvalidPeriod(f"Year {year} is outside 2000–2100.")
    if match["ytd"]:
        return _year_to_date(year, today or dt.datetime.now(dt.UTC).date())
    quarter = match["quarter"]
    return Period(year, int(quarter) if quarter else None)


def _year_to_date(year: int, today: dt.date) -> Period:
    if year < today.year:
        return Period(year, ytd_through=4)
    ended = (today.month - 1) // 3  # quarters of this year that have ended
    if year > today.year or ended == 0:
        raise InvalidPeriod(f"No quarter of {year} has ended yet, so it has no year to date.")
    return Period(year, ytd_through=ended)


def period_current(today: dt.date) -> Period:
    """The last complete quarter: the period an officer most likely reports on."""
    return Period(today.year, (today.month - 1) // 3 + 1).previous()
