"""The import pipeline end to end on the database: accounting rules, idempotency and faults."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db.models import Sum
from django.utils import timezone

from greenesg.accounts.models import Infrastructure, Project
from greenesg.footprint.models import EmissionFactor, LedgerDaily, LedgerEntry
from ingestion import storage
from ingestion.codecarbon.synthetic import generate_csv
from ingestion.jobs import import_job_claim, import_job_reconcile, import_job_submit
from ingestion.models import ImportJob, JobStatus, RowError
from ingestion.process import import_job_process

pytestmark = pytest.mark.django_db

SAMPLE_FRA_RUN = "869595a9-7f97-4f6c-bdea-b854a62f3c00"


def _import(project: Project, content: bytes, name: str = "emissions.csv") -> ImportJob:
    stored = storage.store_chunks([content])
    submission = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name=name, enqueue=False
    )
    if submission.created:
        import_job_process(job_id=str(submission.job.pk))
    submission.job.refresh_from_db()
    return submission.job


def _sample(sample_dir: Path, name: str = "emissions_codecarbon_3.3.2.csv") -> bytes:
    return (sample_dir / name).read_bytes()


def _runs(project: Project) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(project=project, source="codecarbon").order_by("period_end"))


def test_the_sample_is_counted_once_per_run(project: Project, sample_dir: Path) -> None:
    job = _import(project, _sample(sample_dir))
    assert job.status == JobStatus.DONE, job.error_message
    assert (job.rows_read, job.records_new, job.rows_rejected) == (5, 4, 0)
    fra = LedgerEntry.objects.get(project=project, run_id=SAMPLE_FRA_RUN)
    # The last cumulative row of the run, never the sum of its two rows.
    assert fra.duration_s == pytest.approx(5.007742890000003)
    assert fra.run_attributes["energy_consumed_kwh"] == pytest.approx(3.832985876131817e-05)
    assert fra.source_row == 3
    assert fra.import_job_id == job.pk


def test_emissions_are_recomputed_with_our_registry_and_codecarbons_figure_is_kept(
    project: Project, sample_dir: Path
) -> None:
    Project.objects.filter(pk=project.pk).update(site_pue=1.0)
    project.refresh_from_db()
    _import(project, _sample(sample_dir))
    fra = LedgerEntry.objects.get(project=project, run_id=SAMPLE_FRA_RUN)
    factor = EmissionFactor.objects.get(pk=fra.factor_id)
    assert factor.zone == "FRA"
    assert fra.energy_facility_kwh == pytest.approx(3.832985876131817e-05)
    assert fra.kgco2e_location == pytest.approx(3.832985876131817e-05 * factor.g_co2e_per_kwh / 1000)
    assert fra.run_attributes["codecarbon_kg"] == pytest.approx(2.1479669551255092e-06)
    assert fra.run_attributes["implied_factor_g_per_kwh"] == pytest.approx(56.039, abs=0.01)
    assert fra.factor_version.startswith("grid-country-owid")
    assert "mb_fallback_grid_average" in fra.flags


def test_on_cloud_runs_are_scope_3_cloud_and_own_hardware_is_scope_2(project: Project, sample_dir: Path) -> None:
    _import(project, _sample(sample_dir))
    scopes = {(e.country_iso, e.provider): (e.scope, e.category) for e in _runs(project)}
    assert scopes[("FRA", "")] == (2, "")
    assert scopes[("DEU", "")] == (2, "")
    assert scopes[("BEL", "gcp")] == (3, "1.1")


def test_the_asset_register_overrides_codecarbons_on_cloud_flag(project: Project, sample_dir: Path) -> None:
    Project.objects.filter(pk=project.pk).update(infrastructure=Infrastructure.CLOUD)
    project.refresh_from_db()
    _import(project, _sample(sample_dir))
    assert {(e.scope, e.category) for e in _runs(project)} == {(3, "1.1")}


def test_pue_from_codecarbon_is_removed_for_it_energy(project: Project, sample_dir: Path) -> None:
    _import(project, _sample(sample_dir))
    deu = LedgerEntry.objects.get(project=project, country_iso="DEU")
    assert deu.energy_it_kwh == pytest.approx(3.2457385887821166e-05 / 1.4)
    assert deu.energy_facility_kwh == pytest.approx(3.2457385887821166e-05)
    assert deu.water_l == pytest.approx(5.842329459807809e-05)


def test_the_same_file_twice_is_already_imported_and_changes_nothing(project: Project, sample_dir: Path) -> None:
    first = _import(project, _sample(sample_dir))
    before = list(LedgerEntry.objects.values_list("natural_key", "updated_at"))
    stored = storage.store_chunks([_sample(sample_dir)])
    second = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="again.csv", enqueue=False
    )
    assert not second.created
    assert second.job.pk == first.pk
    assert list(LedgerEntry.objects.values_list("natural_key", "updated_at")) == before
    assert ImportJob.objects.count() == 1
    assert not (storage.imports_root() / stored.relative_path).exists()


def test_a_grown_file_adds_only_the_new_runs_and_longer_runs_replace(project: Project) -> None:
    start = dt.datetime(2026, 3, 1)
    small = generate_csv(runs=5, start=start, days=3, flushes=2)
    _import(project, small)
    assert LedgerEntry.objects.filter(project=project).count() == 5
    total_before = LedgerEntry.objects.aggregate(s=Sum("energy_facility_kwh"))["s"]
    # Same five runs with a third, later cumulative flush each, plus three new runs.
    grown = (
        generate_csv(runs=5, start=start, days=3, flushes=3)
        + generate_csv(runs=3, start=start, days=3, flushes=2, seed=99).split(b"\n", 1)[1]
    )
    job = _import(project, grown)
    assert (job.records_new, job.records_updated, job.records_unchanged) == (3, 0, 5)
    assert LedgerEntry.objects.filter(project=project).count() == 8
    assert LedgerEntry.objects.aggregate(s=Sum("energy_facility_kwh"))["s"] > total_before


def test_a_run_seen_again_with_a_longer_duration_replaces_its_values(project: Project, sample_dir: Path) -> None:
    lines = _sample(sample_dir).decode().splitlines()
    header, first_flush, second_flush = lines[0], lines[1], lines[2]
    job = _import(project, f"{header}\n{first_flush}\n".encode())
    entry = LedgerEntry.objects.get(project=project, run_id=SAMPLE_FRA_RUN)
    assert entry.duration_s == pytest.approx(3.0022337249999964)
    later = _import(project, f"{header}\n{second_flush}\n".encode(), name="emissions.csv.bak")
    entry.refresh_from_db()
    assert later.records_updated == 1
    assert entry.duration_s == pytest.approx(5.007742890000003)
    assert entry.import_job_id == later.pk
    # The earlier (shorter) row arriving again changes nothing.
    again = _import(project, f"{header}\n{first_flush}\n\n".encode())
    entry.refresh_from_db()
    assert again.records_unchanged == 1
    assert entry.duration_s == pytest.approx(5.007742890000003)
    assert job.pk != later.pk


def test_rollups_equal_the_ledger(project: Project) -> None:
    _import(project, generate_csv(runs=40, start=dt.datetime(2026, 1, 1), days=60))
    ledger = LedgerEntry.objects.filter(project=project).aggregate(
        e=Sum("energy_facility_kwh"), k=Sum("kgco2e_location")
    )
    daily = LedgerDaily.objects.filter(project=project).aggregate(
        e=Sum("energy_facility_kwh"), k=Sum("kgco2e_location")
    )
    assert daily["e"] == pytest.approx(ledger["e"])
    assert daily["k"] == pytest.approx(ledger["k"])


def test_task_rows_never_add_to_their_runs(project: Project, sample_dir: Path) -> None:
    job = _import(project, _sample(sample_dir, "emissions_codecarbon_3.3.2_tasks.csv"), name="tasks.csv")
    assert job.status == JobStatus.DONE, job.error_message
    tasks = LedgerEntry.objects.filter(project=project, source="codecarbon_task")
    assert tasks.count() == 2
    assert all(t.in_inventory for t in tasks)


def test_host_timezone_converts_the_window_to_utc(project: Project, sample_dir: Path) -> None:
    Project.objects.filter(pk=project.pk).update(host_timezone="Europe/Paris")
    project.refresh_from_db()
    _import(project, _sample(sample_dir))
    fra = LedgerEntry.objects.get(project=project, run_id=SAMPLE_FRA_RUN)
    assert fra.period_end == dt.datetime(2026, 11, 26, 16, 16, 22, tzinfo=dt.UTC)
    assert "timezone_assumed" not in fra.flags


def test_without_a_host_timezone_utc_is_assumed_and_flagged(project: Project, sample_dir: Path) -> None:
    _import(project, _sample(sample_dir))
    fra = LedgerEntry.objects.get(project=project, run_id=SAMPLE_FRA_RUN)
    assert fra.period_end == dt.datetime(2026, 11, 26, 17, 16, 22, tzinfo=dt.UTC)
    assert "timezone_assumed" in fra.flags


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"<html><body>Not Found</body></html>\n", "HTML"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip"),
        (b"timestamp,run_id,duration\n2026-01-01T00:00:00,a,3\n", "energy_consumed"),
        (
            "timestamp,run_id,duration,energy_consumed,country_name\n2026-01-01T00:00:00,a,3,0.1,Fran\xe7e\n".encode(
                "latin-1"
            ),
            "",
        ),
    ],
    ids=["empty", "html", "gzip", "missing-column", "not-utf8"],
)
def test_a_structurally_bad_file_is_refused_with_nothing_written(
    project: Project, content: bytes, message: str
) -> None:
    job = _import(project, content, name="bad.csv")
    assert job.status == JobStatus.FAILED
    assert message in job.error_message
    assert job.error_message
    assert LedgerEntry.objects.count() == 0
    assert RowError.objects.count() == 0


def test_a_few_bad_rows_keep_the_good_rows_and_list_the_bad_ones(project: Project, sample_dir: Path) -> None:
    lines = _sample(sample_dir).decode().splitlines()
    broken = lines[3].split(",")
    broken[13] = "lots"  # energy_consumed
    content = "\n".join([lines[0], lines[1], lines[2], ",".join(broken), lines[4]]) + "\n"
    job = _import(project, content.encode())
    assert job.status == JobStatus.DONE
    assert (job.records_new, job.rows_rejected) == (2, 1)
    error = RowError.objects.get(job=job)
    assert (error.row, error.column, error.raw_value) == (4, "energy_consumed", "lots")


def test_a_file_with_mostly_bad_rows_is_refused_whole(project: Project, sample_dir: Path) -> None:
    lines = _sample(sample_dir).decode().splitlines()
    bad = [line.replace(",N,", ",maybe,").replace(",Y,", ",maybe,") for line in lines[1:4]]
    job = _import(project, ("\n".join([lines[0], *bad, lines[4]]) + "\n").encode())
    assert job.status == JobStatus.FAILED
    assert "refused" in job.error_message
    assert LedgerEntry.objects.count() == 0


def test_processing_a_job_twice_has_one_effect(project: Project, sample_dir: Path) -> None:
    job = _import(project, _sample(sample_dir))
    finished = job.finished_at
    result = import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    assert not result.claimed
    assert (job.attempts, job.finished_at) == (1, finished)
    assert LedgerEntry.objects.count() == 4


def test_a_live_lease_blocks_a_second_claim_and_an_expired_one_is_taken_over(
    project: Project, sample_dir: Path
) -> None:
    stored = storage.store_chunks([_sample(sample_dir)])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job
    assert import_job_claim(job_id=str(job.pk)).claimed
    second = import_job_claim(job_id=str(job.pk))
    assert not second.claimed and second.retry_in > 0
    ImportJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    result = import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    assert result.claimed
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)


def test_a_job_whose_worker_keeps_dying_fails_after_the_attempt_cap(
    project: Project, sample_dir: Path, settings
) -> None:
    stored = storage.store_chunks([_sample(sample_dir)])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        attempts=settings.IMPORT_MAX_ATTEMPTS,
        lease_until=timezone.now() - dt.timedelta(seconds=1),
    )
    import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "gave up" in job.error_message
    assert LedgerEntry.objects.count() == 0


def test_the_reconciler_republishes_lost_and_abandoned_jobs(
    project: Project, sample_dir: Path, settings, django_capture_on_commit_callbacks
) -> None:
    stored = storage.store_chunks([_sample(sample_dir)])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job
    assert import_job_reconcile() == []  # fresh pending jobs are left alone
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    assert import_job_reconcile() == [str(job.pk)]  # eager Celery in tests: processed right away
    job.refresh_from_db()
    assert job.status == JobStatus.DONE


def test_a_failed_import_can_be_submitted_again(project: Project) -> None:
    failed = _import(project, b"", name="empty.csv")
    assert failed.status == JobStatus.FAILED
    again = _import(project, b"", name="empty.csv")
    assert again.pk == failed.pk
    assert again.status == JobStatus.FAILED and again.attempts == 1  # retried once more, same verdict
