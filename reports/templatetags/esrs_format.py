"""Unit conversions for the ESRS report template: the ledger stores kg and kWh, the report prints t and MWh."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _scaled(value: Any, divisor: float) -> str:
    if value is None or value == "":
        return "–"
    return f"{float(value) / divisor:,.3f}"


@register.filter
def mwh(kwh: Any) -> str:
    return _scaled(kwh, 1000.0)


@register.filter
def tco2e(kg: Any) -> str:
    return _scaled(kg, 1000.0)
