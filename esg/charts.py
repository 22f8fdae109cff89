"""Trend figures for the ESG page: plain Plotly figure dicts (no ORM, no plotly import needed).

Labels come from the catalogue, not from users, but are escaped anyway: Plotly renders a
pseudo-HTML subset in legends and hover text (docs/security.md §7).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]  # Okabe-Ito


def trend_figure(
    series: Mapping[str, Sequence[tuple[str, float | None]]], *, title: str, unit: str
) -> dict[str, Any] | None:
    """One line per metric over periods; None when no series has a value."""
    traces = []
    for index, (label, points) in enumerate(series.items()):
        if all(value is None for _, value in points):
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": html.escape(label),
                "x": [period for period, _ in points],
                "y": [value for _, value in points],
                "line": {"color": COLOURS[index % len(COLOURS)]},
                "hovertemplate": "%{x}: %{y:.3~f} " + html.escape(unit) + "<extra>" + html.escape(label) + "</extra>",
            }
        )
    if not traces:
        return None
    return {
        "data": traces,
        "layout": {
            "title": {"text": html.escape(title)},
            "xaxis": {"type": "category"},
            "yaxis": {"title": {"text": html.escape(unit)}, "rangemode": "tozero"},
            "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
            "legend": {"orientation": "h"},
            "height": 320,
        },
    }
