"""Dashboard pages: permission matrix, filters, figures equal to the ledger, escaping, CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from greenesg.accounts.models import Project

from .conftest import HOSTILE, refresh, utc

pytestmark = pytest.mark.django_db

ML_TOTALS = {
    "runs": 3,
    "energy_kwh_it": 7.0,
    "energy_kwh_facility": 8.9,
    "kgco2e_location": 2.0,
    "kgco2e_market": 2.3,
    "water_l": 7.0,
}
ORG_TOTALS = {
    "runs": 4,
    "energy_kwh_it": 117.0,
    "energy_kwh_facility": 143.9,
    "kgco2e_location": 35.0,
    "kgco2e_market": 34.8,
    "water_l": 7.0,
}


def _overview(org="acme"):
    return reverse("org-overview", args=[org])


def _project(project="ml", org="acme"):
    return reverse("project-detail", args=[org, project])


def _experiment(experiment, project="ml", org="acme"):
    return reverse("experiment-detail", args=[org, project, experiment])


def _record(pk, project="ml", org="acme"):
    return reverse("ledger-detail", args=[org, project, pk])


def _kpis(response) -> dict[str, float]:
    soup = BeautifulSoup(response.content, "html.parser")
    return {tag["id"].removeprefix("kpi-"): float(tag["value"]) for tag in soup.select("data[id^=kpi-]")}


def _figure(response, element_id: str) -> dict:
    soup = BeautifulSoup(response.content, "html.parser")
    return json.loads(soup.find("script", id=element_id).string)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _assert_no_markup(response) -> None:
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find("img") is None
    for tag in soup.find_all(True):
        assert not [name for name in tag.attrs if name.lower().startswith("on")], tag
    for script in soup.find_all("script"):
        # Only our static files and json_script data blocks: nothing executable inline.
        assert script.get("src") or script.get("type") == "application/json", script
    body = response.content.decode()
    for payload in HOSTILE:
        assert payload not in body


# --- organisation overview -------------------------------------------------------------------


class TestOrgOverview:
    def test_it_shows_officers_the_whole_organisation(self, officer_client, ledger):
        response = officer_client.get(_overview())
        assert response.status_code == 200
        assert _kpis(response) == pytest.approx(ORG_TOTALS)
        assert b"Unallocated" in response.content
        assert b"Web shop" in response.content

    def test_it_shows_auditors_the_whole_organisation(self, auditor_client, ledger):
        response = auditor_client.get(_overview())
        assert response.status_code == 200
        assert _kpis(response) == pytest.approx(ORG_TOTALS)

    def test_it_limits_engineers_to_their_projects(self, engineer_client, ledger):
        response = engineer_client.get(_overview())
        assert response.status_code == 200
        assert _kpis(response) == pytest.approx(ML_TOTALS)
        assert b"Web shop" not in response.content
        assert b"Unallocated" not in response.content
        assert b"projects you are a member of" in response.content

    def test_it_redirects_anonymous_users_to_login(self, client, ledger):
        response = client.get(_overview())
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_rejects_outsiders(self, outsider_client, ledger):
        assert outsider_client.get(_overview()).status_code == 404

    def test_it_404s_for_an_unknown_organisation(self, officer_client):
        assert officer_client.get(_overview("nope")).status_code == 404

    @pytest.mark.parametrize(
        "query",
        ["start=2025-13-01", "start=yesterday", "end=2025-02-30", "start=2025-03-01&end=2025-02-01", "start=20250101"],
    )
    def test_it_rejects_bad_periods_with_a_clear_message(self, officer_client, ledger, query):
        response = officer_client.get(_overview() + "?" + query)
        assert response.status_code == 400
        assert b"This filter cannot be applied" in response.content
        assert b"YYYY-MM-DD" in response.content

    def test_it_filters_by_period_and_keeps_the_filter_in_links(self, officer_client, ledger):
        response = officer_client.get(_overview() + "?start=2025-02-01&end=2025-02-28")
        assert response.status_code == 200
        kpis = _kpis(response)
        assert kpis["runs"] == 2
        assert kpis["kgco2e_location"] == pytest.approx(1.7)
        assert kpis["energy_kwh_it"] == pytest.approx(6.0)
        assert (_project() + "?start=2025-02-01&amp;end=2025-02-28").encode() in response.content

    def test_blank_period_fields_mean_all_time(self, officer_client, ledger):
        response = officer_client.get(_overview() + "?start=&end=")
        assert response.status_code == 200
        assert _kpis(response) == pytest.approx(ORG_TOTALS)

    def test_its_tables_and_figures_equal_the_ledger(self, officer_client, ledger):
        response = officer_client.get(_overview())
        soup = BeautifulSoup(response.content, "html.parser")
        scope2 = soup.select_one('tr[data-scope="scope2"]')
        values = [float(d["value"]) for d in scope2.select("data")]
        assert values == pytest.approx([13.0, 19.5, 3.9, 3.7])
        scope = _figure(response, "fig-scope")
        location = scope["data"][0]
        assert location["x"] == ["Scope 2", "Scope 3 cat. 1.1 (cloud)"]
        # Organisation charts speak tCO2e; the tables keep exact kg in <data value>.
        assert location["y"] == pytest.approx([0.0039, 0.0311])
        month = _figure(response, "fig-trend")
        totals = {}
        for trace in month["data"]:
            for x, y in zip(trace["x"], trace["y"], strict=True):
                totals[x] = totals.get(x, 0) + y
        assert totals == pytest.approx({"2025-01-01": 0.0003, "2025-02-01": 0.0017, "2025-03-01": 0.033})
        project = _figure(response, "fig-project")
        assert project["data"][0]["y"][0] == "Unallocated"
        assert project["data"][0]["customdata"][1][0] == _project("web")

    def test_it_shows_the_empty_state(self, officer_client, org, project):
        response = officer_client.get(_overview())
        assert response.status_code == 200
        assert "No data yet — upload a codecarbon file or a billing export".encode() in response.content
        assert b"plotly.min.js" not in response.content

    def test_it_loads_plotly_from_our_static_files_only(self, officer_client, ledger):
        response = officer_client.get(_overview())
        soup = BeautifulSoup(response.content, "html.parser")
        sources = [script["src"] for script in soup.find_all("script", src=True)]
        assert sources == [
            "/static/js/table_scroll.js",  # every page (base.html): a table box that overflows becomes a tab stop
            "/static/js/layout.js",
            "/static/js/filters.js",
            "/static/js/plotly.min.js",
            "/static/js/charts.js",
            "/static/js/org_overview.js",
        ]

    def test_it_escapes_hostile_project_names(self, officer_client, ledger, other_project):
        other_project.name = HOSTILE[0] + HOSTILE[1]
        other_project.save()
        response = officer_client.get(_overview())
        assert response.status_code == 200
        _assert_no_markup(response)
        assert b"&lt;img src=x onerror=alert(1)&gt;" in response.content
        figure = _figure(response, "fig-project")
        labels = list(_strings(figure["data"]))
        assert any("&lt;img src=x" in label for label in labels)
        assert not any("<img" in label or "<script" in label or "</script" in label for label in labels)


# --- project page -----------------------------------------------------------------------------


class TestProjectDetail:
    @pytest.mark.parametrize("persona", ["officer_client", "engineer_client", "auditor_client"])
    def test_it_shows_members_the_project_figures(self, request, ledger, persona):
        response = request.getfixturevalue(persona).get(_project())
        assert response.status_code == 200
        assert _kpis(response) == pytest.approx(ML_TOTALS)
        assert b"train" in response.content
        assert b"(no experiment)" in response.content

    def test_it_404s_for_engineers_outside_the_project(self, engineer_client, ledger):
        assert engineer_client.get(_project("web")).status_code == 404

    @pytest.mark.parametrize(
        ("persona", "can_upload"), [("officer_client", True), ("engineer_client", True), ("auditor_client", False)]
    )
    def test_it_offers_the_upload_form_to_writers_only(self, request, ledger, persona, can_upload):
        content = request.getfixturevalue(persona).get(_project()).content.decode()
        assert (reverse("project-upload", args=["acme", "ml"]) in content) is can_upload
        assert reverse("project-imports", args=["acme", "ml"]) in content
        assert reverse("project-tokens", args=["acme", "ml"]) in content

    def test_it_redirects_anonymous_users_to_login(self, client, ledger):
        response = client.get(_project())
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_rejects_outsiders(self, outsider_client, ledger):
        assert outsider_client.get(_project()).status_code == 404
        assert outsider_client.get(_project("web")).status_code == 404

    @pytest.mark.parametrize("query", ["start=nope", "sort=colour", "page=0", "page=abc", "format=xlsx"])
    def test_it_rejects_bad_query_values(self, officer_client, ledger, query):
        response = officer_client.get(_project() + "?" + query)
        assert response.status_code == 400
        assert b"This filter cannot be applied" in response.content

    def test_it_lists_runs_newest_first_without_task_rows(self, officer_client, ledger):
        response = officer_client.get(_project())
        page = response.context["table"]["page"]
        assert [run.run_id for run in page.object_list] == ["r3", "r2", "r1"]

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            ("end", ["r1", "r2", "r3"]),
            ("-kwh", ["r3", "r2", "r1"]),
            ("duration", ["r3", "r1", "r2"]),
            ("-duration", ["r2", "r1", "r3"]),
            ("kg", ["r1", "r2", "r3"]),
            ("experiment", ["r3", "r2", "r1"]),
        ],
    )
    def test_it_sorts_runs(self, officer_client, ledger, sort, expected):
        response = officer_client.get(_project() + f"?sort={sort}")
        assert [run.run_id for run in response.context["table"]["page"].object_list] == expected

    def test_it_pages_runs_by_fifty_and_keeps_sort_and_period(self, officer_client, org, project, make_entry):
        for i in range(120):
            make_entry(org, project, f"p{i:03d}", end=utc(2025, 1, 1 + i % 28, i % 24), energy_it_kwh=float(i))
        refresh(org)
        first = officer_client.get(_project() + "?sort=kwh&start=2025-01-01")
        table = first.context["table"]
        assert len(table["page"].object_list) == 50
        assert [run.run_id for run in table["page"].object_list][:2] == ["p000", "p001"]
        assert "sort=kwh" in table["links"]["next"]
        assert "start=2025-01-01" in table["links"]["next"]
        assert "page=2" in table["links"]["next"]
        third = officer_client.get(_project() + "?sort=kwh&start=2025-01-01&page=3")
        assert [run.run_id for run in third.context["table"]["page"].object_list][-1] == "p119"
        assert len(third.context["table"]["page"].object_list) == 20
        assert third.context["table"]["links"]["next"] == ""

    def test_its_runs_chart_links_each_point_to_its_record(self, officer_client, ledger):
        response = officer_client.get(_project())
        figure = _figure(response, "fig-runs")
        urls = [point[0] for trace in figure["data"] for point in trace["customdata"]]
        assert sorted(urls) == sorted(_record(ledger[key].pk) for key in ("r1", "r2", "r3"))
        ys = sorted(y for trace in figure["data"] for y in trace["y"])
        assert ys == pytest.approx([0.3, 0.6, 1.1])

    def test_its_chart_links_are_the_record_urls_reverse_gives(self):
        from reports.dashboards.views import ledger_detail_urls

        pks = [1, 10, 100, 7_000_001]
        assert ledger_detail_urls("acme-0", "ml-10", pks) == {
            pk: _record(pk, project="ml-10", org="acme-0") for pk in pks
        }

    def test_it_shows_the_empty_state(self, officer_client, project):
        response = officer_client.get(_project())
        assert response.status_code == 200
        assert "No data yet — upload a codecarbon file or a billing export".encode() in response.content

    def test_it_escapes_hostile_names(self, officer_client, org, project, make_entry):
        project.name = HOSTILE[1]
        project.team = HOSTILE[0]
        project.save()
        make_entry(
            org,
            project,
            HOSTILE[0],
            experiment=HOSTILE[1],
            end=utc(2025, 1, 1),
            energy_it_kwh=1.0,
            kgco2e_location=0.1,
            kgco2e_market=0.1,
        )
        refresh(org)
        response = officer_client.get(_project())
        assert response.status_code == 200
        _assert_no_markup(response)
        assert b"&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in response.content
        figure = _figure(response, "fig-runs")
        strings = list(_strings(figure))
        assert any("&lt;/script&gt;" in s for s in strings)
        assert not any("<img" in s or "<script" in s or "</script" in s for s in strings)


class TestRunsCsv:
    def test_it_downloads_runs_with_numbers_kept_numeric(self, officer_client, ledger):
        response = officer_client.get(_project() + "?format=csv&sort=end")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        body = b"".join(response.streaming_content).decode()
        rows = list(csv.DictReader(io.StringIO(body), quoting=csv.QUOTE_NONNUMERIC))
        assert [row["run_id"] for row in rows] == ["r1", "r2", "r3"]
        assert sum(row["kgco2e_location"] for row in rows) == pytest.approx(2.0)
        assert all(isinstance(row["energy_kwh_it"], float) for row in rows)

    def test_it_neutralises_formulas_and_keeps_negative_numbers(self, officer_client, org, project, make_entry):
        make_entry(
            org,
            project,
            '=HYPERLINK("http://x","y")',
            experiment="@SUM(A1)",
            end=utc(2025, 1, 1),
            energy_it_kwh=-12.5,
            kgco2e_location=-1.0,
            factor_version="+cmd|' /C calc'!A0",
        )
        make_entry(org, project, "-2+3", experiment="\tTAB", end=utc(2025, 1, 2), energy_it_kwh=1.0)
        refresh(org)
        body = b"".join(officer_client.get(_project() + "?format=csv&sort=end").streaming_content).decode()
        assert '"\'=HYPERLINK(""http://x"",""y"")"' in body
        rows = list(csv.reader(io.StringIO(body)))
        header = rows[0]
        first = dict(zip(header, rows[1], strict=True))
        second = dict(zip(header, rows[2], strict=True))
        assert first["run_id"].startswith("'=")
        assert first["experiment"] == "'@SUM(A1)"
        assert first["factor_version"].startswith("'+")
        assert second["run_id"] == "'-2+3"
        assert second["experiment"] == "'\tTAB"
        # Numbers are written bare (unquoted): a spreadsheet reads -12.5 as a number.
        assert ",-12.5," in body
        assert float(first["energy_kwh_it"]) == -12.5

    def test_it_refuses_engineers_outside_the_project(self, engineer_client, ledger):
        assert engineer_client.get(_project("web") + "?format=csv").status_code == 404

    def test_it_refuses_outsiders(self, outsider_client, ledger):
        assert outsider_client.get(_project() + "?format=csv").status_code == 404

    def test_it_redirects_anonymous_users(self, client, ledger):
        assert client.get(_project() + "?format=csv").status_code == 302


# --- experiment page --------------------------------------------------------------------------


class TestExperimentDetail:
    @pytest.mark.parametrize("persona", ["officer_client", "engineer_client", "auditor_client"])
    def test_it_shows_the_experiment_runs(self, request, ledger, persona):
        response = request.getfixturevalue(persona).get(_experiment("train"))
        assert response.status_code == 200
        assert _kpis(response) == pytest.approx(
            {"runs": 2, "energy_kwh_it": 3.0, "energy_kwh_facility": 4.5, "kgco2e_location": 0.9, "kgco2e_market": 1.2}
        )
        assert [run.run_id for run in response.context["table"]["page"].object_list] == ["r2", "r1"]

    def test_it_maps_the_none_slug_to_runs_without_experiment(self, officer_client, ledger):
        response = officer_client.get(_experiment("_none"))
        assert response.status_code == 200
        assert [run.run_id for run in response.context["table"]["page"].object_list] == ["r3"]
        assert b"(no experiment)" in response.content

    def test_it_404s_for_unknown_experiments(self, officer_client, ledger):
        assert officer_client.get(_experiment("nope")).status_code == 404

    def test_it_does_not_show_another_projects_experiment(self, officer_client, ledger):
        assert officer_client.get(_experiment("ab", project="ml")).status_code == 404
        assert officer_client.get(_experiment("ab", project="web")).status_code == 200

    def test_it_404s_for_engineers_outside_the_project(self, engineer_client, ledger):
        assert engineer_client.get(_experiment("ab", project="web")).status_code == 404

    def test_it_rejects_outsiders(self, outsider_client, ledger):
        assert outsider_client.get(_experiment("train")).status_code == 404

    def test_it_redirects_anonymous_users(self, client, ledger):
        assert client.get(_experiment("train")).status_code == 302

    def test_it_rejects_bad_periods(self, officer_client, ledger):
        assert officer_client.get(_experiment("train") + "?end=31/01/2025").status_code == 400

    def test_it_downloads_its_runs_as_csv(self, officer_client, ledger):
        response = officer_client.get(_experiment("train") + "?format=csv")
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert [row["run_id"] for row in rows] == ["r2", "r1"]

    def test_it_escapes_hostile_experiment_names(self, officer_client, org, project, make_entry):
        make_entry(org, project, "h1", experiment=HOSTILE[0], end=utc(2025, 1, 1), kgco2e_location=0.1)
        refresh(org)
        url = _experiment(HOSTILE[0])
        response = officer_client.get(url)
        assert response.status_code == 200
        _assert_no_markup(response)
        assert b"&lt;img src=x onerror=alert(1)&gt;" in response.content


# --- ledger row drill-down --------------------------------------------------------------------


class TestLedgerDetail:
    @pytest.fixture
    def job(self, org, project):
        from ingestion.models import ImportJob

        return ImportJob.objects.create(
            organisation=org,
            project=project,
            kind="codecarbon",
            origin="upload",
            original_name="emissions.csv",
            sha256="0" * 64,
            status="done",
        )

    @pytest.mark.parametrize("persona", ["officer_client", "engineer_client", "auditor_client"])
    def test_it_shows_the_record_with_factor_and_lineage(self, request, ledger, job, persona):
        entry = ledger["r1"]
        entry.import_job = job
        entry.source_row = 7
        entry.save()
        response = request.getfixturevalue(persona).get(_record(entry.pk))
        assert response.status_code == 200
        content = response.content.decode()
        for text in ("emissions.csv", "line 7", "test-grid@v1", "Test CPU", "cpu_model", "r1", "Scope 2"):
            assert text in content
        soup = BeautifulSoup(content, "html.parser")
        assert float(soup.find("data", id="fact-kgco2e_location")["value"]) == 0.3
        assert float(soup.find("data", id="fact-codecarbon_kg")["value"]) == 0.25
        assert soup.find("a", href=reverse("import-detail", args=["acme", job.pk])) is not None
        crumbs = [li.get_text(strip=True) for li in soup.select(".breadcrumbs li")]
        assert crumbs == ["Acme Software", "ML platform", "train", "Record r1"]

    def test_it_404s_for_a_record_of_another_project(self, officer_client, ledger):
        assert officer_client.get(_record(ledger["w1"].pk, project="ml")).status_code == 404
        assert officer_client.get(_record(ledger["w1"].pk, project="web")).status_code == 200

    def test_it_404s_for_another_organisations_record(self, officer_client, ledger):
        assert officer_client.get(_record(ledger["foreign"].pk)).status_code == 404

    def test_it_404s_for_engineers_outside_the_project(self, engineer_client, ledger):
        assert engineer_client.get(_record(ledger["w1"].pk, project="web")).status_code == 404

    def test_it_rejects_outsiders(self, outsider_client, ledger):
        assert outsider_client.get(_record(ledger["r1"].pk)).status_code == 404

    def test_it_redirects_anonymous_users(self, client, ledger):
        assert client.get(_record(ledger["r1"].pk)).status_code == 302

    def test_it_escapes_hostile_attributes(self, officer_client, org, project, make_entry):
        entry = make_entry(
            org,
            project,
            HOSTILE[0],
            experiment=HOSTILE[1],
            end=utc(2025, 1, 1),
            attributes={"cpu_model": HOSTILE[0], "os": HOSTILE[1], HOSTILE[0]: "x"},
        )
        response = officer_client.get(_record(entry.pk))
        assert response.status_code == 200
        _assert_no_markup(response)


def test_every_page_refuses_other_methods(officer_client, ledger):
    for url in (_overview(), _project(), _experiment("train"), _record(ledger["r1"].pk)):
        assert officer_client.post(url).status_code == 405


def test_project_names_are_not_confused_across_organisations(outsider_client, ledger):
    # oscar's own project has the same slug "ml": he sees his figures, never acme's.
    response = outsider_client.get(_project("ml", org="globex"))
    assert response.status_code == 200
    assert _kpis(response)["energy_kwh_it"] == pytest.approx(999.0)
    assert Project.objects.filter(slug="ml").count() == 2
