"""Chart builders: prepared DataFrames in, Plotly figure dicts out (plain lists, JSON-ready, no ORM).

Figures reach the page through `json_script` and are drawn by a small per-page script with the
vendored plotly.js. Plotly renders a pseudo-HTML subset in titles, tick labels, legends and hover
text, so every user-derived string (project, experiment and run names) is `html.escape`d here
before it enters a figure (docs/security.md §7). Colours are Okabe-Ito, which stays distinguishable
for the common colour-vision deficiencies.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reports.dashboards.aggregation import scope_label, top_with_other

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


def _scaled(values: Iterable[Any], unit: str) -> list[float | None]:
    """kgCO2e as the chart's unit: tCO2e on organisation pages, kgCO2e on project and run pages."""
    divisor = UNITS[unit]
    return [None if v is None else v / divisor for v in _numbers(values)]


UNITS = {"kgCO2e": 1.0, "tCO2e": 1000.0}


def scope_bar(by_scope: pd.DataFrame, *, unit: str = "kgCO2e", urls: list[str] | None = None) -> dict[str, Any]:
    """Emissions per scope/category, location- and market-based side by side; a click filters by the scope."""
    labels = list(by_scope["label"])
    links = [[url] for url in (urls or [""] * len(labels))]
    data = [
        {
            "type": "bar",
            "name": name,
            "x": labels,
            "y": _scaled(by_scope[column], unit),
            "customdata": links,
            "marker": {"color": colour},
            "hovertemplate": f"%{{x}}: %{{y:,.4~f}} {unit}<extra>%{{fullData.name}}</extra>",
        }
        for name, column, colour in (
            ("Location-based", "kgco2e_location", LOCATION_COLOUR),
            ("Market-based", "kgco2e_market", MARKET_COLOUR),
        )
    ]
    layout = _layout(title="Emissions by scope and category", y_title=unit, barmode="group")
    layout["xaxis"]["type"] = "category"
    return {"data": data, "layout": layout}


def project_bar(by_project: pd.DataFrame, urls: Mapping[int | None, str], *, unit: str = "kgCO2e") -> dict[str, Any]:
    """Location-based emissions per project, largest first; a click opens the project."""
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
            "x": _scaled(frame["kgco2e_location"], unit),
            "customdata": customdata,
            "marker": {"color": LOCATION_COLOUR},
            "hovertemplate": f"%{{customdata[1]}}: %{{x:,.4~f}} {unit}<extra></extra>",
        }
    ]
    height = max(260, 70 + 28 * len(labels))
    layout = _layout(title="Emissions by project (location-based)", y_title="", x_title=unit, height=height)
    layout["yaxis"].update({"type": "category", "autorange": "reversed"})
    layout["bargap"] = 0.35
    layout["showlegend"] = False
    return {"data": data, "layout": layout}


def month_stacked(
    by_month: pd.DataFrame, *, unit: str = "kgCO2e", grain: str = "month", urls: Mapping[Any, str] | None = None
) -> dict[str, Any]:
    """Location-based emissions per month (or quarter), stacked by scope/category; a click opens that period."""
    data = []
    quarter = grain == "quarter"
    for key in dict.fromkeys(by_month["scope_key"]):
        part = by_month[by_month["scope_key"] == key]
        data.append(
            {
                "type": "bar",
                "name": scope_label(key),
                "x": [month.isoformat() for month in part["month"]],
                "y": _scaled(part["kgco2e_location"], unit),
                "customdata": [[(urls or {}).get(month, "")] for month in part["month"]],
                "marker": {"color": SCOPE_COLOURS.get(key, OTHER_COLOUR)},
                "hovertemplate": ("Quarter from %{x|%b %Y}" if quarter else "%{x|%b %Y}")
                + f": %{{y:,.4~f}} {unit}<extra>%{{fullData.name}}</extra>",
            }
        )
    title = f"Emissions by {'quarter' if quarter else 'month'} and scope (location-based)"
    layout = _layout(title=title, y_title=unit, barmode="stack")
    layout["xaxis"].update({"type": "date", "tickformat": "%b %Y", "dtick": "M3" if quarter else "M1"})
    if len(by_month["month"].unique()) > 18 and not quarter:
        layout["xaxis"]["dtick"] = "M3"  # 36 monthly ticks would overlap; bars stay monthly
    return {"data": data, "layout": layout}


def dimension_bar(frame: pd.DataFrame, *, labels: list[str], urls: list[str], title: str, unit: str) -> dict[str, Any]:
    """Horizontal bars of location-based emissions for one breakdown (provider, region, service, …).

    `labels` are raw (user- or provider-supplied) names; they are shortened and escaped here. A click opens
    the ledger rows behind the bar.
    """
    limit = PROJECT_BARS
    values = _scaled(frame["kgco2e_location"], unit)
    rows = list(zip(labels, values, urls, strict=True))
    if len(rows) > limit:
        rest = rows[limit:]
        other = sum(v or 0.0 for _, v, _ in rest)
        rows = [*rows[:limit], (f"Other ({len(rest)})", other, "")]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "Location-based",
            "y": _unique(_label(label) for label, _, _ in rows),
            "x": [value for _, value, _ in rows],
            "customdata": [[url, esc(label)] for label, _, url in rows],
            "marker": {"color": LOCATION_COLOUR},
            "hovertemplate": f"%{{customdata[1]}}: %{{x:,.4~f}} {unit}<extra></extra>",
        }
    ]
    height = max(220, 70 + 28 * len(rows))
    layout = _layout(title=esc(title), y_title="", x_title=unit, height=height)
    layout["yaxis"].update({"type": "category", "autorange": "reversed"})
    layout["bargap"] = 0.35
    layout["showlegend"] = False
    return {"data": data, "layout": layout}


def compare_bar(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean kgCO2e and mean kWh per run of each compared experiment, in two panels side by side.

    One y-axis per unit: an overlaid second axis let kWh bars be read against the kgCO2e scale.
    """
    labels = _unique(_label(row["label"]) for row in rows)
    panels = (
        ("mean_kg", "kgCO2e per run (location-based)", "kgCO2e", LOCATION_COLOUR, "x", "y"),
        ("mean_kwh", "kWh per run (facility)", "kWh", MARKET_COLOUR, "x2", "y2"),
    )
    data = [
        {
            "type": "bar",
            "name": name,
            "x": labels,
            "y": _numbers(row[key] for row in rows),
            "xaxis": xaxis,
            "yaxis": yaxis,
            "marker": {"color": colour},
            "hovertemplate": f"%{{x}}: %{{y:,.4~f}} {unit} per run<extra></extra>",
        }
        for key, name, unit, colour, xaxis, yaxis in panels
    ]
    layout = _layout(title="Mean per run", y_title="kgCO2e per run")
    layout["xaxis"] = {**layout["xaxis"], "type": "category", "domain": [0, 0.45]}
    layout["xaxis2"] = {"type": "category", "domain": [0.55, 1], "anchor": "y2", "automargin": True}
    layout["yaxis"] = {**layout["yaxis"], "anchor": "x"}
    layout["yaxis2"] = {
        "title": {"text": "kWh per run"},
        "anchor": "x2",
        "gridcolor": "#e4e7eb",
        "rangemode": "tozero",
        "automargin": True,
    }
    layout["legend"] = {"orientation": "h", "x": 0, "y": -0.2}
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
