"""Coverage of billed cost: modelled, extrapolated, not estimated and unsupported shares, from active deliveries.

Hand-computed for the file below: cost 1.92 (compute, modelled) + 3.00 (an unknown "Requests" line: no modelled
line of that service and unit gives a ratio to extrapolate with, so it stays not estimated) + 5.00 (unit Dollar:
unsupported) = 9.92 billed; estimated share 1.92 / 9.92 = 19.35 %.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ingestion.billing.coverage import billing_coverage_for, coverage_summary
from tests.billing.conftest import cur_row, import_file

JANUARY = (dt.date(2024, 1, 1), dt.date(2024, 1, 31))


def test_shares_are_none_when_nothing_was_billed() -> None:
    summary = coverage_summary([])
    assert summary["billed_cost"] == 0 and summary["estimated_cost_share_percent"] is None


def test_credits_netting_to_zero_give_no_share() -> None:
    summary = coverage_summary(
        [{"method": "modelled", "cost": 5.0, "lines": 1}, {"method": "unestimated", "cost": -5.0, "lines": 1}]
    )
    assert summary["cost_share_percent"]["modelled"] is None and summary["lines_share_percent"]["modelled"] == 50


@pytest.mark.django_db
def test_coverage_counts_every_usage_line_of_the_active_delivery(org, write_cur) -> None:
    rows = [
        cur_row(amount=10, cost=1.92),
        cur_row("USE1-Requests-Tier1", 1000, 3.0, unit="Requests", hour=1, service="AmazonS3"),
        cur_row("USE1-SupportFee", 1, 5.0, unit="Dollar", hour=2, service="AWSSupportBusiness"),
    ]
    import_file(org, write_cur(rows))

    coverage = billing_coverage_for(organisation_id=org.pk, start=JANUARY[0], end=JANUARY[1])

    assert coverage["billed_cost"] == pytest.approx(9.92)
    assert coverage["cost"]["excluded"] == pytest.approx(5.0)
    assert coverage["cost"]["unestimated"] == pytest.approx(3.0)
    assert coverage["cost"]["modelled"] == pytest.approx(1.92)
    assert coverage["estimated_cost_share_percent"] == pytest.approx(1.92 / 9.92 * 100)
    assert sum(coverage["lines"].values()) == 3


@pytest.mark.django_db
def test_a_restated_month_counts_only_its_newest_delivery(org, write_cur) -> None:
    import_file(org, write_cur([cur_row(amount=10, cost=1.92)]))
    import_file(org, write_cur([cur_row(amount=20, cost=3.84)]))

    coverage = billing_coverage_for(organisation_id=org.pk, start=JANUARY[0], end=JANUARY[1])

    assert coverage["billed_cost"] == pytest.approx(3.84)


@pytest.mark.django_db
def test_the_billing_dashboard_shows_the_coverage_of_billed_cost(org, write_cur, officer_client) -> None:
    from bs4 import BeautifulSoup
    from django.urls import reverse

    rows = [
        cur_row(amount=10, cost=1.92),
        cur_row("USE1-Requests-Tier1", 1000, 3.0, unit="Requests", hour=1, service="AmazonS3"),
    ]
    import_file(org, write_cur(rows))

    page = officer_client.get(reverse("billing-dashboard", args=["acme"]))

    table = BeautifulSoup(page.content, "html.parser").find(id="billing-coverage")
    assert table is not None
    cells = {
        tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in table.tbody.find_all("tr")
    }
    assert cells["Not estimated (not in the figures)"][3] == "61.0 %"  # 3.00 of 4.92
    assert cells["Modelled from usage"][3] == "39.0 %"


@pytest.mark.django_db
def test_the_footprint_command_and_the_summary_api_carry_the_coverage(org, write_cur, officer_client) -> None:
    import json
    from io import StringIO

    from django.core.management import call_command

    import_file(
        org,
        write_cur(
            [
                cur_row(amount=10, cost=1.92),
                cur_row("USE1-Requests-Tier1", 1000, 3.0, unit="Requests", hour=1, service="AmazonS3"),
            ]
        ),
    )
    out = StringIO()

    call_command("footprint", "--org", "acme", "--json", stdout=out)
    api = officer_client.get("/api/v1/orgs/acme/summary").json()

    coverage = json.loads(out.getvalue())["coverage"]
    assert coverage == api["coverage"]
    assert coverage["scope"] == "organisation"
    assert coverage["cost"]["unestimated"] == pytest.approx(3.0)
    assert coverage["estimated_cost_share_percent"] == pytest.approx(1.92 / 4.92 * 100)
