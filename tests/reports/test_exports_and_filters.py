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
