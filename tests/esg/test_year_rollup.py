"""Year and year-to-date ESG figures from quarterly entries, by each metric's aggregation rule.

Hand-computed: leavers 3 + 5 + 4 + 6 = 18 (sum); head count at the end of Q4 = 104 (end); average female pay
(30 + 32 + 34 + 36) / 4 = 33 (mean); turnover recomputed from the aggregated inputs = 18 / 104 × 100 = 17.307…
"""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from esg.catalogue import catalogue
from esg.models import MetricValue, ValueStatus
from esg.periods import InvalidPeriod, Period, period_parse
from esg.selectors import completeness, metric_rows

QUARTERS = {
    "S1-6.leavers": (3, 5, 4, 6),
    "S1-6.headcount": (100, 101, 103, 104),
    "S1-16.avg_pay_female": (30, 32, 34, 36),
}


def enter(org, code: str, period: str, value: float, status: str = ValueStatus.APPROVED) -> None:
    MetricValue.objects.create(
        organisation=org,
        metric_code=code,
        period=period,
        value=value,
        status=status,
        source="form",
        submitted_at=timezone.now(),
    )


def enter_every_quarter(org, year: int = 2025, skip: tuple[str, ...] = ()) -> None:
    for metric in catalogue().entered():
        if metric.level != "organisation":
            continue
        for q in range(1, 5):
            key = f"{year}-Q{q}"
            if f"{metric.code}@{key}" in skip:
                continue
            enter(org, metric.code, key, QUARTERS.get(metric.code, (1, 1, 1, 1))[q - 1])


def by_code(org, period: Period) -> dict:
    return {row.code: row for row in metric_rows(org, period)}


def test_every_entered_metric_says_how_it_aggregates() -> None:
    entered = [m for m in catalogue().entered() if m.level == "organisation"]
    assert entered and all(m.aggregate in {"sum", "end", "mean"} for m in entered)


@pytest.mark.django_db
def test_a_year_adds_up_its_quarters_by_each_metrics_rule(org) -> None:
    enter_every_quarter(org)

    rows = by_code(org, Period(2025))

    assert rows["S1-6.leavers"].value == pytest.approx(18)
    assert rows["S1-6.headcount"].value == pytest.approx(104)
    assert rows["S1-16.avg_pay_female"].value == pytest.approx(33)
    assert rows["S1-6.turnover_rate"].value == pytest.approx(18 / 104 * 100)
    done = completeness(rows.values())
    assert done["missing"] == [] or all(r.metric.source == "ledger" for r in done["missing"])


@pytest.mark.django_db
def test_a_missing_quarter_is_named_and_the_year_is_not_complete(org) -> None:
    enter_every_quarter(org, skip=("S1-6.leavers@2025-Q3",))

    row = by_code(org, Period(2025))["S1-6.leavers"]

    assert row.value == pytest.approx(3 + 5 + 6)
    assert row.status == "partial" and "Q3" in row.note
    assert row in completeness([row])["missing"]


@pytest.mark.django_db
def test_a_stock_needs_the_last_quarter_only(org) -> None:
    enter_every_quarter(org, skip=("S1-6.headcount@2025-Q1",))

    row = by_code(org, Period(2025))["S1-6.headcount"]

    assert (row.value, row.status) == (pytest.approx(104), "approved")


@pytest.mark.django_db
def test_a_value_entered_for_the_whole_year_wins_over_its_quarters(org) -> None:
    enter_every_quarter(org)
    enter(org, "S1-6.leavers", "2025", 20)

    assert by_code(org, Period(2025))["S1-6.leavers"].value == pytest.approx(20)


@pytest.mark.django_db
def test_year_to_date_runs_through_the_last_ended_quarter(org) -> None:
    enter_every_quarter(org, year=2026)
    ytd = period_parse("2026-YTD", ytd=True, today=dt.date(2026, 8, 15))

    rows = by_code(org, ytd)

    assert (ytd.key, ytd.quarters[-1].key, ytd.end) == ("2026-YTD", "2026-Q2", dt.date(2026, 7, 1))
    assert rows["S1-6.leavers"].value == pytest.approx(3 + 5)
    assert rows["S1-6.headcount"].value == pytest.approx(101)


def test_a_year_to_date_is_never_stored() -> None:
    with pytest.raises(InvalidPeriod):
        period_parse("2026-YTD")  # writers parse without ytd
    with pytest.raises(InvalidPeriod, match="No quarter"):
        period_parse("2026-YTD", ytd=True, today=dt.date(2026, 2, 1))


@pytest.mark.django_db
def test_the_esg_command_shows_every_datapoint_of_a_fully_entered_year(org) -> None:
    enter_every_quarter(org)
    out = StringIO()

    call_command("esg", "--org", "acme", "--period", "2025", "--json", stdout=out)

    result = json.loads(out.getvalue())
    entered = {m["code"]: m for m in result["metrics"] if m["source"] == "entered"}
    assert entered and all(m["value"] is not None for m in entered.values())
    assert entered["S1-6.leavers"]["value"] == pytest.approx(18)


@pytest.mark.django_db
def test_the_year_to_date_page_answers(org, officer_client) -> None:
    enter_every_quarter(org)

    page = officer_client.get("/o/acme/esg/?period=2025-YTD")

    assert page.status_code == 200
    assert b"2025-YTD" in page.content
