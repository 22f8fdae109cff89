"""Reporting periods: a year (`2026`) or a quarter (`2026-Q3`). Pure, no ORM.

Quarters add up to the year (docs/esrs.md §1): a quarter's values are interim management information in
the same structure as the annual statement, never the statutory statement itself.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-Q(?P<quarter>[1-4]))?$")


class InvalidPeriod(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    year: int
    quarter: int | None = None

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.quarter}" if self.quarter else str(self.year)

    @property
    def is_year(self) -> bool:
        return self.quarter is None

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 1 if self.quarter is None else 3 * self.quarter - 2, 1)

    @property
    def end(self) -> dt.date:
        """Exclusive end: the first day after the period."""
        if self.quarter is None or self.quarter == 4:
            return dt.date(self.year + 1, 1, 1)
        return dt.date(self.year, 3 * self.quarter + 1, 1)

    @property
    def year_period(self) -> Period:
        return Period(self.year)

    def previous(self) -> Period:
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


def period_parse(value: str | None) -> Period:
    text = (value or "").strip().upper()
    match = _PATTERN.match(text)
    if match is None:
        raise InvalidPeriod(f"Period must look like 2026 or 2026-Q3, not {value!r}.")
    year = int(match["year"])
    if not 2000 <= year <= 2100:
        raise InvalidPeriod(f"Year {year} is outside 2000–2100.")
    quarter = match["quarter"]
    return Period(year, int(quarter) if quarter else None)


def period_current(today: dt.date) -> Period:
    """The last complete quarter: the period an officer most likely reports on."""
    return Period(today.year, (today.month - 1) // 3 + 1).previous()
