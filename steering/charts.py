"""Figure dicts for the steering pages (plain lists, JSON-ready, no ORM, no plotly import).

Figures reach the page through `json_script` and are drawn by a small per-page script with the vendored
plotly.js. Every user-derived string (model names, metric names, run ids) is `html.escape`d before it enters
a figure, because Plotly renders a pseudo-HTML subset in text (docs/security.md §7).
"""

from __future__ import annotations

import html
from typing import Any

from steering.budget import BurnDown

BLUE, ORANGE, GREEN, VERMILLION, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#7F7F7F"


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": esc(title), "x": 0, "xanchor": "left", "font": {"size": 16}},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 13, "color": "#1f2933"},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.2},
        "plot_bgcolor": "#ffffff",
        **extra,
    }


def burn_down_figure(series: BurnDown, *, title: str) -> dict[str, Any]:
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Even burn",
            "x": [d.isoformat() for d in series.period_days],
            "y": series.ideal,
            "line": {"color": GREY, "dash": "dot"},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Remaining",
            "x": [d.isoformat() for d in series.days],
            "y": series.remaining,
            "line": {"color": BLUE},
            "marker": {"size": 4},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Projected at current pace",
            "x": [d.isoformat() for d in series.projection_days],
            "y": series.projection,
            "line": {"color": ORANGE, "dash": "dash"},
        },
    ]
    # The zero line is where the budget is spent; the projection crossing it is the warning.
    zero = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0, "y1": 0, "line": {"color": VERMILLION}}
    layout = _layout(title, "Day (UTC)", "Remaining kgCO2e", shapes=[zero])
    layout["yaxis"]["rangemode"] = "normal"  # remaining goes negative once the budget is exceeded
    return {"data": data, "layout": layout}


def pareto_figure(rows: list[dict[str, Any]], *, title: str) -> dict[str, Any]:
    """Quality against kgCO2e per metric; the front is drawn as a step line, dominated runs in grey."""
    data = []
    metrics = sorted({(row["metric_name"], row["higher_is_better"]) for row in rows})
    for metric, higher in metrics:
        group = [row for row in rows if row["metric_name"] == metric and row["higher_is_better"] == higher]
        for on_front in (True, False):
            part = [row for row in group if row["on_front"] == on_front]
            if not part:
                continue
            part.sort(key=lambda row: row["kg"])
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers" if on_front else "markers",
                    "name": f"{esc(metric)}: {'Pareto front' if on_front else 'dominated'}",
                    "x": [row["kg"] for row in part],
                    "y": [row["metric_value"] for row in part],
                    "text": [f"{esc(row['model'])}<br>run {esc(row['run_id'])}" for row in part],
                    "hovertemplate": "%{text}<br>%{x:.4g} kgCO2e<br>%{y:.4g}<extra></extra>",
                    "line": {"shape": "hv" if higher else "vh", "color": GREEN},
                    "marker": {"size": 9 if on_front else 7, "color": GREEN if on_front else GREY},
                }
            )
    y_title = esc(metrics[0][0]) if len(metrics) == 1 else "Quality metric"
    return {"data": data, "layout": _layout(title, "kgCO2e per run (location-based)", y_title)}


def sci_figure(points: list[dict[str, Any]], *, unit: str, title: str) -> dict[str, Any]:
    rated = [p for p in points if p["result"].sci_kg_per_unit is not None]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "SCI",
            "x": [p["period"] for p in rated],
            "y": [p["result"].sci_kg_per_unit for p in rated],
            "line": {"color": BLUE},
        }
    ]
    layout = _layout(title, "Period", f"kgCO2e per {esc(unit or 'functional unit')}")
    layout["xaxis"]["type"] = "category"
    return {"data": data, "layout": layout}
