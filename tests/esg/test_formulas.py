"""Every computed formula against values worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from esg import formulas
from esg.formulas import Invoice

D = dt.date


def test_turnover_rate_is_leavers_over_headcount() -> None:
    # 12 leavers of 150 employees: 12 / 150 = 0.08 → 8 %
    assert formulas.turnover_rate(12, 150) == pytest.approx(8.0)
    assert formulas.turnover_rate(3, 0) is None


def test_accident_rate_is_per_million_hours() -> None:
    # 3 accidents in 240,000 h: 3 × 1,000,000 / 240,000 = 12.5
    assert formulas.accident_rate(3, 240_000) == pytest.approx(12.5)
    assert formulas.accident_rate(0, 180_000) == 0
    assert formulas.accident_rate(1, 0) is None


def test_gender_pay_gap_is_relative_to_male_pay() -> None:
    # (40 − 35) / 40 = 0.125 → 12.5 %; women earning more gives a negative gap, not clipped
    assert formulas.gender_pay_gap(40, 35) == pytest.approx(12.5)
    assert formulas.gender_pay_gap(30, 33) == pytest.approx(-10.0)
    assert formulas.gender_pay_gap(0, 10) is None


def test_gender_pay_gap_from_payroll_rows() -> None:
    # male mean (30 + 50) / 2 = 40, female mean (30 + 34 + 41) / 3 = 35 → 12.5 %; "x" is ignored
    rows = [("male", 30), ("male", 50), ("female", 30), ("female", 34), ("female", 41), ("x", 99)]
    assert formulas.gender_pay_gap_from_pay(rows) == pytest.approx(12.5)
    assert formulas.gender_pay_gap_from_pay([("male", 30)]) is None


def test_remuneration_ratio_is_highest_over_median_of_others() -> None:
    assert formulas.remuneration_ratio(300_000, 60_000) == pytest.approx(5.0)
    # pay 40k, 50k, 60k, 70k, 350k: highest 350k, median of the other four (50k + 60k) / 2 = 55k → 6.3636…
    assert formulas.remuneration_ratio_from_pay([60_000, 350_000, 40_000, 70_000, 50_000]) == pytest.approx(
        350_000 / 55_000
    )
    assert formulas.remuneration_ratio_from_pay([100_000]) is None


def test_average_and_share() -> None:
    assert formulas.average(1_200, 150) == pytest.approx(8.0)
    assert formulas.share(4, 12) == pytest.approx(33.333333, rel=1e-6)
    assert formulas.average(5, 0) is None


def test_average_days_to_pay_is_per_invoice_with_weighted_mean_beside_it() -> None:
    invoices = [
        Invoice(D(2026, 7, 1), D(2026, 7, 31), 1000, due_on=D(2026, 7, 31)),  # 30 days, on term
        Invoice(D(2026, 7, 10), D(2026, 8, 19), 3000, due_on=D(2026, 8, 9)),  # 40 days, late
        Invoice(D(2026, 8, 1), D(2026, 8, 21), 6000),  # 20 days, no due date
    ]
    result = formulas.avg_days_to_pay(invoices)
    # unweighted (30 + 40 + 20) / 3 = 30; weighted (30·1000 + 40·3000 + 20·6000) / 10000 = 27
    assert result.avg_days == pytest.approx(30.0)
    assert result.avg_days_amount_weighted == pytest.approx(27.0)
    assert (result.invoices, result.amount) == (3, 10000)
    assert result.on_term_share == pytest.approx(50.0)  # 1 of the 2 invoices with a due date


def test_average_days_to_pay_of_nothing_is_undefined() -> None:
    assert formulas.avg_days_to_pay([]).avg_days is None


@pytest.mark.parametrize(
    ("cc", "billed", "expected"), [(80, 100, 80.0), (120, 100, 100.0), (5, 0, 100.0), (0, 0, None), (0, 50, 0.0)]
)
def test_measurement_coverage(cc: float, billed: float, expected: float | None) -> None:
    assert formulas.measurement_coverage(cc, billed) == expected


def test_shares_and_budget_used() -> None:
    assert formulas.shares({"measured": 30, "modelled": 10}) == {"measured": 75.0, "modelled": 25.0}
    assert formulas.shares({}) == {}
    assert formulas.budget_used(450, 600) == pytest.approx(75.0)
