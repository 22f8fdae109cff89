"""The report rollup stays equal to a regrouping of the ledger after every path that changes the ledger."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from greenesg.accounts.models import Project
from greenesg.footprint.models import LedgerDaily, LedgerEntry, LedgerReportMonthly
from greenesg.footprint.report_rollup import report_rollup_refresh
from ingestion import storage
from ingestion.jobs import import_job_submit
from ingestion.models import JobStatus
from ingestion.process import import_job_process

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "codecarbon"
RUN = "c10506f5-e7a4-433f-ad17-e2d63d9f10b3"


def _import(project: Project, content: bytes, name: str) -> None:
    submission = import_job_submit(
        project=project,
        kind="codecarbon",
        origin="cli",
        stored=storage.store_chunks([content]),
        original_name=name,
        enqueue=False,
    )
    import_job_process(job_id=str(submission.job.pk))
    submission.job.refresh_from_db()
    assert submission.job.status == JobStatus.DONE, submission.job.error_message


def _rollup(project: Project) -> list[tuple[Any, ...]]:
    rows = LedgerReportMonthly.objects.filter(project=project)
    return sorted(rows.values_list("month", "source", "records", "energy_facility_kwh"), key=str)


def _regrouped(project: Project) -> list[tuple[Any, ...]]:
    report_rollup_refresh(
        organisation_id=project.organisation_id,
        project_ids=[project.pk],
        first_day=dt.date(2000, 1, 1),
        last_day=dt.date(2100, 12, 31),
    )
    return _rollup(project)


def _one_line(path: Path, line: int, replace: dict[str, str]) -> bytes:
    lines = path.read_text(encoding="utf-8").splitlines()
    row = lines[line]
    for old, new in replace.items():
        row = row.replace(old, new)
    return (lines[0] + "\n" + row + "\n").encode()


def test_a_run_file_that_excludes_earlier_task_rows_of_another_month_refreshes_their_month(project: Project) -> None:
    # The task ends just before midnight on 31 January, its run just after: the run's file (February) takes the
    # January task rows out of the inventory, and January's rollup must follow.
    tasks = _one_line(FIXTURES / "emissions_3_3_2_tasks.csv", 1, {"2026-11-26T17:16:43": "2026-01-31T23:50:00"})
    _import(project, tasks, "tasks.csv")
    assert LedgerEntry.objects.filter(project=project, source="codecarbon_task", in_inventory=True).exists()
    run = _one_line(
        FIXTURES / "emissions_3_3_2.csv",
        1,
        {"2026-11-26T17:16:20": "2026-02-01T00:10:00", "869595a9-7f97-4f6c-bdea-b854a62f3c00": RUN},
    )
    _import(project, run, "run.csv")
    assert not LedgerEntry.objects.filter(project=project, source="codecarbon_task", in_inventory=True).exists()
    # The dashboards' daily rollup no longer counts the task (it did before the fix) ...
    assert not LedgerDaily.objects.filter(project=project, source="codecarbon_task", in_inventory=True).exists()
    # ... and the report rollup holds what regrouping the ledger gives: the run in February, no task in January.
    assert _rollup(project) == _regrouped(project)
    assert [month for month, *_ in _rollup(project)] == [dt.date(2026, 2, 1)]
