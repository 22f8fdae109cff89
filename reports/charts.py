"""Chart builders: prepared DataFrames in, Plotly figure dicts out (plain lists, JSON-ready, no ORM).

Figures reach the page through `json_script` and are drawn by a small per-page script with the
vendored plotly.js. Plotly renders a pseudo-HTML subset in titles, tick labels, legends and hover
text, so every user-derived string (project, experiment and run names) is `html.escape`d here
before it enters a figure (reliability.md §4). Colours are Okabe-Ito, which stays distinguishable
for the common colour-vision deficiencies.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reports.aggregation import scope_label, top_with_other

if TYPE_CHECKING:
    import pandas as pd

OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
SERIES_COLOURS = [OKABE_ITO[name] for name in ("blue", "orange", "green", "purple", "sky", "vermillion", "yellow")]
SCOPE_COLOURS = {
    "scope1": OKABE_ITO["vermillion"],
    "scope2": OKABE_ITO["blue"],
    "scope3": OKABE_ITO["purple"],
    "scope3.cat1.1": OKABE_ITO["orange"],
}
LOCATION_COLOUR = OKABE_ITO["blue"]
MARKET_COLOUR = OKABE_ITO["orange"]
OTHER_COLOUR = "#7F7F7F"
PROJECT_BARS = 15
LABEL_CHARS = 40


def esc(value: Any) -> str:
    """Escape a user-derived value for Plotly's pseudo-HTML (titles, ticks, legends, hover)."""
    return html.escape(str(value), quote=True)


def _label(value: Any) -> str:
    """Shorten before escaping, so an entity is never cut in half."""
    text = str(value)
    return esc(text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…")


def _unique(labels: Iterable[str]) -> list[str]:
    # Equal labels would merge into one bar on a category axis and misstate both values.
    seen: dict[str, int] = {}
    result = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        result.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return result


def _numbers(values: Iterable[Any]) -> list[float | None]:
    # NaN is not JSON: JSON.parse would reject the whole figure.
    result: list[float | None] = []
    for value in values:
        number = None if value is None else float(value)
        result.append(None if number is None or math.isnan(number) else number)
    return result


def _layout(*, title: str, y_title: str, x_title: str = "", **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 13, "color": "#1f2933"},
        "margin": {"l": 60, "r": 20, "t": 64, "b": 40},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        # At the right, so it never collides with two-line date ticks or the axis title. Stacked bars
        # reverse the legend by default; keep it in scope order.
        "legend": {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "traceorder": "normal"},
        "xaxis": {"title": {"text": x_title}, "automargin": True},
        "yaxis": {"title": {"text": y_title}, "gridcolor": "#e4e7eb", "rangemode": "tozero", "automargin": True},
        "hoverlabel": {"namelength": -1},
    }
    layout.update(extra)
    return layout


def scope_bar(by_scope: pd.DataFrame) -> dict[str, Any]:
    """kgCO2e per scope/category, location- and market-based side by side."""
    labels = list(by_scope["label"])
    data = [
        {
            "type": "bar",
            "name": name,
            "x": labels,
            "y": _numbers(by_scope[column]),
            "marker": {"color": colour},
            "hovertemplate": "%{x}: %{y:,.3f} kgCO2e<extra>%{fullData.name}</extra>",
        }
        for name, column, colour in (
            ("Location-based", "kgco2e_location", LOCATION_COLOUR),
            ("Market-based", "kgco2e_market", MARKET_COLOUR),
        )
    ]
    layout = _layout(title="Emissions by scope and category", y_title="kgCO2e", barmode="group")
    layout["xaxis"]["type"] = "category"
    return {"data": data, "layout": layout}


def project_bar(by_project: pd.DataFrame, urls: Mapping[int | None, str]) -> dict[str, Any]:
    """Location-based kgCO2e per project, largest first; a click opens the project."""
    frame = by_project.assign(url=[urls.get(pid, "") for pid in by_project["project_id"]])
    frame = top_with_other(frame, label_column="project", limit=PROJECT_BARS, other_label="Other ({count} projects)")
    labels = _unique(_label(name) for name in frame["project"])
    names = [esc(name) for name in frame["project"]]
    customdata = [[url if isinstance(url, str) else "", name] for url, name in zip(frame["url"], names, strict=True)]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "Location-based",
            "y": labels,
            "x": _numbers(frame["kgco2e_location"]),
            "customdata": customdata,
            "marker": {"color": LOCATION_COLOUR},
            "hovertemplate": "%{customdata[1]}: %{x:,.3f} kgCO2e<extra></extra>",
        }
    ]
    height = max(260, 70 + 28 * len(labels))
    layout = _layout(title="Emissions by project (location-based)", y_title="", x_title="kgCO2e", height=height)
    layout["yaxis"].update({"type": "category", "autorange": "reversed"})
    layout["bargap"] = 0.35
    layout["showlegend"] = False
    return {"data": data, "layout": layout}


def month_stacked(by_month: pd.DataFrame) -> dict[str, Any]:
    """Monthly location-based kgCO2e, stacked by scope/category."""
    data = []
    for key in dict.fromkeys(by_month["scope_key"]):
        part = by_month[by_month["scope_key"] == key]
        data.append(
            {
                "type": "bar",
                "name": scope_label(key),
                "x": [month.isoformat() for month in part["month"]],
                "y": _numbers(part["kgco2e_location"]),
                "marker": {"color": SCOPE_COLOURS.get(key, OTHER_COLOUR)},
                "hovertemplate": "%{x|%b %Y}: %{y:,.3f} kgCO2e<extra>%{fullData.name}</extra>",
            }
        )
    layout = _layout(title="Emissions by month and scope (location-based)", y_title="kgCO2e", barmode="stack")
    layout["xaxis"].update({"type": "date", "tickformat": "%b %Y", "dtick": "M1"})
    return {"data": data, "layout": layout}


def runs_scatter(runs: pd.DataFrame, urls: Mapping[int, str], *, title: str) -> dict[str, Any]:
    """kgCO2e of each run against its end time, one series per experiment; a click opens the run.

    `runs` carries the `series` column of `aggregation.runs_series`.
    """
    data = []
    for index, series in enumerate(dict.fromkeys(runs["series"])):
        part = runs[runs["series"] == series]
        colour = OTHER_COLOUR if series == "Other experiments" else SERIES_COLOURS[index % len(SERIES_COLOURS)]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": _label(series),
                "x": [end.strftime("%Y-%m-%d %H:%M:%S") for end in part["period_end"]],
                "y": _numbers(part["kgco2e_location"]),
                "customdata": [
                    [urls.get(int(pk), ""), esc(run_id or "(no run id)"), esc(series)]
                    for pk, run_id, series in zip(part["id"], part["run_id"], part["series"], strict=True)
                ],
                "marker": {"color": colour, "size": 8, "line": {"width": 0.5, "color": "#ffffff"}},
                "hovertemplate": "Run %{customdata[1]}<br>%{customdata[2]}<br>%{x} UTC<br>"
                "%{y:,.4f} kgCO2e<extra></extra>",
            }
        )
    layout = _layout(title=esc(title), y_title="kgCO2e per run", x_title="End of run (UTC)")
    layout["xaxis"]["type"] = "date"
    layout["hovermode"] = "closest"
    return {"data": data, "layout": layout}
