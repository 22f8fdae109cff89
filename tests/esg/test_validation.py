"""Each validation rule with a bad input and its message."""

from __future__ import annotations

import pytest

from esg.validation import values_validate


def _one_error(cells: dict, **kwargs) -> tuple[str, str]:
    result = values_validate(cells, **kwargs)
    assert len(result.errors) == 1, result.errors
    assert result.values == {}  # nothing half-accepted
    return result.errors[0].code, result.errors[0].message


@pytest.mark.parametrize(
    ("code", "raw", "message"),
    [
        ("S1-6.headcount", "abc", "must be a number such as 1234.5 (no thousands separators), not 'abc'"),
        ("S1-6.headcount", "1,200", "no thousands separators"),
        ("S1-6.headcount", "10.5", "must be a whole number of employees, not 10.5"),
        ("S1-6.leavers", "-1", "must be at least 0 employees, not -1"),
        ("S1-8.collective_bargaining_coverage", "120", "must be at most 100 %, not 120"),
        ("G1-6.avg_days_to_pay", "-3", "must be at least 0 days"),
        ("S1-6.nonsense", "3", "is not a metric of the catalogue that can be entered"),
        ("E1-6.scope2_location_t", "3", "comes from the footprint ledger and cannot be entered"),
    ],
)
def test_a_bad_cell_gets_its_message(code: str, raw: str, message: str) -> None:
    got_code, got_message = _one_error({code: raw})
    assert got_code == code
    assert message in got_message


def test_good_cells_are_parsed_and_blank_cells_ignored() -> None:
    result = values_validate(
        {"S1-6.headcount": " 100 ", "S1-8.collective_bargaining_coverage": "35.5%", "S1-6.leavers": ""}
    )
    assert result.ok
    assert {k: float(v) for k, v in result.values.items()} == {
        "S1-6.headcount": 100.0,
        "S1-8.collective_bargaining_coverage": 35.5,
    }


def test_decimal_comma_only_when_asked() -> None:
    assert (
        float(values_validate({"S1-16.avg_pay_male": "41,5"}, decimal_comma=True).values["S1-16.avg_pay_male"]) == 41.5
    )
    assert not values_validate({"S1-16.avg_pay_male": "41,5"}).ok


def test_gender_split_must_sum_to_headcount() -> None:
    code, message = _one_error({"S1-6.headcount": "100", "S1-6.headcount_female": "40", "S1-6.headcount_male": "58"})
    assert code == "S1-6.headcount"
    assert "The gender split must add up to the head count. 40 + 58 + 0 = 98, but S1-6.headcount is 100." in message


def test_gender_split_is_checked_against_stored_values() -> None:
    code, message = _one_error(
        {"S1-6.headcount_female": "45"}, existing={"S1-6.headcount": 100, "S1-6.headcount_male": 60}
    )
    assert "45 + 60 + 0 = 105" in message


def test_women_in_top_management_cannot_exceed_top_management() -> None:
    code, message = _one_error({"S1-9.top_management_total": "8", "S1-9.top_management_female": "9"})
    assert code == "S1-9.top_management_female"
    assert "cannot exceed top management" in message


def test_accidents_need_hours_worked() -> None:
    code, message = _one_error({"S1-14.recordable_accidents": "2", "S1-14.hours_worked": "0"})
    assert code == "S1-14.hours_worked" and "the rate is undefined" in message


def test_median_cannot_exceed_the_highest_pay() -> None:
    code, message = _one_error({"S1-16.highest_remuneration": "50000", "S1-16.median_remuneration": "60000"})
    assert code == "S1-16.median_remuneration"


def test_a_reported_accident_rate_is_recomputed_from_counts_and_hours() -> None:
    cells = {"S1-14.recordable_accidents": "3", "S1-14.hours_worked": "240000", "S1-14.accident_rate": "15"}
    code, message = _one_error(cells)
    assert code == "S1-14.accident_rate"
    assert "gives 12.5 from S1-14.recordable_accidents = 3, S1-14.hours_worked = 240000" in message
    # within rounding (one decimal) it is accepted, and the rate itself is not stored
    ok = values_validate({**cells, "S1-14.accident_rate": "12.5"})
    assert ok.ok and "S1-14.accident_rate" not in ok.values


def test_a_reported_turnover_rate_is_recomputed() -> None:
    code, message = _one_error(
        {
            "S1-6.leavers": "12",
            "S1-6.headcount": "150",
            "S1-6.headcount_female": "60",
            "S1-6.headcount_male": "90",
            "S1-6.turnover_rate": "9.1",
        }
    )
    assert code == "S1-6.turnover_rate" and "gives 8 from" in message
    assert values_validate({"S1-6.leavers": "12", "S1-6.headcount": "150", "S1-6.turnover_rate": "8.0"}).ok


def test_a_reported_pay_gap_must_follow_the_formula() -> None:
    code, message = _one_error(
        {"S1-16.avg_pay_male": "40", "S1-16.avg_pay_female": "35", "S1-16.gender_pay_gap": "14.3"}
    )
    assert code == "S1-16.gender_pay_gap"
    assert "(Average male pay − average female pay) ÷ average male pay × 100 gives 12.5" in message


def test_a_reported_rate_without_its_inputs_is_refused() -> None:
    code, message = _one_error({"S1-16.remuneration_ratio": "5"})
    assert "provide S1-16.highest_remuneration and S1-16.median_remuneration too" in message


def test_a_reported_rate_with_a_zero_denominator_is_refused() -> None:
    code, message = _one_error({"S1-6.turnover_rate": "5"}, existing={"S1-6.leavers": 1, "S1-6.headcount": 0})
    assert "the denominator is 0" in message
