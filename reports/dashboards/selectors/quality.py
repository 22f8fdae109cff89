"""The data-quality panel: everything that weakens the figures, counted, each row linking to where it is fixed.

Rows: fallback emission factors and unmapped regions (ledger flags), unestimated billing cost, unapproved and
missing S1/G1 values, reporting settings not entered, Scope 2 markets without a residual mix. Each flag code
shown anywhere is explained in the glossary (greenesg/footprint/flags.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet, TextField
from django.db.models.functions import Cast
from django.urls import reverse

from greenesg.accounts.models import Organisation
from greenesg.footprint.flags import Flag, flag_explain
from greenesg.footprint.models import LedgerEntry
from ingestion.billing.coverage import billing_coverage_for

FALLBACK_FLAGS = ("region_unmapped", "no_factor", "proxy_vintage", "future_vintage", "mb_fallback_grid_average")


@dataclass(frozen=True)
class QualityRow:
    code: str
    label: str
    count: int | float
    unit: str  # "rows", "%", "values", …
    url: str
    detail: str = ""
    flag: Flag | None = None
    needs_action: bool = field(default=True)


def flag_filtered(queryset: QuerySet[LedgerEntry], code: str) -> QuerySet[LedgerEntry]:
    """Ledger rows carrying a flag. The JSON list is matched as text ("code" with its quotes), which works
    alike on PostgreSQL (jsonb cast to text) and SQLite, where JSON `contains` is not available."""
    return queryset.annotate(flags_text=Cast("flags", TextField())).filter(flags_text__contains=f'"{code}"')


def _records_url(org_slug: str, code: str) -> str:
    return reverse("org-records", args=[org_slug]) + f"?flag={code}"


def _flag_rows(organisation: Organisation) -> list[QualityRow]:
    inventory = LedgerEntry.objects.filter(organisation=organisation, in_inventory=True)
    rows = []
    for code in FALLBACK_FLAGS:
        count = flag_filtered(inventory, code).count()
        detail = ""
        if code == "region_unmapped" and count:
            regions = (
                flag_filtered(inventory, code).values("provider", "region").annotate(n=Count("id")).order_by("-n")[:8]
            )
            detail = ", ".join(f"{r['provider'] or 'own'}/{r['region'] or '–'}" for r in regions)
        flag = flag_explain(code)
        rows.append(
            QualityRow(
                code, flag.title, count, "ledger rows", _records_url(organisation.slug, code), detail, flag, count > 0
            )
        )
    return rows


def _billing_row(organisation: Organisation) -> QualityRow:
    coverage = billing_coverage_for(organisation_id=organisation.pk, start=dt.date.min, end=dt.date.max)
    share = coverage["cost_share_percent"]["unestimated"]
    lines = coverage["lines"]["unestimated"]
    detail = f"{lines} billing lines not estimated" if coverage["billed_lines"] else "no billing imported"
    return QualityRow(
        "billing_unestimated",
        "Billed cloud cost not estimated",
        round(share or 0.0, 1),
        "% of billed cost",
        reverse("billing-dashboard", args=[organisation.slug]),
        detail,
        None,
        bool(lines),
    )


def _esg_rows(organisation: Organisation, today: dt.date) -> list[QualityRow]:
    # The ESG app is a feature beside the core: read through its selectors only.
    from esg.models import MetricValue, ValueStatus
    from esg.periods import period_current
    from esg.selectors import completeness, metric_rows

    period = period_current(today)
    url = reverse("esg-overview", args=[organisation.slug]) + f"?period={period.key}"
    pending = MetricValue.objects.filter(organisation=organisation, status=ValueStatus.SUBMITTED).count()
    missing = completeness(metric_rows(organisation, period))["missing"]
    return [
        QualityRow("esg_unapproved", "S1/G1 values awaiting approval", pending, "values", url, "", None, pending > 0),
        QualityRow(
            "esg_missing",
            f"Required S1/G1 values missing for {period.key}",
            len(missing),
            "values",
            url,
            ", ".join(row.code for row in missing[:6]) + (" …" if len(missing) > 6 else ""),
            None,
            bool(missing),
        ),
    ]


def _report_rows(organisation: Organisation) -> list[QualityRow]:
    from reports.models import ReportingSettings, ResidualMixFactor

    settings = ReportingSettings.objects.filter(organisation=organisation).first()
    unset = [name for name, value in (("settings", settings), ("LEI", settings and settings.lei)) if not value]
    scope2_markets = set(
        LedgerEntry.objects.filter(organisation=organisation, in_inventory=True, scope=2)
        .exclude(country_iso="")
        .values_list("country_iso", flat=True)
        .distinct()
    )
    with_mix = {
        zone.upper()
        for zone in ResidualMixFactor.objects.filter(organisation=organisation).values_list("zone", flat=True)
    }
    without = sorted(m for m in scope2_markets if m.upper() not in with_mix)
    return [
        QualityRow(
            "settings_unset",
            "Reporting settings not entered",
            len(unset),
            "items",
            reverse("esrs-settings", args=[organisation.slug]),
            ", ".join(unset),
            None,
            bool(unset),
        ),
        QualityRow(
            "residual_mix_missing",
            "Scope 2 markets without a residual mix",
            len(without),
            "markets",
            reverse("esrs-settings-section", args=[organisation.slug, "residual-mix"]),
            ", ".join(without),
            None,
            bool(without),
        ),
    ]


def data_quality_rows(*, organisation: Organisation, today: dt.date) -> list[QualityRow]:
    return [
        *_flag_rows(organisation),
        _billing_row(organisation),
        *_esg_rows(organisation, today),
        *_report_rows(organisation),
    ]


def glossary_rows() -> list[dict[str, Any]]:
    from greenesg.footprint.flags import GLOSSARY

    return [{"flag": flag} for flag in sorted(GLOSSARY.values(), key=lambda f: f.code)]
