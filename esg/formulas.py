"""Computed ESG metrics: pure arithmetic, no ORM, each tested against hand-computed values.

Functions return None when the result is undefined (a zero denominator): an undefined rate is shown
as missing with the reason, never as 0, which would read as "no accidents" or "no turnover".
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

# ESRS S1-14 §88(c): the accident rate is per one million hours worked.
ACCIDENT_RATE_HOURS = 1_000_000


def turnover_rate(leavers: float, headcount: float) -> float | None:
    """Leavers ÷ head count at period end × 100 (%).

    The reference gives "leavers; employee turnover rate" without the denominator; head count at the
    end of the period is what every HR export has. (To verify with the auditor: some use the average.)
    """
    return None if headcount <= 0 else leavers / headcount * 100


def accident_rate(accidents: float, hours_worked: float) -> float | None:
    """Recordable accidents × 1,000,000 ÷ hours worked (ESRS S1-14)."""
    return None if hours_worked <= 0 else accidents * ACCIDENT_RATE_HOURS / hours_worked


def gender_pay_gap(avg_male: float, avg_female: float) -> float | None:
    """(Average male pay − average female pay) ÷ average male pay × 100 (ESRS S1-16 §97(a)).

    Negative when women earn more on average; that is reported as is, not clipped.
    """
    return None if avg_male <= 0 else (avg_male - avg_female) / avg_male * 100


def gender_pay_gap_from_pay(rows: Iterable[tuple[str, float]]) -> float | None:
    """The same gap from payroll rows (gender "female"/"male", hourly pay); other genders are not in it."""
    pay: dict[str, list[float]] = {"female": [], "male": []}
    for gender, amount in rows:
        if gender in pay:
            pay[gender].append(amount)
    if not pay["male"] or not pay["female"]:
        return None
    return gender_pay_gap(statistics.fmean(pay["male"]), statistics.fmean(pay["female"]))


def remuneration_ratio(highest: float, median_others: float) -> float | None:
    """Highest-paid individual ÷ median of all other employees (ESRS S1-16 §97(b))."""
    return None if median_others <= 0 else highest / median_others


def remuneration_ratio_from_pay(pay: Sequence[float]) -> float | None:
    """From payroll totals: the highest individual is taken out before the median of the others."""
    if len(pay) < 2:
        return None
    ordered = sorted(pay)
    return remuneration_ratio(ordered[-1], statistics.median(ordered[:-1]))


def average(total: float, count: float) -> float | None:
    return None if count <= 0 else total / count


def share(part: float, whole: float) -> float | None:
    """part ÷ whole × 100 (%)."""
    return None if whole <= 0 else part / whole * 100


FORMULAS: dict[str, Callable[..., float | None]] = {
    "turnover_rate": turnover_rate,
    "accident_rate": accident_rate,
    "gender_pay_gap": gender_pay_gap,
    "remuneration_ratio": remuneration_ratio,
    "average": average,
    "share": share,
}


# ------------------------------------------------------------------------------------ G1-6 payment days


@dataclass(frozen=True)
class Invoice:
    term_start: dt.date  # invoice date, or the start of the contractual or statutory term
    paid_on: dt.date
    amount: float
    due_on: dt.date | None = None


@dataclass(frozen=True)
class PaymentDays:
    avg_days: float | None
    avg_days_amount_weighted: float | None
    invoices: int
    amount: float
    on_term_share: float | None  # % of invoices with a due date paid on or before it


def avg_days_to_pay(invoices: Sequence[Invoice]) -> PaymentDays:
    """Average days from term start to payment (ESRS G1-6 §33(a)).

    Weighting: the headline figure is **per invoice, unweighted**, because G1-6 asks for "the average
    time the undertaking takes to pay an invoice": each invoice counts once, so a small supplier paid
    late weighs as much as a large one. The amount-weighted mean is returned beside it for context.
    """
    if not invoices:
        return PaymentDays(None, None, 0, 0.0, None)
    days = [(inv.paid_on - inv.term_start).days for inv in invoices]
    total = sum(inv.amount for inv in invoices)
    weighted = sum(d * inv.amount for d, inv in zip(days, invoices, strict=True)) / total if total > 0 else None
    with_due = [(inv.paid_on, inv.due_on) for inv in invoices if inv.due_on is not None]
    on_term = share(sum(1 for paid, due in with_due if paid <= due), len(with_due)) if with_due else None
    return PaymentDays(statistics.fmean(days), weighted, len(invoices), total, on_term)


# ------------------------------------------------------------------------------- project scorecard


def measurement_coverage(codecarbon_kwh: float, billed_kwh: float) -> float | None:
    """codecarbon kWh ÷ billed kWh × 100, capped at 100.

    Without billing (own hardware) every known kWh is measured, so coverage is 100 if codecarbon saw
    any; with neither, coverage is undefined. The cap: codecarbon can see more than a bill when the
    bill lags or the PUE differs, which is not "more than fully measured".
    """
    if billed_kwh <= 0:
        return 100.0 if codecarbon_kwh > 0 else None
    return min(codecarbon_kwh / billed_kwh * 100, 100.0)


def shares(amounts: dict[str, float]) -> dict[str, float]:
    """Each key's share of the total (%); empty when the total is 0."""
    total = sum(amounts.values())
    return {} if total <= 0 else {key: value / total * 100 for key, value in amounts.items()}


def budget_used(used_kg: float, budget_kg: float) -> float | None:
    return share(used_kg, budget_kg)
