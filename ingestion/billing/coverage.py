"""How much of the billed cost GreenESG could estimate: the coverage every billing figure must carry.

A bill is counted in full only if every line is estimated. Lines are modelled from usage, extrapolated from the
file's modelled ratios (docs/methodology.md §4.8), left unestimated (no ratio to extrapolate with, or an
unknown unit) or excluded as unsupported (fees, licences). Coverage states the share of billed cost and of lines
in each of these, from the active deliveries only, so a restated month is never counted twice.
Everything but `billing_coverage_for` is pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from greenesg.footprint.vocabulary import Method

# Ledger methods first; "unestimated" and "excluded" are billing-only states that never reach the ledger.
METHODS = (Method.MODELLED, Method.EXTRAPOLATED, "unestimated", "excluded")
# Plain-language names: "excluded" rows are the unsupported ones (fees, licences, support plans).
METHOD_LABELS = {
    Method.MODELLED: "Modelled from usage",
    Method.EXTRAPOLATED: "Extrapolated from modelled lines",
    "unestimated": "Not estimated (not in the figures)",
    "excluded": "Unsupported: fees, licences (excluded)",
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
            (cost[Method.MODELLED] + cost[Method.EXTRAPOLATED]) / total_cost * 100 if total_cost > 0 else None
        ),
    }


def coverage_rows(summary: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One table row per method, for pages and the report: lines and cost with their shares."""
    if not summary:
        return []
    return [
        {
            "label": label,
            "lines": summary["lines"][method],
            "lines_percent": summary["lines_share_percent"][method],
            "cost": summary["cost"][method],
            "cost_percent": summary["cost_share_percent"][method],
        }
        for method, label in METHOD_LABELS.items()
    ]


def billing_coverage_for(*, organisation_id: int, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Coverage of the organisation's active billing deliveries for the days start..end (inclusive)."""
    # Imported here so that the summary and the table rows above stay usable by pure code (the report renderer).
    from django.db.models import Count, Sum

    from ingestion.models import BillingAggregate, DeliveryStatus

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
