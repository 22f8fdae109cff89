"""codecarbon's machine description is stored once per machine and organisation; every reader sees it merged back.

Issue 15: half of each codecarbon ledger row was the same machine description, parsed as JSON on every import. These
tests pin that an import shares one profile per machine, never across organisations, and that the record page, the
runs table, the engineer view and the efficiency advisor read the same values as before.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.urls import reverse

from greenesg.accounts.models import Project
from greenesg.footprint.machines import MachineIds
from greenesg.footprint.models import LedgerEntry, MachineProfile, run_attributes_merged
from ingestion import storage
from ingestion.codecarbon.synthetic import generate_csv
from ingestion.jobs import import_job_submit
from ingestion.models import ImportJob, JobStatus
from ingestion.process import import_job_process
from reports.dashboards import engineer
from steering import recommendations

pytestmark = pytest.mark.django_db

SAMPLE = "emissions_codecarbon_3.3.2.csv"
RUN = "869595a9-7f97-4f6c-bdea-b854a62f3c00"  # its last row: 5.0077 s, 99.5 → 49.75 % CPU


def _import(project: Project, content: bytes) -> ImportJob:
    stored = storage.store_chunks([content])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job
    import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error_message
    return job


def _run(project: Project) -> LedgerEntry:
    return LedgerEntry.objects.select_related("machine").get(project=project, run_id=RUN)


def test_runs_on_one_machine_share_its_profile(project: Project) -> None:
    content = generate_csv(runs=60, start=dt.datetime(2026, 1, 1), days=3, flushes=1, sites=("paris-office",))
    _import(project, content)
    runs = LedgerEntry.objects.filter(project=project, source="codecarbon")
    # The generator draws each run's machine from a handful of hardware and tracking modes.
    profiles = MachineProfile.objects.count()
    assert runs.count() == 60 and 1 <= profiles <= 8
    assert set(runs.values_list("machine_id", flat=True)) == set(MachineProfile.objects.values_list("pk", flat=True))


def test_an_import_keeps_the_machine_apart_and_the_run_figures_in_columns(project: Project, sample_dir: Path) -> None:
    _import(project, (sample_dir / SAMPLE).read_bytes())
    # The sample's four runs ran in four places (country, PUE, tracking mode): four descriptions.
    assert MachineProfile.objects.count() == 4
    entry = _run(project)
    assert entry.attributes == {"project_name": "greenesg-sample", "task_name": ""}
    assert entry.machine is not None
    assert entry.machine.attributes["cpu_model"] == "AMD EPYC" and entry.machine.attributes["cpu_count"] == 2.0
    assert entry.cpu_utilization_percent == 49.75 and entry.ram_used_gb == 0.6392030715942383
    assert entry.source_energy_kwh == 3.832985876131817e-05 and entry.source_kgco2e == 2.1479669551255092e-06
    merged = entry.run_attributes
    assert merged["cpu_model"] == "AMD EPYC" and merged["os"].startswith("Linux-6.18.44")
    assert merged["cpu_energy_kwh"] == 1.083235641687365e-05
    assert merged["implied_factor_g_per_kwh"] == 2.1479669551255092e-06 / 3.832985876131817e-05 * 1000.0


def test_a_machine_is_never_shared_with_another_organisation(
    project: Project, foreign_project: Project, sample_dir: Path
) -> None:
    content = (sample_dir / SAMPLE).read_bytes()
    _import(project, content)
    _import(project, content.replace(b"greenesg-sample", b"again"))  # the same machine again: no new profile
    _import(foreign_project, content)
    digests = {
        organisation: set(MachineProfile.objects.filter(organisation_id=organisation).values_list("digest", flat=True))
        for organisation in (project.organisation_id, foreign_project.organisation_id)
    }
    # The sample's four descriptions, a profile of its own in each organisation, none added by the second import.
    assert MachineProfile.objects.count() == 8
    assert (
        len(digests[project.organisation_id]) == 4
        and digests[project.organisation_id] == digests[foreign_project.organisation_id]
    )
    assert _run(foreign_project).machine.organisation_id == foreign_project.organisation_id  # type: ignore[union-attr]


def test_machine_ids_create_each_description_once(project: Project, django_assert_num_queries) -> None:
    import pandas as pd

    ids = MachineIds(project.organisation_id)
    first = ids.ids(pd.Series(['{"os":"a"}', '{"os":"b"}', '{"os":"a"}']))
    assert first[0] == first[2] != first[1]
    with django_assert_num_queries(0):  # remembered for the rest of the import
        again = ids.ids(pd.Series(['{"os":"b"}']))
    assert again[0] == first[1]
    # Another import (another MachineIds) finds the existing profiles instead of duplicating them.
    assert list(MachineIds(project.organisation_id).ids(pd.Series(['{"os":"a"}']))) == [first[0]]
    assert MachineProfile.objects.count() == 2


def test_rows_imported_before_the_machine_table_read_the_same() -> None:
    """Older rows hold the whole description and the figures in their own JSON attributes."""
    old = {"cpu_model": "X", "cpu_energy_kwh": 1.5, "codecarbon_kg": 0.2, "implied_factor_g_per_kwh": 400.0}
    assert run_attributes_merged(old, None, {"cpu_energy_kwh": None}, None, None) == old
    new = run_attributes_merged({"project_name": "p"}, {"cpu_model": "X"}, {"cpu_energy_kwh": 1.5}, 0.5, 0.2)
    assert new == {"cpu_model": "X", "project_name": "p", "cpu_energy_kwh": 1.5, **_source(0.5, 0.2)}


def _source(kwh: float, kg: float) -> dict[str, float]:
    return {"energy_consumed_kwh": kwh, "codecarbon_kg": kg, "implied_factor_g_per_kwh": kg / kwh * 1000.0}


def test_the_record_page_and_the_runs_table_show_the_machine(
    officer_client, org, project: Project, sample_dir: Path
) -> None:
    _import(project, (sample_dir / SAMPLE).read_bytes())
    entry = _run(project)
    page = officer_client.get(reverse("ledger-detail", args=[org.slug, project.slug, entry.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("AMD EPYC", "cpu_model", "Linux-6.18.44", "cpu_utilization_percent", "49.75", "greenesg-sample"):
        assert text in html, text
    runs = officer_client.get(
        reverse("project-detail", args=[org.slug, project.slug]) + "?start=2026-11-01&end=2026-11-30"
    )
    assert runs.status_code == 200 and "AMD EPYC" in runs.content.decode()


def test_the_engineer_view_and_the_advisor_read_the_machine_and_the_run_figures(
    project: Project, sample_dir: Path
) -> None:
    _import(project, (sample_dir / SAMPLE).read_bytes())
    rows = list(
        LedgerEntry.objects.filter(project=project).values_list(
            "machine__attributes", "attributes", "provider", "region", "country_iso"
        )
    )
    assert engineer._hardware(rows)["cpu"].startswith("AMD EPYC")
    entry = _run(project)
    runs = recommendations._runs(project, entry.day, entry.day)
    run = next(r for r in runs if r.run_id == RUN)
    assert (run.cpu_utilization, run.cpu_kwh, run.ram_used_gb) == (49.75, 1.083235641687365e-05, 0.6392030715942383)
