"""Task rows leave the inventory when their run is counted, whichever file comes first (issue 15 item 3).

The import applies the rule from its staged rows instead of re-reading the project; after every import the
whole-project rule (`ledger.task_rows_exclude_counted_runs`, the old computation) must find nothing left to change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db.models import Sum

from greenesg.accounts.models import Project
from greenesg.footprint import ledger
from greenesg.footprint.models import LedgerDaily, LedgerEntry
from ingestion import storage
from ingestion.jobs import import_job_submit
from ingestion.models import ImportJob, JobStatus
from ingestion.process import import_job_process

pytestmark = pytest.mark.django_db

TASK_RUN = "c10506f5-e7a4-433f-ad17-e2d63d9f10b3"  # the run of both task rows in the tasks sample
HEADER = "timestamp,project_name,run_id,duration,emissions,energy_consumed,country_iso_code\n"


def _import(project: Project, content: bytes, name: str) -> ImportJob:
    stored = storage.store_chunks([content])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name=name, enqueue=False
    ).job
    import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error_message
    return job


def _tasks(project: Project, sample_dir: Path) -> None:
    _import(project, (sample_dir / "emissions_codecarbon_3.3.2_tasks.csv").read_bytes(), "tasks.csv")


def _runs(project: Project, *runs: str, duration: float = 10.0) -> None:
    rows = "".join(f"2026-11-26T17:17:00,p,{run},{duration},0.001,0.01,FRA\n" for run in runs)
    _import(project, (HEADER + rows).encode(), "runs.csv")


def _in_inventory(project: Project) -> dict[str, bool]:
    return dict(LedgerEntry.objects.filter(project=project).values_list("natural_key", "in_inventory"))


def _assert_the_whole_project_rule_changes_nothing(project: Project) -> None:
    before = _in_inventory(project)
    ledger.task_rows_exclude_counted_runs(organisation_id=project.organisation_id, project_ids=[project.pk])
    assert _in_inventory(project) == before


def _task_flags(project: Project) -> list[bool]:
    return list(
        LedgerEntry.objects.filter(project=project, source="codecarbon_task").values_list("in_inventory", flat=True)
    )


def test_task_rows_imported_after_their_run_leave_the_inventory(project: Project, sample_dir: Path) -> None:
    _runs(project, TASK_RUN, "other-run")
    _tasks(project, sample_dir)
    assert _task_flags(project) == [False, False]
    _assert_the_whole_project_rule_changes_nothing(project)


def test_task_rows_imported_before_their_run_leave_it_when_the_run_arrives(project: Project, sample_dir: Path) -> None:
    _tasks(project, sample_dir)
    assert _task_flags(project) == [True, True]  # no run yet: the tasks are the only record of that energy
    _runs(project, "other-run")
    assert _task_flags(project) == [True, True]
    _runs(project, TASK_RUN)
    assert _task_flags(project) == [False, False]
    _assert_the_whole_project_rule_changes_nothing(project)
    # The rollup the dashboards read agrees with the ledger.
    inventory = LedgerEntry.objects.filter(project=project, in_inventory=True).aggregate(kwh=Sum("energy_it_kwh"))
    daily = LedgerDaily.objects.filter(project=project, in_inventory=True).aggregate(kwh=Sum("energy_it_kwh"))
    assert daily["kwh"] == pytest.approx(inventory["kwh"])


def test_tasks_of_another_projects_run_stay_in_the_inventory(
    project: Project, other_project: Project, sample_dir: Path
) -> None:
    _tasks(project, sample_dir)
    _runs(other_project, TASK_RUN)  # the same run id, but another project's run
    assert _task_flags(project) == [True, True]
    _tasks(other_project, sample_dir)
    assert _task_flags(other_project) == [False, False]
    _assert_the_whole_project_rule_changes_nothing(project)
    _assert_the_whole_project_rule_changes_nothing(other_project)


def test_a_longer_reimport_of_the_tasks_keeps_them_out(project: Project, sample_dir: Path) -> None:
    _runs(project, TASK_RUN)
    _tasks(project, sample_dir)
    grown = (sample_dir / "emissions_codecarbon_3.3.2_tasks.csv").read_text().replace(",1.0010696679999853,", ",9.5,")
    job = _import(project, grown.encode(), "tasks-grown.csv")
    assert job.records_updated == 1  # the upsert rewrote the longer task row, in_inventory with it
    assert _task_flags(project) == [False, False]
    _assert_the_whole_project_rule_changes_nothing(project)
