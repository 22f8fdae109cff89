"""Demo ESRS reports and pending approvals.

The last closed quarter gets a report generated through the real report service (WeasyPrint PDF and every
export) and signed: the officer creates it, the controller signs (the second pair of eyes). A late billing
delivery then changes that quarter, so the officer creates a restated draft of it, which waits in the inbox
for sign-off beside a factor-set change the controller proposed (for the officer to decide) and the ESG values
the officer submitted (for the controller).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.contrib.auth.models import User

from greenesg.accounts.models import Organisation

if TYPE_CHECKING:
    from reports.models import Report

RESTATEMENT_REASON = "Late FOCUS delivery for the AWS web-prod and shared-services accounts (demo)"
FACTOR_SET_NAME = "demo-grid-update"


def report_period(org: Organisation, today: dt.date) -> str:
    """The last closed fiscal quarter as of `today`, the one the quarter-close task would draft."""
    from reports.esrs import periods
    from reports.esrs.selectors import reporting_settings_get

    month = reporting_settings_get(organisation=org).fiscal_year_start_month
    year, quarter = periods.last_closed_quarter(today, fiscal_start_month=month)
    return f"{year}-Q{quarter}"


def _generated(org: Organisation, period: str, user: User, reason: str = "") -> Report:
    """Create a report row and generate it in this process (the demo runs before any worker starts); the queued
    message the service also publishes finds the row claimed and does nothing."""
    from reports.esrs.services import ReportError, report_create, report_generate
    from reports.models import ReportStatus

    report = report_create(organisation=org, period_text=period, user=user, reason=reason)
    report_generate(report_id=report.pk)
    report.refresh_from_db()
    if report.status != ReportStatus.READY:
        raise ReportError(f"The demo's ESRS report {period} v{report.version} {report.status}: {report.error_message}")
    return report


def signed_report_load(org: Organisation, period: str, officer: User, controller: User) -> str | None:
    """The quarter's report, created by the officer and signed by the controller; None if one is signed."""
    from reports.esrs.selectors import latest_signed_report, report_open_items
    from reports.esrs.services import report_sign

    if latest_signed_report(organisation=org, period_label=period) is not None:
        return None
    report = _generated(org, period, officer)
    items = report_open_items(report=report)
    report_sign(report=report, user=controller, acknowledged=[item.code for item in items])
    return f"ESRS report {period} v{report.version} signed by {controller.get_username()}"


def restated_draft_load(org: Organisation, period: str, officer: User) -> str | None:
    """A restated draft of the signed quarter, left for sign-off; None if one exists or nothing is signed."""
    from reports.models import Report

    if Report.objects.filter(organisation=org, period=period, restates__isnull=False).exists():
        return None
    if not Report.objects.filter(organisation=org, period=period, signed_at__isnull=False).exists():
        return None
    report = _generated(org, period, officer, RESTATEMENT_REASON)
    return f"ESRS report {period} v{report.version}: restated draft awaiting sign-off"


def factor_change_load(org: Organisation, proposer: User, year: int) -> str | None:
    """A pending factor-set change: a new vintage of the German grid factor, proposed by one officer for the
    other to decide (four-eyes). Pending sets are never used by a lookup, so the figures do not change."""
    from esg.models import FactorSetChangeRequest
    from esg.services import factor_set_change_submit

    if FactorSetChangeRequest.objects.filter(organisation=org, factor_set__name=FACTOR_SET_NAME).exists():
        return None
    factor_set_change_submit(
        organisation=org,
        actor=proposer,
        name=FACTOR_SET_NAME,
        kind="grid_country",
        source=f"Umweltbundesamt, Strommix {year} (illustrative demo value)",
        factors=[{"zone": "DEU", "vintage_year": year, "g_co2e_per_kwh": 363.0}],
        reason="New annual vintage of the German grid factor published (demo)",
    )
    return f"factor-set change {FACTOR_SET_NAME} awaiting a second officer"
