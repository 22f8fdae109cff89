"""Unit filters for dashboards: organisation pages speak tCO2e and MWh, project and run pages kgCO2e and kWh.

Values stay in kg and kWh everywhere else (the ledger's units); only presentation divides.
"""

from __future__ import annotations

from typing import Any

from django import template

from reports.templatetags.reports_format import num

register = template.Library()


def _scaled(value: Any, divisor: float) -> Any:
    try:
        return float(value) / divisor
    except (TypeError, ValueError):
        return value


@register.filter
def tonnes(kg: Any) -> str:
    """kgCO2e shown as tCO2e."""
    return num(_scaled(kg, 1000.0))


@register.filter
def mwh(kwh: Any) -> str:
    """kWh shown as MWh."""
    return num(_scaled(kwh, 1000.0))


@register.filter
def percent(share: Any) -> str:
    """A share (0.25) as "25.0 %"; "–" when unknown."""
    if share is None or share == "":
        return "–"
    return f"{float(share) * 100:.1f} %"


@register.filter
def signed_percent(change: Any) -> str:
    """A change (0.25) as "+25.0 %"."""
    if change is None or change == "":
        return "–"
    return f"{float(change) * 100:+.1f} %"
