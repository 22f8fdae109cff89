"""Refused files (issue 13, item 5): the threshold counts bad rows, not bad cells, and the problems that caused
a refusal are stored, so the error report of a refused import lists them (codecarbon and billing)."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from greenesg.accounts.models import Organisation, Project
from greenesg.footprint.models import LedgerEntry
from ingestion import storage
from ingestion.billing.pipeline import _decide as billing_decide
from ingestion.billing.readers.common import MAX_ROW_PROBLEMS, ReadReport, RowProblem
from ingestion.jobs import ImportRefused, import_job_submit
from ingestion.models import ImportJob, JobStatus, RowError
from ingestion.process import import_job_process
from tests.billing.conftest import cur_row, cur_text, import_file

pytestmark = pytest.mark.django_db

SAMPLE = "emissions_codecarbon_3.3.2.csv"
# Numeric columns of the codecarbon 3.3.2 header: a row can be wrong in all of them at once.
NUMERIC = ["duration", "emissions", "emissions_rate", "cpu_power", "gpu_power", "ram_power", "cpu_energy"]
NUMERIC += ["gpu_energy", "ram_energy", "energy_consumed", "water_consumed", "cpu_count", "gpu_count"]


def _codecarbon_file(sample_dir: Path, rows: int, bad: set[int]) -> bytes:
    """`rows` runs of one row each; the rows whose index is in `bad` have every numeric cell broken."""
    reader = csv.DictReader(io.StringIO((sample_dir / SAMPLE).read_text()))
    template = next(reader)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(template), lineterminator="\n")
    writer.writeheader()
    for index in range(rows):
        row = dict(template, run_id=str(uuid.UUID(int=index + 1)))
        if index in bad:
            row.update(dict.fromkeys(NUMERIC, "lots"))
        writer.writerow(row)
    return out.getvalue().encode()


def _import_codecarbon(project: Project, content: bytes) -> ImportJob:
    stored = storage.store_chunks([content])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="runs.csv", enqueue=False
    ).job
    import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    return job


def _report_lines(client: Client, job: ImportJob) -> list[list[str]]:
    response = client.get(reverse("import-rejected-csv", args=[job.organisation.slug, job.pk]))
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))[1:]


# ---------------------------------------------------------------------------------------------- codecarbon


def test_one_row_with_many_bad_cells_is_one_bad_row(project: Project, sample_dir: Path) -> None:
    job = _import_codecarbon(project, _codecarbon_file(sample_dir, rows=41, bad={7}))

    assert job.status == JobStatus.DONE, job.error_message
    assert (job.rows_read, job.rows_rejected, job.records_new) == (41, 1, 40)
    problems = RowError.objects.filter(job=job)
    assert problems.count() > 10 and set(problems.values_list("row", flat=True)) == {9}  # header + 8th row


def test_a_refused_codecarbon_file_keeps_the_problems_for_its_error_report(
    project: Project, sample_dir: Path, engineer_client: Client
) -> None:
    job = _import_codecarbon(project, _codecarbon_file(sample_dir, rows=5, bad={0, 2, 3}))

    assert job.status == JobStatus.FAILED
    assert job.error_message.startswith("3 of 5 rows are invalid")
    assert job.rows_rejected == 3
    assert LedgerEntry.objects.count() == 0
    lines = _report_lines(engineer_client, job)
    assert {int(line[0]) for line in lines} == {2, 4, 5}
    assert len(lines) == 3 * len(NUMERIC)  # every bad cell of every bad row
    page = engineer_client.get(reverse("import-detail", args=["acme", job.pk])).content.decode()
    assert reverse("import-rejected-csv", args=["acme", job.pk]) in page


def test_a_refused_import_report_is_not_reachable_by_an_outsider(
    project: Project, sample_dir: Path, outsider_client: Client, client: Client
) -> None:
    job = _import_codecarbon(project, _codecarbon_file(sample_dir, rows=3, bad={0, 1}))
    assert job.status == JobStatus.FAILED
    url = reverse("import-rejected-csv", args=["acme", job.pk])
    assert outsider_client.get(url).status_code == 404
    assert client.get(url).status_code == 302  # anonymous: to the login page


# ---------------------------------------------------------------------------------------------- billing


def _cur(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "cur.csv"
    path.write_text(cur_text(rows), encoding="utf-8")
    return path


def test_a_refused_billing_file_keeps_the_problems_for_its_error_report(
    org: Organisation, tmp_path: Path, officer_client: Client
) -> None:
    rows = [cur_row(hour=h) for h in range(20)]
    rows[3]["lineItem/UsageAmount"] = "many"
    rows[4]["lineItem/UsageStartDate"] = "yesterday"
    job = import_file(org, _cur(tmp_path, rows))

    assert job.status == JobStatus.FAILED
    assert "2 of 20 rows are invalid" in job.error_message
    assert job.rows_rejected == 2
    lines = _report_lines(officer_client, job)
    assert [(line[0], line[1], line[4]) for line in lines] == [
        ("5", "lineItem/UsageAmount", "many"),
        ("6", "lineItem/UsageStartDate", "yesterday"),
    ]


def test_a_billing_file_refused_for_a_cost_cell_lists_it(org: Organisation, tmp_path: Path) -> None:
    rows = [cur_row(hour=h) for h in range(20)]
    rows[10]["lineItem/UnblendedCost"] = "12,3,4"
    job = import_file(org, _cur(tmp_path, rows))

    assert job.status == JobStatus.FAILED and "bad cost cell" in job.error_message
    error = RowError.objects.get(job=job)
    assert (error.row, error.column, error.raw_value) == (12, "lineItem/UnblendedCost", "12,3,4")


def test_the_billing_threshold_counts_rows_past_the_stored_problem_cap() -> None:
    # 45,000 rows, 400 of them bad with 3 bad cells each: 1,200 problems, 1,000 stored, 200 only counted.
    # 400 bad rows are 0.89 % (accepted); counting the 200 unstored problems as rows made it 534 (1.19 %).
    report = ReadReport("cur.csv", rows_read=45_000, rows_rejected=400)
    for row in range(400):
        for column in ("lineItem/UsageAmount", "lineItem/UsageStartDate", "pricing/unit"):
            report.add_problem(RowProblem(row + 2, column, "bad", "bad value", "x"))
    assert (len(report.problems), report.problems_truncated) == (MAX_ROW_PROBLEMS, 200)

    billing_decide(report)  # no refusal

    report.rows_rejected = 451  # 1.002 %
    with pytest.raises(ImportRefused, match="451 of 45000 rows are invalid"):
        billing_decide(report)
