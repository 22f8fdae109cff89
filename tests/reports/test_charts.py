"""Chart builders: valid Plotly figures, escaped user strings, no NaN, colour-blind-safe palette."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import plotly.graph_objects as go
import pytest

from reports.dashboards import aggregation, charts

from .conftest import HOSTILE


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _frame() -> pd.DataFrame:
    rows = [
        (1, dt.date(2025, 1, 1), "codecarbon", 2, "", 2, 1.0, 1.5, 0.3, 0.4, 2.0),
        (2, dt.date(2025, 2, 1), "codecarbon", 3, "1.1", 1, 4.0, 4.4, 1.1, 1.0, 0.0),
        (None, dt.date(2025, 2, 1), "billing", 3, "1.1", 1, 9.0, 9.0, 3.0, 3.0, 0.0),
    ]
    return aggregation.footprint_prepare(pd.DataFrame(rows, columns=list(aggregation.FRAME_COLUMNS)))


def _runs(experiments: list[str]) -> pd.DataFrame:
    n = len(experiments)
    return aggregation.runs_series(
        pd.DataFrame(
            {
                "id": list(range(1, n + 1)),
                "period_end": [dt.datetime(2025, 1, 1, i % 24, tzinfo=dt.UTC) for i in range(n)],
                "experiment": experiments,
                "run_id": [f"run-{i}" for i in range(n)],
                "kgco2e_location": [float("nan") if i == 0 else i / 10 for i in range(n)],
                "energy_facility_kwh": [1.0] * n,
            }
        )
    )


def _figures(names: dict[int, str] | None = None, experiments: list[str] | None = None) -> list[dict]:
    frame = _frame()
    by_project = aggregation.by_project(frame, names or {1: "ML", 2: "Web"})
    return [
        charts.scope_bar(aggregation.by_scope(frame)),
        charts.project_bar(by_project, {1: "/o/acme/p/ml/", 2: "/o/acme/p/web/"}),
        charts.month_stacked(aggregation.by_month(frame)),
        charts.runs_scatter(_runs(experiments or ["a", "b", "a"]), {1: "/r/1/"}, title="Runs"),
    ]


def test_figures_are_valid_plotly_and_plain_json():
    for figure in _figures():
        go.Figure(figure)  # raises on any unknown property
        json.dumps(figure, allow_nan=False)


def test_scope_bar_shows_location_and_market_side_by_side():
    figure = _figures()[0]
    assert [trace["name"] for trace in figure["data"]] == ["Location-based", "Market-based"]
    assert figure["data"][0]["y"] == pytest.approx([0.3, 4.1])
    assert figure["data"][1]["y"] == pytest.approx([0.4, 4.0])


def test_month_chart_stacks_one_trace_per_scope_with_fixed_colours():
    figure = _figures()[2]
    assert figure["layout"]["barmode"] == "stack"
    assert [trace["name"] for trace in figure["data"]] == ["Scope 2", "Scope 3 cat. 1.1 (cloud)"]
    assert [trace["marker"]["color"] for trace in figure["data"]] == [
        charts.OKABE_ITO["blue"],
        charts.OKABE_ITO["orange"],
    ]


def test_project_bar_links_bars_and_keeps_unallocated_unlinked():
    figure = _figures()[1]
    trace = figure["data"][0]
    assert trace["y"] == ["Unallocated", "Web", "ML"]
    assert [item[0] for item in trace["customdata"]] == ["", "/o/acme/p/web/", "/o/acme/p/ml/"]


def test_project_bar_folds_long_tails_and_disambiguates_equal_labels():
    names = {i: "Same name" for i in range(1, 3)}
    trace = _figures(names)[1]["data"][0]
    assert trace["y"] == ["Unallocated", "Same name", "Same name #2"]


def test_hostile_names_are_escaped_everywhere():
    figures = _figures({1: HOSTILE[0], 2: HOSTILE[1]}, experiments=[HOSTILE[0], HOSTILE[1], HOSTILE[1]])
    strings = [s for figure in figures for s in _strings(figure)]
    assert any("&lt;img src=x onerror=alert(1)&gt;" in s for s in strings)
    assert any("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in s for s in strings)
    for s in strings:
        assert "<img" not in s and "<script" not in s and "</script" not in s, s


def test_long_names_are_cut_before_escaping():
    label = charts._label("&" * 100)
    assert label.endswith("…")
    assert label.count("&amp;") == charts.LABEL_CHARS - 1


def test_missing_emissions_become_null_not_nan():
    figure = _figures()[3]
    values = [y for trace in figure["data"] for y in trace["y"]]
    assert None in values
    json.dumps(figure, allow_nan=False)


def test_palette_is_okabe_ito():
    assert set(charts.SERIES_COLOURS) <= set(charts.OKABE_ITO.values())
    assert set(charts.SCOPE_COLOURS.values()) <= set(charts.OKABE_ITO.values())
