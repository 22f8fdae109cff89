"""Demo steering and reporting inputs: ESRS reporting settings with a base year, reduction targets, quarterly
net revenue (so GHG intensity shows), the organisation's reduction target and project budgets (one near its
limit, the others comfortably inside).

All writes go through the services (audit rows); a part that exists already is left as it is, so a second
load adds nothing and an officer's later edits are not overwritten.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Sum

from greenesg.accounts.models import Organisation, Project
from greenesg.lib.periods import add_months

LEGAL_NAME = "Demo Software GmbH"
# Base year = the demo's first year; its inventory is illustrative: a quarter above the demo year's, "before
# the efficiency work", so the targets and the base-year column have something to compare with.
BASE_YEAR_UPLIFT = 1.25
REDUCTION_TARGETS = (
    # scope, target year, reduction %, science based, note
    ("total_location", 2030, 42.0, True, "1.5 °C-aligned absolute contraction, 4.2 % a year (demo)"),
    ("scope2_market", 2030, 60.0, False, "Renewable electricity contracts for owned sites (demo)"),
)
FIRST_QUARTER_REVENUE = Decimal("3100000.00")  # EUR, growing 4 % a quarter
NEAR_LIMIT_PROJECT, NEAR_LIMIT_USED = "ml-training", 0.9  # 90 % of its quarter's budget used
COMFORTABLE_USED = 0.5


def lei_with_check_digits(prefix18: str) -> str:
    """An ISO 17442 LEI from its first 18 characters: check digits by ISO 7064 MOD 97-10 (as IBANs)."""
    digits = "".join(str(int(char, 36)) for char in prefix18.upper() + "00")
    return f"{prefix18.upper()}{98 - int(digits) % 97:02d}"


DEMO_LEI = lei_with_check_digits("5299000DEMOSOFTW0R")


def last_demo_day(start: dt.date) -> dt.date:
    return add_months(start, 12) - dt.timedelta(days=1)


def _inventory_t_by_scope(org: Organisation, first: dt.date, last: dt.date) -> dict[str, float]:
    from greenesg.footprint.models import LedgerEntry

    rows = LedgerEntry.objects.filter(organisation=org, in_inventory=True, day__gte=first, day__lte=last)
    totals = {
        scope: rows.filter(scope=scope).aggregate(lb=Sum("kgco2e_location"), mb=Sum("kgco2e_market"))
        for scope in (1, 2, 3)
    }
    energy = rows.aggregate(kwh=Sum("energy_facility_kwh"))["kwh"] or 0.0
    return {
        "scope1": (totals[1]["lb"] or 0.0) / 1000,
        "scope2_location": (totals[2]["lb"] or 0.0) / 1000,
        "scope2_market": (totals[2]["mb"] or totals[2]["lb"] or 0.0) / 1000,
        "scope3": (totals[3]["lb"] or 0.0) / 1000,
        "energy_mwh": energy / 1000,
    }


def reporting_settings_load(org: Organisation, start: dt.date) -> str | None:
    """Reporting settings with a base year, the E1-4 reduction targets and a net revenue per quarter."""
    from reports.esrs.services import settings_object_save
    from reports.models import ReductionTarget, ReportingSettings

    done = []
    if not ReportingSettings.objects.filter(organisation=org).exists():
        t = _inventory_t_by_scope(org, start, last_demo_day(start))
        base = {key: round(value * BASE_YEAR_UPLIFT, 3) for key, value in t.items()}
        item = ReportingSettings(
            legal_name=LEGAL_NAME,
            lei=DEMO_LEI,
            currency="EUR",
            fiscal_year_start_month=1,
            nace_code="J62.01",
            base_year=start.year,
            base_scope1_t=base["scope1"],
            base_scope2_location_t=base["scope2_location"],
            base_scope2_market_t=base["scope2_market"],
            base_scope3_t=base["scope3"],
            base_energy_mwh=base["energy_mwh"],
            materiality_statement="Cloud and on-premises compute for machine learning is our main source of "
            "emissions; climate is material to customers' procurement (demo).",
            actions_statement="Batching of GPU fine-tuning, scheduled staging shutdown, renewable electricity "
            "contracts for the Stockholm and Berlin racks (demo).",
        )
        settings_object_save(instance=item, user=None, organisation=org)
        done.append(f"reporting settings (base year {start.year})")
    for scope, year, percent, science, notes in REDUCTION_TARGETS:
        if not ReductionTarget.objects.filter(organisation=org, scope=scope, target_year=year).exists():
            target = ReductionTarget(
                scope=scope, target_year=year, reduction_percent=percent, science_based=science, notes=notes
            )
            settings_object_save(instance=target, user=None, organisation=org)
            done.append(f"{scope} target for {year}")
    done += _revenue_load(org, start)
    return f"ESRS: {'; '.join(done)}" if done else None


def _revenue_load(org: Organisation, start: dt.date) -> list[str]:
    """Net revenue of each calendar quarter the demo year touches (the demo's fiscal year starts in January)."""
    from reports.esrs.services import settings_object_save
    from reports.models import QuarterRevenue

    last, done = last_demo_day(start), []
    month = start.replace(day=1, month=start.month - (start.month - 1) % 3)
    for index in range(6):
        if month > last:
            break
        year, number = month.year, (month.month - 1) // 3 + 1
        if not QuarterRevenue.objects.filter(organisation=org, fiscal_year=year, quarter=number).exists():
            item = QuarterRevenue(
                fiscal_year=year,
                quarter=number,
                revenue_used=(FIRST_QUARTER_REVENUE * Decimal("1.04") ** index).quantize(Decimal("0.01")),
                statement_reference=f"Interim P&L {year}-Q{number}, net revenue (demo)",
            )
            settings_object_save(instance=item, user=None, organisation=org)
            done.append(f"{year}-Q{number}")
        month = add_months(month, 3)
    return [f"net revenue for {', '.join(done)}"] if done else []


def org_target_load(org: Organisation, start: dt.date) -> str | None:
    """The organisation's absolute target (base year = the demo's first year), split by base-year share."""
    from steering.models import OrgTarget, TargetSplit
    from steering.services import org_target_save

    if OrgTarget.objects.filter(organisation=org).exists():
        return None
    t = _inventory_t_by_scope(org, start, last_demo_day(start))
    base_kg = round((t["scope1"] + t["scope2_location"] + t["scope3"]) * 1000 * BASE_YEAR_UPLIFT, 1)
    org_target_save(
        organisation=org,
        base_year=start.year,
        base_year_kg=base_kg,
        target_year=2030,
        reduction_pct=42.0,
        basis="location",
        split=TargetSplit.BASE_YEAR_SHARE,
        shares={},
        actor=None,
    )
    return f"organisation target: −42 % by 2030 against {start.year} ({base_kg:,.0f} kg)"


def budgets_load(org: Organisation, start: dt.date) -> str | None:
    """Budgets for the quarter of the demo's last day: one project at 90 % of its budget, the others at half.

    Set after every import, from what the quarter's inventory holds, so the percentages are what the pages show.
    """
    from steering import budget
    from steering.models import Budget
    from steering.selectors import budget_used_kg
    from steering.services import budget_set

    period = budget.Period.containing(last_demo_day(start), "quarter")
    made = []
    for project in Project.objects.filter(organisation=org).order_by("slug"):
        if Budget.objects.filter(project=project, period=period.key).exists():
            continue
        used = budget_used_kg(project=project, period=period, basis="location")
        if used <= 0:
            continue
        share = NEAR_LIMIT_USED if project.slug == NEAR_LIMIT_PROJECT else COMFORTABLE_USED
        budget_set(project=project, period=period, kg=round(used / share, 2), actor=None, actor_label="demo")
        made.append(project.slug)
    return f"budgets for {period.key}: {', '.join(made)}" if made else None
