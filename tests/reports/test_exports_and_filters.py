"""CSV neutralising and query-string filters."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from reports.dashboards.exports import csv_cell, csv_lines
from reports.dashboards.filters import DashboardFilter, InvalidFilter, dashboard_filter_parse


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\nx", "'\nx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (-12.5, -12.5),
        (3, 3),
        (float("nan"), ""),
        (None, ""),
        (True, "yes"),
        (["a", "=b"], "a =b"),
        (["=a"], "'=a"),
        (dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "2025-01-02 03:04:05"),
    ],
)
def test_csv_cells_are_neutralised(value, expected):
    assert csv_cell(value) == expected


def test_csv_lines_quote_text_and_leave_numbers_bare():
    body = "".join(csv_lines(["name", "kg"], [['=HYPERLINK("http://x","y")', -1.5], ["a,b\nc", 2]]))
    assert body.splitlines()[1] == '"\'=HYPERLINK(""http://x"",""y"")",-1.5'
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[2] == ["a,b\nc", "2"]
    assert len(rows) == 3


def test_filters_parse_and_round_trip():
    flt = dashboard_filter_parse({"start": "2025-01-01", "end": " 2025-03-31 "})
    assert flt == DashboardFilter(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31))
    assert flt.querystring == "?start=2025-01-01&end=2025-03-31"
    assert dashboard_filter_parse({"start": ""}) == DashboardFilter()
    assert DashboardFilter().querystring == ""
    assert dashboard_filter_parse({"start": "2025-01-01", "end": "2025-01-01"}).is_filtered


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2025-1-1"}, "YYYY-MM-DD"),
        ({"start": "20250101"}, "YYYY-MM-DD"),
        ({"end": "2025-02-29"}, "not a real calendar date"),
        ({"start": "2025-02-02", "end": "2025-02-01"}, "after end"),
        ({"start": "<script>"}, "YYYY-MM-DD"),
    ],
)
def test_bad_filters_raise_a_clear_message(params, message):
    with pytest.raises(InvalidFilter, match=message):
        dashboard_filter_parse(params)


@pytest.mark.parametrize(
    ("start", "end", "previous"),
    [
        # A quarter against the previous quarter (Q2 has 91 days, Q1 90: "equal length" missed a day of December).
        ("2026-04-01", "2026-06-30", ("2026-01-01", "2026-03-31")),
        ("2026-01-01", "2026-03-31", ("2025-10-01", "2025-12-31")),
        # A year against the previous year, a month against the previous month.
        ("2026-01-01", "2026-12-31", ("2025-01-01", "2025-12-31")),
        ("2026-03-01", "2026-03-31", ("2026-02-01", "2026-02-28")),
        # A year to date against the same days a year earlier.
        ("2028-01-01", "2028-02-29", ("2027-01-01", "2027-02-28")),
        ("2026-01-01", "2026-12-03", ("2025-01-01", "2025-12-03")),
        # Any other range: the range of equal length just before.
        ("2025-02-04", "2025-03-05", ("2025-01-05", "2025-02-03")),
    ],
)
def test_the_previous_period_is_the_one_the_report_compares_with(start: str, end: str, previous: tuple) -> None:
    import datetime as dt

    from reports.dashboards.filters import dashboard_filter_build

    flt = dashboard_filter_build(start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end))
    before = flt.previous()

    assert (before.start.isoformat(), before.end.isoformat()) == previous
