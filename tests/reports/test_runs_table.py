"""The project page's runs table: search by run id, experiment, date range and import job; its count; and
figures shown as people read them (issue 14 items 8 and 16).

Fixture (tests/reports/conftest.py), acme/ml runs: r1 "train" 2025-01-10, r2 "train" 2025-02-03, r3 (no
experiment, aws/eu-west-1) 2025-02-20; the codecarbon task row t1 is not a run.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from greenesg.footprint.models import LedgerEntry
from ingestion.models import ImportJob
from reports.dashboards.places import OWN_HARDWARE

pytestmark = pytest.mark.django_db

URL = reverse("project-detail", args=["acme", "ml"])


def _run_ids(response) -> list[str]:
    return sorted(entry.run_id for entry in response.context["table"]["page"].object_list)


@pytest.fixture
def job(org, project) -> ImportJob:
    return ImportJob.objects.create(
        organisation=org,
        project=project,
        kind="codecarbon",
        origin="upload",
        original_name="emissions.csv",
        sha256="0" * 64,
        status="done",
        records_new=1,
    )


class TestSearch:
    def test_it_finds_runs_by_part_of_the_run_id(self, engineer_client, ledger):
        LedgerEntry.objects.filter(pk=ledger["r2"].pk).update(run_id="9f1c2e7a-aaaa")
        response = engineer_client.get(URL + "?run=9F1C")
        assert response.status_code == 200
        assert _run_ids(response) == ["9f1c2e7a-aaaa"]
        assert 'id="runs-count">1 run</span> matching the search' in response.content.decode()

    def test_it_finds_runs_by_part_of_the_experiment(self, engineer_client, ledger):
        assert _run_ids(engineer_client.get(URL + "?experiment=RAI")) == ["r1", "r2"]

    def test_it_narrows_runs_to_a_date_range(self, engineer_client, ledger):
        assert _run_ids(engineer_client.get(URL + "?start=2025-02-01&end=2025-02-10")) == ["r2"]

    def test_it_combines_the_criteria(self, engineer_client, ledger):
        assert _run_ids(engineer_client.get(URL + "?experiment=train&start=2025-01-01&end=2025-01-31")) == ["r1"]

    def test_it_shows_only_the_runs_of_an_import_job(self, engineer_client, ledger, job):
        LedgerEntry.objects.filter(pk__in=[ledger["r1"].pk, ledger["r3"].pk]).update(import_job=job)
        response = engineer_client.get(URL + f"?job={job.pk}")
        assert _run_ids(response) == ["r1", "r3"]
        page = response.content.decode()
        assert 'id="job-filter"' in page
        assert reverse("import-detail", args=["acme", job.pk]) in page

    def test_the_csv_download_keeps_the_search(self, engineer_client, ledger):
        response = engineer_client.get(URL + "?experiment=train&format=csv")
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert sorted(row["run_id"] for row in rows) == ["r1", "r2"]

    def test_sorting_keeps_the_search(self, engineer_client, ledger):
        response = engineer_client.get(URL + "?experiment=train")
        urls = [header["url"] for header in response.context["table"]["headers"]]
        assert all("experiment=train" in url for url in urls)

    def test_no_match_says_so(self, engineer_client, ledger):
        response = engineer_client.get(URL + "?run=zzz")
        assert response.status_code == 200
        assert "No codecarbon runs match the search" in response.content.decode()

    @pytest.mark.parametrize(
        "query",
        [
            "?job=not-a-uuid",
            "?run=" + "x" * 201,
            "?experiment=a%00b",
            "?run=a&run=b",
            "?start=2025-13-01",
            "?start=2025-03-01&end=2025-01-01",
        ],
    )
    def test_it_rejects_bad_search_values(self, engineer_client, ledger, query):
        assert engineer_client.get(URL + query).status_code == 400

    def test_it_asks_anonymous_to_log_in(self, client, ledger):
        assert client.get(URL + "?run=r1").status_code == 302

    def test_it_hides_the_project_from_outsiders(self, outsider_client, ledger):
        assert outsider_client.get(URL + "?run=r1").status_code == 404

    def test_another_projects_job_finds_nothing(self, engineer_client, ledger, org, other_project):
        other = ImportJob.objects.create(
            organisation=org, project=other_project, kind="codecarbon", origin="upload",
            original_name="w.csv", sha256="1" * 64, status="done",
        )  # fmt: skip
        LedgerEntry.objects.filter(pk=ledger["w1"].pk).update(import_job=other)
        assert _run_ids(engineer_client.get(URL + f"?job={other.pk}")) == []


class TestFigures:
    def test_it_counts_runs_with_thousands_separators(self, engineer_client, org, project, make_entry):
        end = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        first = make_entry(org, project, "bulk-0", end=end, energy_it_kwh=0.1, energy_facility_kwh=0.1)
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    **{
                        **{f.attname: getattr(first, f.attname) for f in LedgerEntry._meta.concrete_fields},
                        "id": None,
                        "natural_key": f"test:bulk-{i}",
                        "run_id": f"bulk-{i}",
                    }
                )
                for i in range(1, 1234)
            ]
        )
        page = engineer_client.get(URL).content.decode()
        assert 'id="runs-count">1,234 runs</span>' in page

    def test_runs_show_region_places_and_own_hardware(self, engineer_client, ledger):
        page = engineer_client.get(URL).content.decode()
        assert "eu-west-1 (Ireland)" in page  # r3 on aws
        assert f"{OWN_HARDWARE} (FRA)" in page  # r1, r2: no cloud region

    def test_the_sources_table_counts_records(self, engineer_client, ledger):
        # The column read a `records` key the breakdown did not carry, so it was always blank.
        response = engineer_client.get(URL)
        counts = {row["region"]: row["records"] for row in response.context["sources"]}
        assert counts == {"eu-west-1": 1, "": 2}
        assert '<td class="num">2</td>' in response.content.decode()

    def test_durations_read_as_hours_and_minutes(self, engineer_client, ledger):
        page = engineer_client.get(URL).content.decode()
        assert "2 h 00 min" in page  # r2: 7200 s
        assert "10 min 00 s" in page  # r1: 600 s

    def test_the_record_page_rounds_measured_values(self, engineer_client, ledger):
        LedgerEntry.objects.filter(pk=ledger["r1"].pk).update(
            duration_s=5.007742890000003,
            pue_applied=1.2000000000000002,
            attributes={"cpu_model": "Test CPU", "ram_total_size_gb": 15.600000000000001},
        )
        page = engineer_client.get(reverse("ledger-detail", args=["acme", "ml", ledger["r1"].pk])).content.decode()
        assert "(5.008 s)" in page
        assert "5.007742890000003" not in page
        assert "1.2000000000000002" not in page and "15.600000000000001" not in page
        assert f"{OWN_HARDWARE} (FRA)" in page
