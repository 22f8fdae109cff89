"""Billing dashboard figures: rows in, Plotly figure dicts out (JSON-ready; drawn by static/js/billing_dashboard.js).

Service, region and account names come from customer billing files, so every label is `html.escape`d before it
enters a figure (docs/security.md §7), through reports.dashboards.charts.esc.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reports.dashboards.charts import LOCATION_COLOUR, MARKET_COLOUR, OKABE_ITO, esc

TOP_BARS = 12
METHOD_COLOURS = {
    "measured": OKABE_ITO["green"],
    "modelled": OKABE_ITO["blue"],
    "extrapolated": OKABE_ITO["orange"],
    "supplier-specific": OKABE_ITO["purple"],
}


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        "margin": {"l": 60, "r": 60, "t": 64, "b": 50},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "y": -0.2},
        "hoverlabel": {"namelength": -1},
    }
    layout.update(extra)
    return layout


def cost_and_carbon_bar(rows: Sequence[dict[str, Any]], *, title: str) -> dict[str, Any]:
    """kgCO2e (left axis) next to cost (right axis) per label, largest emitters first."""
    top = list(rows)[:TOP_BARS]
    labels = [esc(row["label"])[:60] for row in top]
    data = [
        {
            "type": "bar",
            "name": "kgCO2e (location-based)",
            "x": labels,
            "y": [row["kg"] for row in top],
            "marker": {"color": LOCATION_COLOUR},
            "offsetgroup": "kg",
            "hovertemplate": "%{x}: %{y:,.3f} kgCO2e<extra></extra>",
        },
        {
            "type": "bar",
            "name": "Cost",
            "x": labels,
            "y": [row["cost"] for row in top],
            "yaxis": "y2",
            "marker": {"color": MARKET_COLOUR},
            "offsetgroup": "cost",
            "hovertemplate": "%{x}: %{y:,.2f}<extra>cost</extra>",
        },
    ]
    layout = _layout(
        esc(title),
        barmode="group",
        xaxis={"type": "category", "automargin": True},
        yaxis={"title": {"text": "kgCO2e"}, "rangemode": "tozero"},
        yaxis2={"title": {"text": "Cost"}, "overlaying": "y", "side": "right", "rangemode": "tozero"},
    )
    return {"data": data, "layout": layout}


def method_pie(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Share of the inventory's kgCO2e by method flag."""
    data = [
        {
            "type": "pie",
            "labels": [esc(r["label"]) for r in rows],
            "values": [r["kg"] for r in rows],
            "marker": {"colors": [METHOD_COLOURS.get(r["label"], "#7F7F7F") for r in rows]},
            "hovertemplate": "%{label}: %{value:,.3f} kgCO2e (%{percent})<extra></extra>",
            "sort": False,
        }
    ]
    return {"data": data, "layout": _layout("Inventory kgCO2e by method")}
