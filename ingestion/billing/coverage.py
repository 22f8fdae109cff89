"""How much of the billed cost GreenESG could estimate: the coverage every billing figure must carry.

A bill is counted in full only if every line is estimated. Lines are modelled from usage, extrapolated from the
file's modelled ratios (docs/methodology.md, unknown usage), left unestimated (no ratio to extrapolate with, or an
unknown unit) or excluded as unsupported (fees, licences). Coverage states the share of billed cost and of lines
in each of these, from the active deliveries only, so a restated month is never counted twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Count, Sum

from ingestion.models import BillingAggregate, DeliveryStatus

METHODS = ("modelled", "extrapolated", "unestimated", "excluded")
# Plain-language names: "excluded" rows are the unsupported ones (fees, licences, support plans).
METHOD_LABELS = {
    "modelled": "modelled from usage",
    "extrapolated": "extrapolated",
    "unestimated": "not estimated",
    "excluded": "unsupported (excluded)",
}


def coverage_summary(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Rows of (method, cost, lines) → totals and shares per method; shares are None when nothing was billed."""
    cost = dict.fromkeys(METHODS, 0.0)
    lines = dict.fromkeys(METHODS, 0)
    for row in rows:
        method = row["method"] if row["method"] in cost else "unestimated"
        cost[method] += float(row["cost"] or 0.0)
        lines[method] += int(row["lines"] or 0)
    total_cost, total_lines = sum(cost.values()), sum(lines.values())
    # Credits can make a month's cost net to zero or below: shares of such a total would mean nothing.
    return {
        "billed_cost": total_cost,
        "billed_lines": total_lines,
        "cost": cost,
        "lines": lines,
        "cost_share_percent": {m: (cost[m] / total_cost * 100 if total_cost > 0 else None) for m in METHODS},
        "lines_share_percent": {m: (lines[m] / total_lines * 100 if total_lines else None) for m in METHODS},
        "estimated_cost_share_percent": (
            (cost["modelled"] + cost["extrapolated"]) / total_cost * 100 if total_cost > 0 else None
        ),
    }


def billing_coverage_for(*, organisation_id: int, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Coverage of the organisation's active billing deliveries for the days start..end (inclusive)."""
    rows = (
        BillingAggregate.objects.filter(
            delivery__organisation_id=organisation_id,
            delivery__status=DeliveryStatus.ACTIVE,
            day__gte=start,
            day__lte=end,
        )
        .values("method")
        .annotate(cost=Sum("cost"), lines=Sum("lines"), groups=Count("id"))
        .order_by()
    )
    return coverage_summary(rows)
