"""Pure arithmetic of budgets, SCI, Pareto and region advice, against hand-computed values (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from steering import advice, budget, pareto, sci

D = dt.date


@pytest.mark.parametrize(
    ("text", "key", "start", "end", "days"),
    [
        ("2026-11", "2026-11", D(2026, 11, 1), D(2026, 11, 30), 30),
        ("2026-Q4", "2026-Q4", D(2026, 10, 1), D(2026, 12, 31), 92),
        ("2026-q1", "2026-Q1", D(2026, 1, 1), D(2026, 3, 31), 90),
        ("2026", "2026", D(2026, 1, 1), D(2026, 12, 31), 365),
        ("2028-02", "2028-02", D(2028, 2, 1), D(2028, 2, 29), 29),
    ],
)
def test_periods_parse_to_their_calendar_days(text: str, key: str, start: dt.date, end: dt.date, days: int) -> None:
    period = budget.period_parse(text)
    assert (period.key, period.start, period.end, period.days) == (key, start, end, days)


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "26", "", "2026-11-01", "Q4-2026"])
def test_bad_periods_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(budget.InvalidPeriod):
        budget.period_parse(text)


def test_elapsed_days_count_today_and_stay_within_the_period() -> None:
    november = budget.period_parse("2026-11")
    assert budget.elapsed_days(november, D(2026, 11, 10)) == 10
    assert budget.elapsed_days(november, D(2026, 10, 31)) == 0
    assert budget.elapsed_days(november, D(2026, 12, 1)) == 30


def test_status_projects_the_current_pace_to_the_end_of_the_period() -> None:
    # 25 kg in the first 10 of 30 days: 2.5 kg/day × 30 = 75 kg projected.
    status = budget.budget_status(
        budget_kg=100, used_kg=25, period=budget.period_parse("2026-11"), today=D(2026, 11, 10)
    )
    assert status.remaining_kg == 75
    assert status.projected_kg == pytest.approx(75.0)
    assert status.used_percent == pytest.approx(25.0)
    assert (status.verdict, status.projected_over) == ("pass", False)


def test_a_projection_over_budget_warns_but_only_actual_use_over_budget_fails() -> None:
    period = budget.period_parse("2026-11")
    ahead = budget.budget_status(budget_kg=100, used_kg=40, period=period, today=D(2026, 11, 10))
    assert ahead.projected_kg == pytest.approx(120.0) and ahead.projected_over and ahead.verdict == "pass"
    over = budget.budget_status(budget_kg=100, used_kg=100.5, period=period, today=D(2026, 11, 10))
    assert over.verdict == "fail" and over.remaining_kg == pytest.approx(-0.5)


def test_the_per_run_limit_fails_a_larger_run_and_passes_an_equal_one() -> None:
    period = budget.period_parse("2026-11")
    kwargs = {"budget_kg": 100, "used_kg": 1, "period": period, "today": D(2026, 11, 10), "run_limit_kg": 2.0}
    assert budget.budget_status(run_kg=2.5, **kwargs).verdict == "fail"
    assert budget.budget_status(run_kg=2.0, **kwargs).run_verdict == "pass"
    assert budget.budget_status(**kwargs).run_verdict is None


def test_projection_before_the_period_and_after_it() -> None:
    period = budget.period_parse("2026-11")
    assert budget.projected_kg(5.0, 0, period.days) == 5.0
    assert budget.budget_status(budget_kg=10, used_kg=8, period=period, today=D(2027, 1, 1)).projected_kg == 8.0


@pytest.mark.parametrize(
    ("used", "budget_kg", "reached"),
    [
        (49.99, 100, []),
        (50, 100, [50]),
        (79.99, 100, [50]),
        (80, 100, [50, 80]),
        (100, 100, [50, 80, 100]),
        (0, 0, []),
        (0.1, 0, [50, 80, 100]),
    ],
)
def test_thresholds_reached(used: float, budget_kg: float, reached: list[int]) -> None:
    assert budget.thresholds_reached(used, budget_kg) == reached


def test_burn_down_series_by_hand() -> None:
    # Budget 30 kg for November; 2 kg on the 1st, 4 kg on the 3rd; today the 3rd: pace 2 kg/day.
    series = budget.burn_down(
        budget_kg=30,
        daily_kg={D(2026, 11, 1): 2, D(2026, 11, 3): 4},
        period=budget.period_parse("2026-11"),
        today=D(2026, 11, 3),
    )
    assert series.days == [D(2026, 11, 1), D(2026, 11, 2), D(2026, 11, 3)]
    assert series.remaining == [28, 28, 24]
    assert series.ideal[0] == pytest.approx(29) and series.ideal[-1] == pytest.approx(0)
    assert series.projection_days[0] == D(2026, 11, 3) and series.projection_days[-1] == D(2026, 11, 30)
    assert series.projection[0] == 24 and series.projection[-1] == pytest.approx(-30)  # 60 kg projected


def test_target_path_is_linear_from_the_base_year_and_flat_after_the_target() -> None:
    kwargs = {"base_year": 2024, "base_year_kg": 1000.0, "target_year": 2030, "reduction_pct": 42.0}
    assert budget.target_annual_kg(year=2027, **kwargs) == pytest.approx(790.0)  # half way: −21 %
    assert budget.target_annual_kg(year=2030, **kwargs) == pytest.approx(580.0)
    assert budget.target_annual_kg(year=2035, **kwargs) == pytest.approx(580.0)
    assert budget.target_annual_kg(year=2020, **kwargs) == pytest.approx(1000.0)
    assert budget.period_allowance_kg(790.0, budget.period_parse("2027-Q4")) == pytest.approx(790.0 * 92 / 365)
    with pytest.raises(ValueError, match="after the base year"):
        budget.target_annual_kg(base_year=2030, base_year_kg=1, target_year=2030, reduction_pct=1, year=2030)


def test_split_by_share_of_the_base_year() -> None:
    assert budget.split_by_share(100.0, {1: 300.0, 2: 100.0, 3: 0.0}) == {1: 75.0, 2: 25.0, 3: 0.0}
    with pytest.raises(ValueError, match="no project has a share"):
        budget.split_by_share(100.0, {1: 0.0})


def test_sci_by_hand() -> None:
    # E = 10 kWh, I = 4 kg / 10 kWh = 0.4 kg/kWh, M = 2 kg, R = 4: (10 × 0.4 + 2) / 4 = 1.5 kg per unit.
    intensity = sci.intensity_used(kgco2e_location=4.0, energy_kwh=10.0)
    assert intensity == pytest.approx(0.4)
    result = sci.sci_compute(energy_kwh=10.0, intensity_kg_per_kwh=intensity, embodied_kg=2.0, units=4)
    assert result.operational_kg == pytest.approx(4.0) and result.sci_kg_per_unit == pytest.approx(1.5)
    assert sci.sci_compute(energy_kwh=10, intensity_kg_per_kwh=0.4, embodied_kg=0, units=0).sci_kg_per_unit is None
    assert sci.intensity_used(kgco2e_location=1.0, energy_kwh=0.0) is None


def _flags(ranked: list[pareto.RankedPoint]) -> dict[str, tuple[bool, str | None]]:
    return {r.point.key: (r.on_front, r.dominated_by) for r in ranked}


def test_pareto_flags_dominated_runs_when_higher_is_better() -> None:
    points = [
        pareto.Point("a", 1, 0.80),
        pareto.Point("b", 2, 0.90),
        pareto.Point("c", 3, 0.85),
        pareto.Point("d", 2, 0.90),
        pareto.Point("e", 1, 0.70),
        pareto.Point("f", 4, 0.95),
    ]
    flags = _flags(pareto.pareto_front(points, higher_is_better=True))
    assert flags["a"] == (True, None) and flags["f"] == (True, None)
    assert flags["b"] == (True, None) and flags["d"] == (True, None)  # exact duplicates do not dominate
    assert flags["c"] == (False, "b")  # more kg, lower accuracy
    assert flags["e"] == (False, "a")  # same kg, lower accuracy


def test_pareto_flags_dominated_runs_when_lower_is_better() -> None:
    points = [
        pareto.Point("a", 1, 0.5),
        pareto.Point("b", 2, 0.3),
        pareto.Point("c", 3, 0.4),
        pareto.Point("g", 5, 0.3),
    ]
    flags = _flags(pareto.pareto_front(points, higher_is_better=False))
    assert flags == {"a": (True, None), "b": (True, None), "c": (False, "b"), "g": (False, "b")}


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("model=resnet50;accuracy=0.91", ("resnet50", "accuracy", 0.91)),
        ("model=bert-base; note=x; f1=0.8", ("bert-base", "f1", 0.8)),
        ("training", None),
        ("model=;acc=1", None),
        ("acc=1;model=x", None),
        ("model=x;acc=nan", None),
    ],
)
def test_model_tags_are_parsed_from_the_codecarbon_project_name(name: str, tag: tuple | None) -> None:
    parsed = pareto.parse_model_tag(name)
    assert (parsed and (parsed.model, parsed.metric_name, parsed.metric_value)) == (tag if tag else None)


def test_regions_rank_cleanest_first_and_unknown_ones_are_flagged() -> None:
    factors = {
        "us-east-1": advice.RegionFactor("us-east-1", 379.1, "registry"),
        "eu-north-1": advice.RegionFactor("eu-north-1", 8.8, "registry"),
    }
    ranking = advice.rank_regions(["us-east-1", "eu-north-1", "xx-1", "us-east-1"], factors)
    assert [f.region for f in ranking.ranked] == ["eu-north-1", "us-east-1"]
    assert ranking.best is not None and ranking.best.region == "eu-north-1"
    assert ranking.unmapped == ["xx-1"]
    # 100 kWh moved from 379.1 to 8.8 g/kWh: 100 × 370.3 / 1000 = 37.03 kg avoided.
    assert advice.avoided_kg(energy_kwh=100, from_g_per_kwh=379.1, to_g_per_kwh=8.8) == pytest.approx(37.03)
    rows = advice.counterfactuals(energy_kwh=100, actual_kg=37.91, ranking=ranking)
    assert rows[0].kg == pytest.approx(0.88) and rows[0].difference_kg == pytest.approx(-37.03)
