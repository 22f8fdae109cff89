"""Aggregation on small hand-built frames, without the database."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from reports.dashboards import aggregation

JAN, FEB = dt.date(2025, 1, 1), dt.date(2025, 2, 1)


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return aggregation.footprint_prepare(pd.DataFrame(rows, columns=list(aggregation.FRAME_COLUMNS)))


@pytest.fixture
def frame() -> pd.DataFrame:
    # project_id, month, source, scope, category, records, it, facility, loc, market, water
    return _frame(
        [
            (1, JAN, "codecarbon", 2, "", 2, 1.0, 1.5, 0.3, 0.4, 2.0),
            (1, FEB, "codecarbon", 3, "1.1", 1, 4.0, 4.4, 1.1, None, 0.0),
            (2, FEB, "codecarbon_task", 2, "", 5, 0.5, 0.5, 0.1, 0.1, 0.0),
            (None, FEB, "billing", 3, "1.1", 3, 100.0, 120.0, 30.0, 30.0, 0.0),
            (2, JAN, "codecarbon", 1, "", 1, 0.0, 0.0, 2.0, 2.0, 0.0),
        ]
    )


def test_scope_keys_and_labels():
    assert aggregation.scope_key(2, "") == "scope2"
    assert aggregation.scope_key(3, "1.1") == "scope3.cat1.1"
    assert aggregation.scope_label("scope3.cat1.1") == "Scope 3 cat. 1.1 (cloud)"
    assert aggregation.scope_label("scope3.cat6") == "Scope 3 cat. 6"


def test_only_codecarbon_runs_count_as_runs_and_missing_sums_are_zero(frame):
    assert list(frame["runs"]) == [2, 1, 0, 0, 1]
    assert frame["kgco2e_market"].isna().sum() == 0
    assert aggregation.totals(frame) == pytest.approx(
        {
            "runs": 4,
            "energy_kwh_it": 105.5,
            "energy_kwh_facility": 126.4,
            "kgco2e_location": 33.5,
            "kgco2e_market": 32.5,
            "water_l": 2.0,
        }
    )
    assert isinstance(aggregation.totals(frame)["runs"], int)


def test_by_scope_is_in_scope_order(frame):
    result = aggregation.by_scope(frame)
    expected = pd.DataFrame(
        {
            "scope_key": ["scope1", "scope2", "scope3.cat1.1"],
            "runs": [1, 2, 1],
            "energy_kwh_it": [0.0, 1.5, 104.0],
            "energy_kwh_facility": [0.0, 2.0, 124.4],
            "kgco2e_location": [2.0, 0.4, 31.1],
            "kgco2e_market": [2.0, 0.5, 30.0],
            "water_l": [0.0, 2.0, 0.0],
            "label": ["Scope 1", "Scope 2", "Scope 3 cat. 1.1 (cloud)"],
        }
    )
    assert_frame_equal(result, expected, check_dtype=False)


def test_by_scope_dict_has_the_summary_keys(frame):
    result = aggregation.by_scope_dict(frame)
    assert list(result) == ["scope1", "scope2", "scope3.cat1.1"]
    assert set(result["scope2"]) == set(aggregation.METRICS)
    assert result["scope2"]["runs"] == 2


def test_by_project_names_the_unallocated_bucket_and_sorts_largest_first(frame):
    result = aggregation.by_project(frame, {1: "ML", 2: "Web"})
    assert list(result["project"]) == ["Unallocated", "Web", "ML"]
    assert list(result["project_id"]) == [None, 2, 1]
    assert list(result["kgco2e_location"]) == pytest.approx([30.0, 2.1, 1.4])


def test_by_month_is_long_and_ordered(frame):
    result = aggregation.by_month(frame)
    assert list(zip(result["month"], result["scope_key"], strict=True)) == [
        (JAN, "scope1"),
        (JAN, "scope2"),
        (FEB, "scope2"),
        (FEB, "scope3.cat1.1"),
    ]
    assert list(result["kgco2e_location"]) == pytest.approx([2.0, 0.3, 0.1, 31.1])


def test_empty_frames_give_empty_results():
    empty = aggregation.footprint_prepare(aggregation.empty_footprint_frame())
    assert aggregation.totals(empty) == {metric: 0 for metric in aggregation.METRICS}
    assert aggregation.by_scope(empty).empty
    assert aggregation.by_month(empty).empty
    assert aggregation.by_project(empty, {}).empty
    assert aggregation.by_scope_dict(empty) == {}


def test_top_with_other_folds_the_tail():
    frame = pd.DataFrame({"name": list("abcd"), **{m: [4.0, 3.0, 2.0, 1.0] for m in aggregation.METRICS}})
    result = aggregation.top_with_other(frame, label_column="name", limit=2, other_label="Other ({count})")
    assert list(result["name"]) == ["a", "b", "Other (2)"]
    assert list(result["kgco2e_location"]) == [4.0, 3.0, 3.0]


def test_runs_series_keeps_the_busiest_experiments():
    frame = pd.DataFrame({"experiment": ["a", "a", "b", "", "c", "c", "c"]})
    result = aggregation.runs_series(frame, limit=2)
    assert list(result["series"]) == ["a", "a", "Other experiments", "Other experiments", "c", "c", "c"]
    assert list(aggregation.runs_series(pd.DataFrame({"experiment": [""]}))["series"]) == ["(no experiment)"]


def test_rollup_merge_without_dimensions_sums_every_part_into_one_row():
    # A whole month (2 records, 1.5 of each sum) and its edge days (3 records, 2.5 each): 5 records, 4.0 each.
    columns = list(aggregation.ROLLUP_SUMS)
    month = pd.DataFrame([[2, *[1.5] * (len(columns) - 1)]], columns=columns)
    days = pd.DataFrame([[3, *[2.5] * (len(columns) - 1)]], columns=columns)

    merged = aggregation.rollup_merge([month, days], [])

    assert merged["records"].tolist() == [5]
    assert merged["energy_kwh_facility"].tolist() == [4.0] and merged["kgco2e_market"].tolist() == [4.0]
