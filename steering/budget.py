"""Budget arithmetic: periods, used/remaining/projection, thresholds, burn-down and target splits.

Pure functions, no ORM and no Django, so every figure can be checked by hand in a test. Quantities are
kgCO2e as floats at full precision; rounding happens only when presenting.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from greenesg.lib import periods
from greenesg.lib.periods import InvalidPeriod, Period

__all__ = ["InvalidPeriod", "Period", "period_parse"]

# Notification thresholds, in percent of the budget (issue 5: 50, 80 and 100 %).
THRESHOLDS: tuple[int, ...] = (50, 80, 100)

VERDICT_PASS = "pass"  # noqa: S105 (a verdict, not a password)
VERDICT_FAIL = "fail"

# Budgets run over calendar months, quarters and years (no fiscal shift: a CI gate speaks calendar).
_KINDS = (periods.MONTH, periods.QUARTER, periods.YEAR)
_MESSAGES = {
    "form": "period must look like 2026 (year), 2026-Q4 (quarter) or 2026-11 (month), not {text!r}",
    "month": "month must be 01 to 12 in {text!r}",
}


def period_parse(text: str) -> Period:
    """Parse "2026-11" (month), "2026-Q4" (quarter) or "2026" (year); raise InvalidPeriod otherwise."""
    value = (text or "").strip()
    if value.startswith("0000"):  # every form starts with the year, and there is no year 0 (a 500 before)
        raise InvalidPeriod(f"the year must be 0001 or later, not {value[:4]!r}", code="year")
    return periods.period_parse(value, kinds=_KINDS, messages=_MESSAGES)


def elapsed_days(period: Period, today: dt.date) -> int:
    """Days of the period that have started by `today` (today counts: its data may already be in)."""
    if today < period.start:
        return 0
    if today > period.end:
        return period.days
    return (today - period.start).days + 1


def projected_kg(used_kg: float, elapsed: int, total: int) -> float:
    """End-of-period projection at the current pace: used / elapsed days × total days.

    Before the period starts there is no pace to extrapolate, so the projection is what is already used
    (runs dated into the future, if any); after it ends the projection is the final figure.
    """
    if elapsed <= 0:
        return used_kg
    return used_kg / elapsed * total


@dataclass(frozen=True)
class BudgetStatus:
    budget_kg: float
    used_kg: float
    remaining_kg: float
    projected_kg: float
    used_percent: float | None
    projected_percent: float | None
    days_elapsed: int
    days_total: int
    verdict: str
    projected_over: bool
    run_kg: float | None = None
    run_limit_kg: float | None = None
    run_verdict: str | None = None


def run_verdict(run_kg: float | None, run_limit_kg: float | None) -> str | None:
    """The per-run check: None when there is no run or no limit, else pass/fail (a run equal to the limit passes)."""
    if run_kg is None or run_limit_kg is None:
        return None
    return VERDICT_FAIL if run_kg > run_limit_kg else VERDICT_PASS


def budget_status(
    *,
    budget_kg: float,
    used_kg: float,
    period: Period,
    today: dt.date,
    run_kg: float | None = None,
    run_limit_kg: float | None = None,
) -> BudgetStatus:
    """Budget, used, remaining, projection and the CI verdict.

    The project verdict fails only when the budget is already exceeded: a projection is a forecast, and a CI
    gate that fails on a forecast would block merges on day one of a period after one large run. The
    projection is reported (`projected_over`) so the pipeline can warn. The per-run check, when asked for,
    fails the verdict on its own.
    """
    elapsed = elapsed_days(period, today)
    projected = projected_kg(used_kg, elapsed, period.days)
    per_run = run_verdict(run_kg, run_limit_kg)
    over = used_kg > budget_kg
    return BudgetStatus(
        budget_kg=budget_kg,
        used_kg=used_kg,
        remaining_kg=budget_kg - used_kg,
        projected_kg=projected,
        used_percent=_percent(used_kg, budget_kg),
        projected_percent=_percent(projected, budget_kg),
        days_elapsed=elapsed,
        days_total=period.days,
        verdict=VERDICT_FAIL if over or per_run == VERDICT_FAIL else VERDICT_PASS,
        projected_over=projected > budget_kg,
        run_kg=run_kg,
        run_limit_kg=run_limit_kg,
        run_verdict=per_run,
    )


def _percent(value: float, budget: float) -> float | None:
    if budget <= 0:
        return None  # a zero budget has no meaningful share; any use is simply over
    return value / budget * 100.0


def thresholds_reached(used_kg: float, budget_kg: float, thresholds: Iterable[int] = THRESHOLDS) -> list[int]:
    """Thresholds (percent) that `used_kg` has reached; a zero budget counts as all reached once anything is used."""
    if budget_kg <= 0:
        return list(thresholds) if used_kg > 0 else []
    return [t for t in thresholds if used_kg >= budget_kg * t / 100.0]


@dataclass(frozen=True)
class BurnDown:
    period_days: list[dt.date]
    ideal: list[float]  # an even burn from budget to zero over the period, one value per period day
    days: list[dt.date]  # the elapsed days
    remaining: list[float]  # actual remaining budget at the end of each elapsed day
    projection_days: list[dt.date]  # from today to the period end at the current pace
    projection: list[float]


def burn_down(*, budget_kg: float, daily_kg: Mapping[dt.date, float], period: Period, today: dt.date) -> BurnDown:
    """Series for the burn-down chart. Days without data burn nothing; days after today are not drawn."""
    days = [period.start + dt.timedelta(days=i) for i in range(period.days)]
    ideal = [budget_kg - budget_kg * (i + 1) / period.days for i in range(period.days)]
    elapsed = elapsed_days(period, today)
    remaining: list[float] = []
    used = 0.0
    for day in days[:elapsed]:
        used += daily_kg.get(day, 0.0)
        remaining.append(budget_kg - used)
    # Anything dated outside the elapsed window (a clock skew, a future timestamp) still counts in the total.
    used_total = sum(kg for day, kg in daily_kg.items() if period.contains(day))
    if remaining:
        remaining[-1] = budget_kg - used_total
    projection_days: list[dt.date] = []
    projection: list[float] = []
    if 0 < elapsed < period.days:
        pace = used_total / elapsed
        projection_days = days[elapsed - 1 :]
        projection = [budget_kg - used_total - pace * i for i in range(len(projection_days))]
    return BurnDown(days, ideal, days[:elapsed], remaining, projection_days, projection)


# ---------------------------------------------------------------------------------------------- targets


def target_annual_kg(
    *, base_year: int, base_year_kg: float, target_year: int, reduction_pct: float, year: int
) -> float:
    """The organisation's allowance for `year` on a straight line from the base year to the target.

    Linear reduction is the SBTi "absolute contraction" shape: the same cut every year, reaching
    base × (1 − reduction) in the target year and staying there afterwards.
    """
    if target_year <= base_year:
        raise ValueError("the target year must come after the base year")
    if not 0.0 <= reduction_pct <= 100.0:
        raise ValueError("the reduction must be between 0 and 100 %")
    progress = min(max(year - base_year, 0), target_year - base_year) / (target_year - base_year)
    return base_year_kg * (1.0 - reduction_pct / 100.0 * progress)


def period_allowance_kg(annual_kg: float, period: Period) -> float:
    """The share of an annual allowance that falls in a period, by days (a leap year has 366)."""
    year_days = 366 if calendar.isleap(period.start.year) else 365
    return annual_kg * period.days / year_days


def split_by_share(total_kg: float, weights: Mapping[int, float]) -> dict[int, float]:
    """Split a total across projects proportionally to their weights (base-year kg, or hand-set percentages).

    Projects with no weight get nothing; when all weights are zero the split is undefined and refused.
    """
    positive = {key: value for key, value in weights.items() if value > 0}
    if any(value < 0 for value in weights.values()):
        raise ValueError("shares cannot be negative")
    denominator = sum(positive.values())
    if denominator <= 0:
        raise ValueError("no project has a share: the base year is empty or no manual shares are set")
    return {key: total_kg * positive.get(key, 0.0) / denominator for key in weights}
