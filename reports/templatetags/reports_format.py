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
    # Twelve significant digits first: a difference such as 4.4 − 4.5 = −0.0999…9 is −0.1, and must not be
    # shown with the extra decimal of a smaller magnitude ("0.1000").
    number = float(f"{number:.12g}")
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
    """Seconds as "42 s", "12 min 05 s" or "3 h 07 min" (grouped hours past 999: "1,234 h 00 min")."""
    if seconds is None or seconds == "":
        return "–"
    try:
        number = float(seconds)
    except (TypeError, ValueError):
        return str(seconds)
    if math.isnan(number) or math.isinf(number):
        return "–"
    total = int(round(number))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours:,} h {minutes:02d} min"


@register.filter
def rounded(value: Any, decimals: Any = 3) -> str:
    """A measured value shown to a sensible precision, without float noise: 5.007742890000003 → "5.008"."""
    if value is None or value == "":
        return "–"
    try:
        number, places = float(value), int(decimals)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number) or math.isinf(number):
        return "–"
    text = f"{number:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@register.filter
def tidy(value: Any) -> str:
    """An attribute as recorded, floats without their noise (15.600000000000001 GB → "15.6"); text untouched."""
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return rounded(value, 3)
    return str(value)


@register.filter
def count(value: Any) -> str:
    """A count as a whole number with grouped thousands: 1234 → "1,234"."""
    if value is None or value == "":
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "–"
    return f"{int(round(number)):,}"


@register.filter
def signed(value: Any, unit: Any = "") -> str:
    """A difference with its sign and unit: "+1.25 kWh", "−3 runs", "+2 min 05 s"; "–" when undefined."""
    if value is None or value == "":
        return "–"
    number = float(value)
    if math.isnan(number):
        return "–"
    sign = "+" if number > 0 else "−" if number < 0 else "±"
    size = abs(number)
    if unit == "s":
        return f"{sign}{duration(size)}"
    if unit == "runs":
        return f"{sign}{count(size)} run{'' if round(size) == 1 else 's'}"
    return f"{sign}{num(size)}" + (f" {unit}" if unit else "")


@register.filter
def percent_change(value: Any) -> str:
    """A relative change to one decimal: "+12.5 %", "−3.0 %"; "–" when undefined (zero baseline)."""
    if value is None or value == "":
        return "–"
    number = float(value)
    if math.isnan(number):
        return "–"
    sign = "+" if number > 0 else "−" if number < 0 else "±"
    return f"{sign}{abs(number):,.1f} %"


@register.filter
def place(row: Any) -> str:
    """Where a ledger row (or a dict with provider/region/country_iso) ran: "europe-west1 (Belgium)"."""
    from reports.dashboards.places import region_display

    def field(name: str) -> str:
        value = row.get(name) if isinstance(row, dict) else getattr(row, name, "")
        return str(value or "")

    return region_display(field("provider"), field("region"), field("country_iso"))


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
