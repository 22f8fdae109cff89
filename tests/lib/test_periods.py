"""The shared period model against hand-computed calendars (no database).

Fiscal years start in April in most cases below: FY 2026 = 1 Apr 2026 – 31 Mar 2027, Q1 = Apr–Jun 2026,
Q2 = Jul–Sep, Q3 = Oct–Dec 2026, Q4 = Jan–Mar 2027; H1 = Apr–Sep, H2 = Oct 2026 – Mar 2027.
"""

from __future__ import annotations

import datetime as dt

import pytest

from greenesg.lib import periods
from greenesg.lib.periods import InvalidPeriod, Period

D = dt.date
APRIL = 4


@pytest.mark.parametrize(
    ("text", "start", "end", "days"),
    [
        # 30 + 31 + 30 days (April, May, June)
        ("2026-Q1", D(2026, 4, 1), D(2026, 6, 30), 91),
        # the fiscal Q4 lies in the next calendar year: Jan 31 + Feb 28 (2027 is no leap year) + Mar 31
        ("2026-Q4", D(2027, 1, 1), D(2027, 3, 31), 90),
        # ... and in a leap year February has 29 days: 31 + 29 + 31
        ("2027-Q4", D(2028, 1, 1), D(2028, 3, 31), 91),
        # the whole fiscal year 2027 holds 29 February 2028: 366 days
        ("2027", D(2027, 4, 1), D(2028, 3, 31), 366),
        ("2026", D(2026, 4, 1), D(2027, 3, 31), 365),
        # halves: Apr–Sep is 30+31+30+31+31+30 = 183 days; Oct–Mar is 31+30+31+31+28+31 = 182
        ("2026-H1", D(2026, 4, 1), D(2026, 9, 30), 183),
        ("2026-H2", D(2026, 10, 1), D(2027, 3, 31), 182),
        # a month is a calendar month, fiscal year or not
        ("2026-02", D(2026, 2, 1), D(2026, 2, 28), 28),
        ("2028-02", D(2028, 2, 1), D(2028, 2, 29), 29),
    ],
)
def test_fiscal_periods_with_an_april_start_cover_their_days(text, start, end, days) -> None:
    period = periods.period_parse(text, fiscal_start_month=APRIL)

    assert (period.start, period.end, period.days) == (start, end, days)
    assert period.end_exclusive == end + dt.timedelta(days=1)
    assert period.key == text


def test_calendar_quarters_tile_the_year_without_gaps() -> None:
    quarters = Period(2026).quarters

    assert [(q.start, q.end) for q in quarters] == [
        (D(2026, 1, 1), D(2026, 3, 31)),
        (D(2026, 4, 1), D(2026, 6, 30)),
        (D(2026, 7, 1), D(2026, 9, 30)),
        (D(2026, 10, 1), D(2026, 12, 31)),
    ]
    assert sum(q.days for q in quarters) == Period(2026).days == 365


def test_a_year_to_date_runs_through_the_last_closed_fiscal_quarter() -> None:
    # 1 Nov 2026 with an April year: Q1 (Apr–Jun) and Q2 (Jul–Sep) have closed, Q3 (Oct–Dec) is running.
    ytd = periods.period_parse("2026-ytd", fiscal_start_month=APRIL, today=D(2026, 11, 1))

    assert (ytd.kind, ytd.ytd_through, ytd.key) == ("ytd", 2, "2026-YTD")
    assert (ytd.start, ytd.end) == (D(2026, 4, 1), D(2026, 9, 30))
    assert ytd.title == "Year to date 2026 (Q1–Q2)"
    assert [q.key for q in ytd.quarters] == ["2026-Q1", "2026-Q2"]
    # the year before covers the same two quarters
    assert (ytd.previous().start, ytd.previous().end) == (D(2025, 4, 1), D(2025, 9, 30))


def test_a_year_to_date_of_a_past_year_is_the_whole_year() -> None:
    ytd = periods.period_parse("2025-YTD", fiscal_start_month=APRIL, today=D(2026, 11, 1))

    assert (ytd.ytd_through, ytd.start, ytd.end) == (4, D(2025, 4, 1), D(2026, 3, 31))


def test_a_year_to_date_needs_a_closed_quarter() -> None:
    # 15 May 2026 with an April year: fiscal 2026 began on 1 April and no quarter of it has ended.
    with pytest.raises(InvalidPeriod) as caught:
        periods.period_parse("2026-YTD", fiscal_start_month=APRIL, today=D(2026, 5, 15))
    assert caught.value.code == "ytd"
    # ... but on the calendar the first quarter (Jan–Mar) has.
    assert periods.period_parse("2026-YTD", today=D(2026, 5, 15)).ytd_through == 1
    # a pinned YTD does not look at today
    assert periods.period_parse("2030-YTD", ytd_through=3, today=D(2026, 1, 1)).end == D(2030, 9, 30)


def test_the_quarter_to_date_widens_to_the_year_to_date() -> None:
    q3 = Period(2026, 3, fiscal_start_month=APRIL)

    assert q3.year_to_date() == Period(2026, ytd_through=3, fiscal_start_month=APRIL)
    assert (q3.year_to_date().start, q3.year_to_date().end) == (D(2026, 4, 1), D(2026, 12, 31))


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        (Period(2026, 1), Period(2025, 4)),  # across the year boundary
        (Period(2026, 3), Period(2026, 2)),
        (Period(2026, half=1), Period(2025, half=2)),
        (Period(2026, month=1), Period(2025, month=12)),
        (Period(2026, month=3), Period(2026, month=2)),
        (Period(2026), Period(2025)),
        (Period(2026, ytd_through=2), Period(2025, ytd_through=2)),
    ],
)
def test_the_previous_period_crosses_years(period: Period, previous: Period) -> None:
    assert period.previous() == previous


def test_the_previous_fiscal_quarter_keeps_the_fiscal_year() -> None:
    q1 = Period(2026, 1, fiscal_start_month=APRIL)

    assert q1.previous() == Period(2025, 4, fiscal_start_month=APRIL)
    assert (q1.previous().start, q1.previous().end) == (D(2026, 1, 1), D(2026, 3, 31))
    assert q1.previous_year().start == D(2025, 4, 1)


def test_history_lists_oldest_first() -> None:
    assert [p.key for p in Period(2026, 2).history(4)] == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]


@pytest.mark.parametrize(
    ("day", "kind", "key", "start"),
    [
        # 15 Feb 2027 lies in fiscal 2026 (Apr 2026 – Mar 2027), its fourth quarter and second half
        (D(2027, 2, 15), "year", "2026", D(2026, 4, 1)),
        (D(2027, 2, 15), "quarter", "2026-Q4", D(2027, 1, 1)),
        (D(2027, 2, 15), "half", "2026-H2", D(2026, 10, 1)),
        (D(2027, 2, 15), "month", "2027-02", D(2027, 2, 1)),
        # the first day of the fiscal year
        (D(2026, 4, 1), "quarter", "2026-Q1", D(2026, 4, 1)),
        # the last day before it
        (D(2026, 3, 31), "quarter", "2025-Q4", D(2026, 1, 1)),
    ],
)
def test_the_period_containing_a_day(day, kind, key, start) -> None:
    period = Period.containing(day, kind, fiscal_start_month=APRIL)

    assert (period.key, period.start) == (key, start)
    assert period.contains(day)


def test_contains_includes_both_ends_only() -> None:
    q = Period(2026, 2)  # 1 Apr – 30 Jun 2026

    assert [q.contains(d) for d in (D(2026, 3, 31), D(2026, 4, 1), D(2026, 6, 30), D(2026, 7, 1))] == [
        False,
        True,
        True,
        False,
    ]


def test_the_last_closed_quarter() -> None:
    # 2 April 2026 with an April year: fiscal Q4 of 2025 (Jan–Mar 2026) ended the day before yesterday.
    assert periods.last_closed_quarter(D(2026, 4, 2), fiscal_start_month=APRIL).key == "2025-Q4"
    # on the calendar, 1 January closes the year's Q4
    assert periods.last_closed_quarter(D(2027, 1, 1)).key == "2026-Q4"


def test_months_of_a_fiscal_quarter_across_the_year_end() -> None:
    months = Period(2026, 3, fiscal_start_month=11).months()  # FY from November: Q3 = May–Jul 2027

    assert [m.key for m in months] == ["2027-05", "2027-06", "2027-07"]
    assert months[-1].end == D(2027, 7, 31)


def test_the_year_of_a_month_is_fiscal() -> None:
    assert Period(2027, month=2, fiscal_start_month=APRIL).year_period == Period(2026, fiscal_start_month=APRIL)
    assert Period(2027, month=4, fiscal_start_month=APRIL).year_period == Period(2027, fiscal_start_month=APRIL)


def test_titles() -> None:
    assert [Period(2026, 3).title, Period(2026).title, Period(2026, half=2).title, Period(2026, month=7).title] == [
        "Q3 2026",
        "Fiscal year 2026",
        "H2 2026",
        "July 2026",
    ]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "form"),
        (None, "form"),
        ("26", "form"),
        ("2026-Q5", "form"),
        ("Q3-2026", "form"),
        ("2026-11-01", "form"),
        ("2026-H3", "form"),
        ("2026-13", "month"),
        ("2026-00", "month"),
        ("0000", "year"),
    ],
)
def test_bad_text_is_refused_with_the_rule_it_broke(text, code) -> None:
    with pytest.raises(InvalidPeriod) as caught:
        periods.period_parse(text)
    assert caught.value.code == code


def test_a_caller_limits_the_kinds_and_words_the_errors() -> None:
    with pytest.raises(InvalidPeriod, match=r"^Period must look like 2026 or 2026-Q3, not '2026-07'\.$"):
        periods.period_parse("2026-07", kinds=("year", "quarter"))
    with pytest.raises(InvalidPeriod, match=r"^Period must look like 2026, 2026-H1, 2026-Q3, 2026-07 or 2026-YTD, "):
        periods.period_parse("2026-W1")
    with pytest.raises(InvalidPeriod, match=r"^too early: 1999$"):
        periods.period_parse("1999", years=(2000, 2100), messages={"year": "too early: {year}"})
    with pytest.raises(InvalidPeriod) as caught:
        periods.period_parse("2026", fiscal_start_month=13)
    assert caught.value.code == "fiscal_start"


def test_text_is_read_case_insensitively_and_written_canonically() -> None:
    assert periods.period_parse(" 2026-q3 ").key == "2026-Q3"
    assert periods.period_parse("2026-h1").key == "2026-H1"
    assert Period(1, month=1).key == "0001-01"


def test_the_last_periods_of_the_calendar_end_on_9999_12_31() -> None:
    # budgets accept any year from 0001; the day after 9999-12-31 is no date, so the end is built without it
    for text, days in (("9999", 365), ("9999-Q4", 92), ("9999-12", 31)):
        period = periods.period_parse(text)
        assert (period.end, period.days) == (D(9999, 12, 31), days)
        assert period.contains(D(9999, 12, 31))


def test_a_period_names_one_part_of_a_year() -> None:
    with pytest.raises(ValueError, match="one quarter"):
        Period(2026, 1, month=2)
    with pytest.raises(ValueError, match="no such part"):
        Period(2026, 5)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),  # clamped to February's length
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 11, 15), 3, D(2027, 2, 15)),  # across the year end
        (D(2026, 1, 15), -13, D(2024, 12, 15)),
        (D(2028, 2, 29), -12, D(2027, 2, 28)),
    ],
)
def test_add_months(day, months, expected) -> None:
    assert periods.add_months(day, months) == expected


def test_month_helpers() -> None:
    assert periods.month_start(D(2026, 2, 17)) == D(2026, 2, 1)
    assert periods.month_end(D(2026, 2, 17)) == D(2026, 2, 28)
    assert periods.month_end(D(2028, 2, 1)) == D(2028, 2, 29)
    assert periods.month_end(D(2026, 12, 5)) == D(2026, 12, 31)
    assert periods.next_month_start(D(2026, 12, 31)) == D(2027, 1, 1)
    assert periods.month_starts(D(2026, 11, 30), D(2027, 1, 1)) == [D(2026, 11, 1), D(2026, 12, 1), D(2027, 1, 1)]
    assert periods.days_in_month(2100, 2) == 28  # a century year that is not a leap year
