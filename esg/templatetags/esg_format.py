"""Presentation of ESG values by metric type: counts as whole numbers, the rest like the dashboards."""

from __future__ import annotations

from typing import Any

from django import template

from reports.templatetags.reports_format import num

register = template.Library()


@register.filter
def metric_value(value: Any, metric: Any) -> str:
    if value is None:
        return "–"
    kind = getattr(metric, "type", "")
    if kind == "boolean":
        return "yes" if value else "no"
    if kind == "count":
        return f"{float(value):,.0f}"
    return num(value)
