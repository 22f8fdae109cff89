"""Presentation-only number formatting for dashboards: full precision is stored, rounding happens here."""

from __future__ import annotations

import math
from typing import Any

from django import template

register = template.Library()


@register.filter
def num(value: Any) -> str:
    """Readable figure: grouped thousands, 2 decimals from 1 up, 3 significant digits below 1."""
    if value is None or value == "":
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "–"
    size = abs(number)
    if size == 0:
        return "0"
    if size >= 1000:
        return f"{number:,.0f}"
    if size >= 1:
        return f"{number:,.2f}"
    decimals = min(12, 2 - math.floor(math.log10(size)))
    return f"{number:.{decimals}f}"


@register.filter
def flag_meaning(code: Any) -> str:
    """The plain-language meaning of a flag code, for a tooltip (greenesg/footprint/flags.py)."""
    from greenesg.footprint.flags import flag_explain

    return flag_explain(str(code)).meaning


@register.filter
def exact(value: Any) -> str:
    """Full precision for a `<data value>` attribute, so tests and scripts can read the exact figure."""
    if value is None:
        return ""
    return repr(float(value)) if isinstance(value, float | int) and not isinstance(value, bool) else str(value)


@register.filter
def duration(seconds: Any) -> str:
    """Seconds as "42 s", "12 min 5 s" or "3 h 07 min"."""
    if seconds is None:
        return "–"
    total = int(round(float(seconds)))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.simple_tag(takes_context=True)
def load_body_parts(context: template.Context) -> str:
    """Put the expensive part of a dashboard's context in place, only when its cached body is missing.

    Used as the first tag inside `{% cache … body_key %}`: on a cache hit the block is not rendered, so
    the figures and tables behind it are never built (reports/dashboards/views.py `_deferred_body`).
    """
    factory = context.get("body_parts")
    if factory is not None:
        context.update(factory())
    return ""
