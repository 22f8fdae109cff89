"""Issue 4 pages: filters, overview signals, drill-down, engineer views — each against the ledger itself."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from bs4 import BeautifulSoup
from django.db.models import Sum
from django.urls import reverse

from greenesg.footprint.models import EmissionFactor, LedgerDaily, LedgerEntry, LedgerMonthly
from reports.dashboards.filters import DashboardFilter, InvalidFilter, dashboard_filter_parse, preset_range
from reports.dashboards.selectors.rollups import period_parts

from .conftest import HOSTILE, refresh, utc

pytestmark = pytest.mark.django_db


def _kpis(response) -> dict[str, float]:
    soup = BeautifulSoup(response.content, "html.parser")
    return {tag["id"].removeprefix("kpi-"): float(tag["value"]) for tag in soup.select("data[id^=kpi-]")}


def _ledger_sum(column: str, **filters) -> float:
    rows = LedgerEntry.objects.filter(organisation__slug="acme", in_inventory=True, **filters)
    return rows.aggregate(total=Sum(column))["total"] or 0.0


def _records(**params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("org-records", args=["acme"]) + ("?" + query if query else "")


# --- filters -----------------------------------------------------------------------------------------


def test_presets_resolve_against_today():
    today = dt.date(2025, 5, 20)
    assert preset_range("this_quarter", today) == (dt.date(2025, 4, 1), today)
    assert preset_range("last_quarter", today) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert preset_range("ytd", today) == (dt.date(2025, 1, 1), today)
    assert preset_range("last_12_months", today) == (dt.date(2024, 5, 21), today)
    assert preset_range("last_quarter", dt.date(2025, 1, 2)) == (dt.date(2024, 10, 1), dt.date(2024, 12, 31))


def test_every_filter_round_trips_through_the_url():
    params = {
        "period": "last_quarter",
        "project": "ml",
        "provider": "aws",
        "region": "eu-west-1",
        "scope": "scope3.cat1.1",
        "source": "billing",
        "grain": "quarter",
    }
    flt = dashboard_filter_parse(params, today=dt.date(2025, 5, 20))
    assert (flt.start, flt.end, flt.scope, flt.category) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31), 3, "1.1")
    again = dashboard_filter_parse(
        dict(p.split("=") for p in flt.querystring[1:].split("&")), today=dt.date(2025, 5, 20)
    )
    assert again == flt
    # The previous quarter, as the report compares (issue 12: not the 90 days before, which began on 3 October).
    assert flt.previous() == flt.with_changes(start=dt.date(2024, 10, 1), end=dt.date(2024, 12, 31), period="")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "fortnight"}, "period must be one of"),
        ({"scope": "4"}, "scope must be 1, 2, 3"),
        ({"source": "excel"}, "source must be one of"),
        ({"project": "../etc"}, "project must be"),
        ({"grain": "week"}, "grain must be"),
        ({"region": "x" * 65}, "at most 64"),
        ({"provider": "aws\n"}, "control characters"),
    ],
)
def test_bad_dimension_values_raise_a_clear_message(params, message):
    with pytest.raises(InvalidFilter, match=message):
        dashboard_filter_parse(params)


@pytest.mark.parametrize(
    ("start", "end", "months", "days"),
    [
        (None, None, (None, None), []),
        (dt.date(2025, 1, 1), dt.date(2025, 3, 31), (dt.date(2025, 1, 1), dt.date(2025, 3, 1)), []),
        (
            dt.date(2025, 1, 15),
            dt.date(2025, 4, 10),
            (dt.date(2025, 2, 1), dt.date(2025, 3, 1)),
            [(dt.date(2025, 1, 15), dt.date(2025, 1, 31)), (dt.date(2025, 4, 1), dt.date(2025, 4, 10))],
        ),
        (dt.date(2025, 1, 15), dt.date(2025, 2, 10), None, [(dt.date(2025, 1, 15), dt.date(2025, 2, 10))]),
        (None, dt.date(2025, 2, 10), (None, dt.date(2025, 1, 1)), [(dt.date(2025, 2, 1), dt.date(2025, 2, 10))]),
    ],
)
def test_periods_split_into_whole_months_and_edge_days(start, end, months, days):
    assert period_parts(start, end) == (months, days)


# --- rollups -----------------------------------------------------------------------------------------


def test_the_monthly_rollup_equals_the_daily_one_and_flags_unmapped_regions(org, ledger, make_entry, project):
    make_entry(org, project, "u1", end=utc(2025, 2, 9), flags=["region_unmapped"], provider="aws", region="xx-1")
    refresh(org)
    for column in ("records", "kgco2e_location", "energy_facility_kwh"):
        daily = LedgerDaily.objects.filter(organisation=org).aggregate(t=Sum(column))["t"]
        monthly = LedgerMonthly.objects.filter(organisation=org).aggregate(t=Sum(column))["t"]
        assert monthly == pytest.approx(daily)
    unmapped = LedgerMonthly.objects.get(organisation=org, region_unmapped=True)
    assert (unmapped.month, unmapped.region, unmapped.records) == (dt.date(2025, 2, 1), "xx-1", 1)


# --- overview ----------------------------------------------------------------------------------------


class TestOverviewFilters:
    @pytest.mark.parametrize(
        ("query", "filters"),
        [
            ("?provider=aws", {"provider": "aws"}),
            ("?scope=2", {"scope": 2}),
            ("?scope=scope3.cat1.1", {"scope": 3, "category": "1.1"}),
            ("?source=billing", {"source": "billing"}),
            ("?project=ml", {"project__slug": "ml"}),
            ("?project=_unallocated", {"project__isnull": True}),
            ("?team=Commerce", {"project__slug": "web"}),
            ("?start=2025-01-15&end=2025-03-04", {"day__gte": "2025-01-15", "day__lte": "2025-03-04"}),
        ],
    )
    def test_kpis_equal_the_ledger_for_the_same_filter(self, officer_client, ledger, query, filters):
        response = officer_client.get(reverse("org-overview", args=["acme"]) + query)
        assert response.status_code == 200
        kpis = _kpis(response)
        expected = _ledger_sum("kgco2e_location", **filters)
        if expected:
            assert kpis["kgco2e_location"] == pytest.approx(expected)
            assert kpis["energy_kwh_facility"] == pytest.approx(_ledger_sum("energy_facility_kwh", **filters))
        else:
            assert b"No data yet" in response.content

    def test_it_compares_with_the_previous_period_of_equal_length(self, officer_client, ledger):
        # 2025-02-04 … 2025-03-05 (30 days) against 2025-01-05 … 2025-02-03: w1 (3.0) vs r1 + r2 (0.9).
        response = officer_client.get(reverse("org-overview", args=["acme"]) + "?start=2025-02-04&end=2025-03-05")
        soup = BeautifulSoup(response.content, "html.parser")
        change = float(soup.select_one(".kpi-change")["data-change"])
        assert change == pytest.approx((4.1 - 0.9) / 0.9)

    def test_it_shows_data_quality_signals(self, officer_client, ledger, make_entry, org, project):
        make_entry(org, project, "u1", end=utc(2025, 2, 9), flags=["region_unmapped"], provider="aws", region="xx-1")
        refresh(org)
        response = officer_client.get(reverse("org-overview", args=["acme"]) + "?start=2025-02-01&end=2025-02-28")
        soup = BeautifulSoup(response.content, "html.parser")
        assert "aws/xx-1" in soup.select_one("#signal-unmapped").text
        assert "Web shop" in soup.select_one("#signal-idle").text
        unallocated = officer_client.get(reverse("org-overview", args=["acme"]))
        share = BeautifulSoup(unallocated.content, "html.parser").select_one("#signal-unallocated data")
        assert float(share["value"]) == pytest.approx(30.0)

    def test_measured_share_is_of_location_based_emissions(self, officer_client, ledger):
        soup = BeautifulSoup(officer_client.get(reverse("org-overview", args=["acme"])).content, "html.parser")
        assert float(soup.select_one("#share-measured")["value"]) == pytest.approx(5.0 / 35.0)

    def test_engineers_cannot_filter_on_projects_they_cannot_see(self, engineer_client, ledger):
        for query in ("?project=web", "?project=_unallocated", "?team=Commerce"):
            response = engineer_client.get(reverse("org-overview", args=["acme"]) + query)
            assert response.status_code == 400
            assert b"This filter cannot be applied" in response.content

    def test_quarterly_trend_sums_months(self, officer_client, ledger):
        response = officer_client.get(reverse("org-overview", args=["acme"]) + "?grain=quarter")
        soup = BeautifulSoup(response.content, "html.parser")
        import json

        figure = json.loads(soup.find("script", id="fig-trend").string)
        assert {x for trace in figure["data"] for x in trace["x"]} == {"2025-01-01"}
        assert sum(y for trace in figure["data"] for y in trace["y"]) == pytest.approx(0.035)

    def test_hostile_names_are_escaped_in_every_figure(self, officer_client, ledger, other_project):
        other_project.name = HOSTILE[0]
        other_project.save()
        LedgerEntry.objects.filter(natural_key="test:bill").update(service=HOSTILE[1], provider="aws")
        refresh(other_project.organisation)
        response = officer_client.get(reverse("org-overview", args=["acme"]))
        body = response.content.decode()
        for payload in HOSTILE:
            assert payload not in body


# --- drill-down --------------------------------------------------------------------------------------


class TestRecords:
    def test_rows_sum_to_the_figure_clicked(self, officer_client, ledger):
        response = officer_client.get(_records(source="codecarbon", project="ml"))
        assert response.status_code == 200
        rows = response.context["rows"]
        assert sorted(r.run_id for r in rows) == ["r1", "r2", "r3"]
        assert sum(r.kgco2e_location for r in rows) == pytest.approx(_kpis(response)["kgco2e_location"])

    def test_unallocated_lines_open_at_organisation_level(self, officer_client, auditor_client, ledger):
        response = officer_client.get(_records(project="_unallocated"))
        [row] = response.context["rows"]
        assert row.detail_url == reverse("org-record-detail", args=["acme", ledger["bill"].pk])
        detail = auditor_client.get(row.detail_url)
        assert detail.status_code == 200
        assert b"Unallocated" in detail.content

    def test_engineers_never_see_other_projects_rows(self, engineer_client, ledger):
        response = engineer_client.get(_records())
        assert {r.project.slug for r in response.context["rows"]} == {"ml"}
        assert engineer_client.get(reverse("org-record-detail", args=["acme", ledger["bill"].pk])).status_code == 404
        assert engineer_client.get(reverse("org-record-detail", args=["acme", ledger["w1"].pk])).status_code == 404

    def test_it_downloads_a_spreadsheet_safe_csv(self, officer_client, ledger):
        LedgerEntry.objects.filter(natural_key="test:bill").update(service='=HYPERLINK("http://x","y")')
        response = officer_client.get(_records(source="billing", format="csv"))
        assert "attachment" in response["Content-Disposition"]
        body = b"".join(response.streaming_content).decode()
        [row] = list(csv.DictReader(io.StringIO(body), quoting=csv.QUOTE_NONNUMERIC))
        assert row["service"].startswith("'=")
        assert row["kgco2e_location"] == pytest.approx(30.0)

    def test_it_sorts_and_pages(self, officer_client, ledger):
        response = officer_client.get(_records(sort="kg"))
        kgs = [r.kgco2e_location for r in response.context["rows"]]
        assert kgs == sorted(kgs)
        assert response.context["table"]["next"] == ""

    @pytest.mark.parametrize("query", ["sort=name", "page=0", "format=xlsx", "scope=9", "project=nope"])
    def test_bad_values_are_400(self, officer_client, ledger, query):
        response = officer_client.get(reverse("org-records", args=["acme"]) + "?" + query)
        assert response.status_code == 400

    def test_anonymous_and_outsiders(self, client, outsider_client, ledger):
        assert client.get(_records()).status_code == 302
        assert outsider_client.get(_records()).status_code == 404
        assert outsider_client.get(reverse("org-record-detail", args=["acme", ledger["r1"].pk])).status_code == 404


class TestLedgerRow:
    def test_it_links_the_source_file_and_row_and_shows_the_factor(self, officer_client, ledger):
        response = officer_client.get(reverse("ledger-detail", args=["acme", "ml", ledger["r1"].pk]))
        content = response.content.decode()
        assert "test-grid@v1" in content
        crumbs = [c["label"] for c in response.context["breadcrumbs"]]
        assert crumbs == ["Acme Software", "ML platform", "train", "Record r1"]

    def test_what_if_uses_the_factor_registry(self, officer_client, ledger):
        factor = EmissionFactor.objects.filter(zone__contains="/", is_fallback_mean=False).order_by("zone").first()
        url = reverse("ledger-detail", args=["acme", "ml", ledger["r1"].pk])
        response = officer_client.get(url + "?zone=" + factor.zone)
        assert response.status_code == 200
        what_if = response.context["what_if"]
        assert what_if.zone == factor.zone
        assert what_if.kgco2e == pytest.approx(1.5 * what_if.g_per_kwh / 1000)
        assert officer_client.get(url + "?zone=mars/olympus").status_code == 400


# --- engineer views ----------------------------------------------------------------------------------


class TestEngineerViews:
    def test_my_projects_lists_memberships_with_run_totals(self, engineer_client, ledger):
        response = engineer_client.get(reverse("my-projects", args=["acme"]))
        assert response.status_code == 200
        [row] = response.context["rows"]
        assert (row["project"].slug, row["runs"]) == ("ml", 3)
        assert row["kgco2e_location"] == pytest.approx(2.0)

    def test_my_projects_guards(self, client, outsider_client, officer_client, ledger):
        url = reverse("my-projects", args=["acme"])
        assert client.get(url).status_code == 302
        assert outsider_client.get(url).status_code == 404
        assert officer_client.get(url + "?period=soon").status_code == 400

    def test_compare_puts_experiments_side_by_side(self, engineer_client, ledger):
        url = reverse("experiment-compare", args=["acme", "ml"]) + "?experiment=train&experiment=_none"
        response = engineer_client.get(url)
        assert response.status_code == 200
        rows = {row["label"]: row for row in response.context["rows"]}
        assert rows["train"]["runs"] == 2
        assert rows["train"]["mean_kg"] == pytest.approx(0.45)
        assert rows["(no experiment)"]["kgco2e_location"] == pytest.approx(1.1)
        assert rows["train"]["cpu"].startswith("Test CPU")

    def test_compare_guards(self, client, engineer_client, outsider_client, ledger):
        url = reverse("experiment-compare", args=["acme", "ml"])
        assert client.get(url).status_code == 302
        assert outsider_client.get(url).status_code == 404
        assert engineer_client.get(reverse("experiment-compare", args=["acme", "web"])).status_code == 404
        assert engineer_client.get(url + "?experiment=nope").status_code == 400
        assert engineer_client.get(url).status_code == 200  # nothing chosen yet: the picker

    def test_project_page_sources_link_to_their_rows(self, officer_client, ledger):
        response = officer_client.get(reverse("project-detail", args=["acme", "ml"]) + "?provider=aws")
        [source] = response.context["sources"]
        assert source["kgco2e_location"] == pytest.approx(1.1)
        assert _kpis(response)["kgco2e_location"] == pytest.approx(
            _ledger_sum("kgco2e_location", project__slug="ml", provider="aws")
        )
        rows = officer_client.get(source["url"]).context["rows"]
        assert [r.run_id for r in rows] == ["r3"]


def test_filter_is_hashable_and_comparable():
    assert DashboardFilter(projects=("a",)) != DashboardFilter(projects=("b",))
    assert DashboardFilter().cache_part == "all"
