"""One period model for ESG metrics, budgets, dashboards and ESRS reports. Pure, no ORM, no Django.

A period is a month, a quarter, a half, a year or a year to date (YTD, whole quarters from the start of the
year). Quarters, halves, years and YTDs are fiscal: with a fiscal year starting in April, `2026` runs from
1 April 2026 to 31 March 2027 and `2026-Q1` is April–June 2026. A fiscal year is named after the calendar
year in which it starts (docs/esrs.md §1), so with the default January start everything is calendar. A month
is always a calendar month (`2026-07` is July 2026 whatever the fiscal year).

`end` is the last day of the period (inclusive): the ledger is compared by its `day` (the UTC day of a
record's end) with `day__lte=end`, one rule everywhere; `end_exclusive` is the first day after it.

The text forms are `2026`, `2026-H1`, `2026-Q3`, `2026-07` and `2026-YTD` (case-insensitive, surrounding
spaces ignored). Each feature accepts only some of them and words its own errors, so `period_parse` takes the
accepted kinds and the messages; the grammar and the arithmetic live only here.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any, Self

MONTH = "month"
QUARTER = "quarter"
HALF = "half"
YEAR = "year"
YTD = "ytd"
KINDS = (MONTH, QUARTER, HALF, YEAR, YTD)

_TEXT = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|H(?P<half>[12])|(?P<ytd>YTD)|(?P<month>\d{2})))?$")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Default wording; a caller passes its own for any of these codes (the keys of `period_parse`'s `messages`).
MESSAGES: dict[str, str] = {
    "form": "Period must look like {forms}, not {text!r}.",
    "fiscal_start": "Fiscal year start month must be 1–12.",
    "year": "Year {year} is outside {first_year}–{last_year}.",
    "month": "month must be 01 to 12 in {text!r}",
    "ytd": "No quarter of fiscal year {year} has closed yet.",
}
_FORMS = {YEAR: "2026", HALF: "2026-H1", QUARTER: "2026-Q3", MONTH: "2026-07", YTD: "2026-YTD"}


class InvalidPeriod(ValueError):
    """A period text the user can fix; `code` says which rule it broke (a key of MESSAGES)."""

    def __init__(self, message: str, *, code: str = "form") -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------------------- day helpers


def month_start(day: dt.date) -> dt.date:
    """The first day of the day's month."""
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (earlier if negative), clamped to the month's length (31 Mar − 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, days_in_month(year, month + 1)))


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def month_end(day: dt.date) -> dt.date:
    """The last day of the day's month."""
    return day.replace(day=days_in_month(day.year, day.month))


def next_month_start(day: dt.date) -> dt.date:
    """The first day of the month after the day's month."""
    return add_months(month_start(day), 1)


def month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of the months that start..end (inclusive) touches, in order."""
    months, month = [], month_start(start)
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


# --------------------------------------------------------------------------------------- the period


@dataclass(frozen=True)
class Period:
    """A period named by its (fiscal) year and at most one part of it.

    `Period(2026)` is a year, `Period(2026, 3)` its third quarter, `Period(2026, ytd_through=2)` its first two
    quarters, `Period(2026, half=1)` its first half and `Period(2026, month=7)` July 2026. For a month, `year`
    is the calendar year; for every other kind it is the fiscal year.
    """

    year: int
    quarter: int | None = None
    ytd_through: int | None = None  # a year to date: Q1 through this quarter
    month: int | None = None
    half: int | None = None
    fiscal_start_month: int = 1

    def __post_init__(self) -> None:
        parts = [p for p in (self.quarter, self.ytd_through, self.month, self.half) if p is not None]
        if len(parts) > 1:
            raise ValueError("a period is a year or one quarter, half, month or year to date of it")
        limits = ((self.quarter, 4), (self.ytd_through, 4), (self.month, 12), (self.half, 2))
        if any(value is not None and not 1 <= value <= top for value, top in limits):
            raise ValueError(f"no such part of a year in {self!r}")
        if not 1 <= self.fiscal_start_month <= 12:
            raise ValueError("the fiscal year start month must be 1–12")

    # -- what it is

    @property
    def kind(self) -> str:
        if self.quarter is not None:
            return QUARTER
        if self.ytd_through is not None:
            return YTD
        if self.month is not None:
            return MONTH
        return HALF if self.half is not None else YEAR

    @property
    def is_year(self) -> bool:
        return self.kind == YEAR

    @property
    def is_ytd(self) -> bool:
        return self.kind == YTD

    @property
    def key(self) -> str:
        """The canonical text: `2026`, `2026-H1`, `2026-Q3`, `2026-07` or `2026-YTD` (parses back to itself)."""
        if self.quarter is not None:
            suffix = f"-Q{self.quarter}"
        elif self.month is not None:
            suffix = f"-{self.month:02d}"
        elif self.half is not None:
            suffix = f"-H{self.half}"
        else:
            suffix = "-YTD" if self.ytd_through is not None else ""
        return f"{self.year:04d}{suffix}"

    @property
    def label(self) -> str:
        """The name a report is filed under: the canonical text (a YTD's quarters are in `title`)."""
        return self.key

    @property
    def title(self) -> str:
        """The heading of a report or page: `Q3 2026`, `Year to date 2026 (Q1–Q3)`, `Fiscal year 2026` …"""
        kind = self.kind
        if kind == QUARTER:
            return f"Q{self.quarter} {self.year}"
        if kind == YTD:
            return f"Year to date {self.year} (Q1–Q{self.ytd_through})"
        if kind == HALF:
            return f"H{self.half} {self.year}"
        if kind == MONTH and self.month is not None:  # always set for a month (see `kind`)
            return f"{_MONTH_NAMES[self.month - 1]} {self.year}"
        return f"Fiscal year {self.year}"

    def __str__(self) -> str:
        return self.key

    # -- its days

    @property
    def start(self) -> dt.date:
        if self.month is not None:
            return dt.date(self.year, self.month, 1)
        return add_months(dt.date(self.year, self.fiscal_start_month, 1), 3 * (self._first_quarter() - 1))

    @property
    def end(self) -> dt.date:
        """The last day of the period (inclusive)."""
        return self._last_day()

    @property
    def end_exclusive(self) -> dt.date:
        """The first day after the period."""
        return self._last_day() + dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self._last_day() - self.start).days + 1

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self._last_day()

    def _last_day(self) -> dt.date:
        # Not `end`: a subclass may present `end` its own way (esg.periods keeps a half-open one). Built from the
        # last month rather than the day after, so periods ending on 9999-12-31 stay within the calendar.
        if self.month is not None:
            return month_end(self.start)
        return month_end(add_months(dt.date(self.year, self.fiscal_start_month, 1), 3 * self._last_quarter() - 1))

    def _first_quarter(self) -> int:
        if self.quarter is not None:
            return self.quarter
        return 2 * self.half - 1 if self.half is not None else 1

    def _last_quarter(self) -> int:
        if self.quarter is not None:
            return self.quarter
        if self.half is not None:
            return 2 * self.half
        return self.ytd_through if self.ytd_through is not None else 4

    # -- its parts and neighbours

    @property
    def quarters(self) -> list[Self]:
        """The fiscal quarters the period is made of (itself for a quarter, none for a month)."""
        if self.month is not None:
            return []
        return [self._part(quarter=q) for q in range(self._first_quarter(), self._last_quarter() + 1)]

    def months(self) -> list[Self]:
        """The calendar months of the period, in order."""
        return [replace(self._part(), year=day.year, month=day.month) for day in month_starts(self.start, self.end)]

    @property
    def year_period(self) -> Self:
        """The fiscal year the period lies in."""
        if self.month is None:
            return self._part()
        return replace(self, month=None, year=self.start.year - (self.month < self.fiscal_start_month))

    def year_to_date(self) -> Self:
        """From the fiscal-year start to the end of this period (the YTD column of a quarterly report)."""
        if self.month is not None:
            raise ValueError("a year to date runs through whole quarters, not to the end of a month")
        return self._part(ytd_through=self._last_quarter())

    def previous(self) -> Self:
        """The period just before: the month, quarter, half or year before; a YTD compares with the same quarters
        one year earlier (the part of the year before that has ended by the same point)."""
        if self.quarter is not None:
            return (
                self._part(quarter=self.quarter - 1) if self.quarter > 1 else self._part(year=self.year - 1, quarter=4)
            )
        if self.half is not None:
            return self._part(half=1) if self.half == 2 else self._part(year=self.year - 1, half=2)
        if self.month is not None:
            day = add_months(self.start, -1)
            return replace(self, year=day.year, month=day.month)
        return replace(self, year=self.year - 1)

    def previous_year(self) -> Self:
        """The same period one (fiscal) year earlier: the N-1 column."""
        return replace(self, year=self.year - 1)

    def history(self, count: int) -> list[Self]:
        """This period and the `count - 1` before it, oldest first (for trends)."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods[::-1]

    def _part(self, **fields: Any) -> Self:
        # `replace` keeps a subclass's type, so a caller's own Period flavour survives previous(), quarters …
        cleared = {"quarter": None, "ytd_through": None, "month": None, "half": None}
        return replace(self, **(cleared | fields))

    @classmethod
    def containing(cls, day: dt.date, kind: str, *, fiscal_start_month: int = 1) -> Self:
        """The month, quarter, half or fiscal year that contains a day."""
        if kind == MONTH:
            return cls(day.year, month=day.month, fiscal_start_month=fiscal_start_month)
        offset = (day.month - fiscal_start_month) % 12  # months since the fiscal year started
        year = day.year if day.month >= fiscal_start_month else day.year - 1
        if kind == QUARTER:
            return cls(year, offset // 3 + 1, fiscal_start_month=fiscal_start_month)
        if kind == HALF:
            return cls(year, half=offset // 6 + 1, fiscal_start_month=fiscal_start_month)
        if kind == YEAR:
            return cls(year, fiscal_start_month=fiscal_start_month)
        raise ValueError(f"kind must be one of {MONTH}, {QUARTER}, {HALF} or {YEAR}, not {kind!r}")


def last_closed_quarter(today: dt.date, *, fiscal_start_month: int = 1) -> Period:
    """The most recent fiscal quarter that ended before `today`."""
    return Period.containing(today, QUARTER, fiscal_start_month=fiscal_start_month).previous()


def closed_quarters(year: int, today: dt.date, *, fiscal_start_month: int = 1) -> int:
    """How many quarters of fiscal `year` have ended before `today`: 4 for a past year, 0 for one not yet begun."""
    closed = last_closed_quarter(today, fiscal_start_month=fiscal_start_month)
    if closed.year < year:
        return 0
    return 4 if closed.year > year else closed.quarter  # type: ignore[return-value]


# --------------------------------------------------------------------------------------- text


def period_parse(
    text: str | None,
    *,
    kinds: Collection[str] = KINDS,
    fiscal_start_month: int = 1,
    years: tuple[int, int] = (1, 9999),
    today: dt.date | None = None,
    ytd_through: int | None = None,
    messages: Mapping[str, str] | None = None,
    cls: type[Period] = Period,
) -> Period:
    """Read a period's text; raise InvalidPeriod (with the caller's wording for its `code`) otherwise.

    Checks run in this order, each with its message code: the form and the accepted `kinds` ("form"), the
    fiscal start month ("fiscal_start"), the year range ("year"), the month number ("month"). A YTD runs
    through the last quarter of that fiscal year closed by `today` (UTC today by default; all four for a past
    year; "ytd" when none has closed); `ytd_through` pins it instead (the N-1 column covers the same quarters).
    Messages are `str.format` templates over text, forms, year, first_year and last_year.
    """
    words = {**MESSAGES, **(messages or {})}
    first_year, last_year = years
    accepted = [form for kind, form in _FORMS.items() if kind in kinds]
    forms = " or ".join([", ".join(accepted[:-1]), accepted[-1]] if len(accepted) > 1 else accepted)
    params = {"text": text, "forms": forms, "first_year": first_year, "last_year": last_year, "year": None}

    def fail(code: str) -> InvalidPeriod:
        return InvalidPeriod(words[code].format(**params), code=code)

    match = _TEXT.match((text or "").strip().upper())
    kind = _kind_of(match)
    if match is None or kind not in kinds:
        raise fail("form")
    if not 1 <= fiscal_start_month <= 12:
        raise fail("fiscal_start")
    year = params["year"] = int(match["year"])
    if not first_year <= year <= last_year:
        raise fail("year")
    if kind == MONTH:
        if not 1 <= int(match["month"]) <= 12:
            raise fail("month")
        return cls(year, month=int(match["month"]), fiscal_start_month=fiscal_start_month)
    if kind == YTD:
        through = ytd_through
        if through is None:
            today = today or dt.datetime.now(dt.UTC).date()
            through = closed_quarters(year, today, fiscal_start_month=fiscal_start_month)
        if through == 0:
            raise fail("ytd")
        return cls(year, ytd_through=through, fiscal_start_month=fiscal_start_month)
    quarter, half = match["quarter"], match["half"]
    return cls(
        year,
        int(quarter) if quarter else None,
        half=int(half) if half else None,
        fiscal_start_month=fiscal_start_month,
    )


def _kind_of(match: re.Match[str] | None) -> str | None:
    if match is None:
        return None
    for kind, group in ((QUARTER, "quarter"), (HALF, "half"), (YTD, "ytd"), (MONTH, "month")):
        if match[group]:
            return kind
    return YEAR
