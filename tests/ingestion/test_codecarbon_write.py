"""The codecarbon import's write (issue 15 item 2): full-precision audit figures, one upsert path for new and
existing organisations, ledger keys without per-row foreign-key checks, statistics refreshed after large loads."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from greenesg.accounts.models import Project
from greenesg.footprint import ledger
from greenesg.footprint.models import LedgerEntry
from ingestion import storage
from ingestion.jobs import import_job_submit
from ingestion.models import ImportJob, JobStatus
from ingestion.process import import_job_process

pytestmark = pytest.mark.django_db

HEADER = "timestamp,project_name,run_id,duration,emissions,energy_consumed,cpu_energy,country_iso_code\n"
# 17 significant digits: pandas' JSON writer kept 15 decimal places, so the small energies lost most of theirs.
CPU_KWH = 2.2247365644444193e-06
EMISSIONS = 0.12345678901234568


def _import(project: Project, text: str) -> ImportJob:
    stored = storage.store_chunks([text.encode()])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job
    import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    return job


def _row(run: str, duration: float, ts: str = "2026-11-26T17:16:20") -> str:
    return f"{ts},proj,{run},{duration!r},{EMISSIONS!r},0.5,{CPU_KWH!r},FRA\n"


def test_codecarbons_own_figures_are_kept_at_full_precision(project: Project) -> None:
    job = _import(project, HEADER + _row("run-a", 12.5))
    assert job.status == JobStatus.DONE, job.error_message
    attributes = LedgerEntry.objects.get(project=project).run_attributes
    assert attributes["cpu_energy_kwh"] == CPU_KWH  # exactly, not approximately
    assert attributes["codecarbon_kg"] == EMISSIONS
    assert attributes["implied_factor_g_per_kwh"] == EMISSIONS / 0.5 * 1000.0
    # Missing figures stay null and whole numbers stay numbers with their ".0".
    assert attributes.get("gpu_energy_kwh") is None and attributes["codecarbon_pue"] == 1.0
    assert attributes["project_name"] == "proj" and attributes["source_timezone"] == "UTC"


def test_an_organisation_with_data_takes_the_same_path_and_counts_each_key_once(
    project: Project, other_project: Project
) -> None:
    first = _import(other_project, HEADER + _row("run-x", 3.0))
    assert first.records_new == 1
    job = _import(project, HEADER + _row("run-a", 10.0) + _row("run-b", 5.0))
    assert (job.records_new, job.records_updated, job.records_unchanged) == (2, 0, 0)
    grown = _import(project, HEADER + _row("run-a", 20.0) + _row("run-b", 5.0) + _row("run-c", 1.0))
    assert (grown.records_new, grown.records_updated, grown.records_unchanged) == (1, 1, 1)
    durations = dict(LedgerEntry.objects.filter(project=project).values_list("run_id", "duration_s"))
    assert durations == {"run-a": 20.0, "run-b": 5.0, "run-c": 1.0}
    assert grown.totals["energy_facility_kwh"] > 0


def test_ledger_rows_need_no_foreign_key_check_and_still_go_with_their_project(project: Project) -> None:
    assert _import(project, HEADER + _row("run-a", 12.5)).status == JobStatus.DONE
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, ledger.LEDGER_TABLE)
    keys = {c["columns"][0] for c in constraints.values() if c["foreign_key"]}
    assert not keys & {"organisation_id", "project_id"}  # PostgreSQL would check each row at COMMIT
    project.delete()  # Django's collector cascades without the constraint
    assert not LedgerEntry.objects.exists()


def test_statistics_are_refreshed_after_a_large_load_only(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger, "ANALYZE_AFTER_ROWS", 10)
    assert _import(project, HEADER + _row("run-a", 12.5)).status == JobStatus.DONE
    postgres = connection.vendor == "postgresql"  # SQLite plans without ANALYZE statistics
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {ledger.LEDGER_TABLE}")
    assert ledger.ledger_analyze(5) is False  # a small load
    assert ledger.ledger_analyze(10) is postgres


@pytest.mark.parametrize(
    ("rows_written", "rows_known", "needed"),
    [
        (5, -1, True),  # never analysed
        (5, 0, True),  # indexes built on the empty table
        (0, 0, False),
        (19_999, 10_000, False),  # below the size worth sampling for
        (20_000, 10_000, True),
        (20_000, 500_000, False),  # below autovacuum's own share
        (50_000, 500_000, True),
    ],
)
def test_a_ledger_without_statistics_gets_them_after_any_load(
    rows_written: int, rows_known: float, needed: bool
) -> None:
    """Without statistics the classification of the next import probed the wrong index once per staged row."""
    assert ledger.analyze_needed(rows_written, rows_known=rows_known) is needed


def test_statistics_are_refreshed_once_the_import_is_done(
    project: Project, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """The sampling serves the next imports and pages: the user must not wait for it (0.4-0.5 s per large import)."""
    seen: list[tuple[int, str]] = []

    def analyze(rows_written: int) -> bool:
        seen.append((rows_written, ImportJob.objects.get(project=project).status))
        return False

    monkeypatch.setattr(ledger, "ledger_analyze", analyze)
    with django_capture_on_commit_callbacks(execute=True):
        job = _import(project, HEADER + _row("run-a", 12.5) + _row("run-b", 3.0))
    assert job.status == JobStatus.DONE
    assert seen == [(2, JobStatus.DONE)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ANALYZE statistics are PostgreSQL's")
def test_statistics_after_a_large_load_leave_out_the_per_run_attributes(project: Project) -> None:
    """ANALYZE after each large import spent a third of its time on the attributes JSON, which no query plans on
    (migration 0008); the columns the pages filter on still get their statistics."""
    assert _import(project, HEADER + _row("run-a", 12.5) + _row("run-b", 3.0)).status == JobStatus.DONE
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {ledger.LEDGER_TABLE}")
        cursor.execute("SELECT attname FROM pg_stats WHERE tablename = %s", [ledger.LEDGER_TABLE])
        analysed = {name for (name,) in cursor.fetchall()}
    assert "attributes" not in analysed
    assert {"organisation_id", "project_id", "day", "natural_key"} <= analysed


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the publication lock is a PostgreSQL advisory lock")
def test_publications_of_one_organisation_take_turns(project: Project, foreign_project: Project) -> None:
    """An import whose keys are all new is written with a plain INSERT (no conflict arbitration): that is only safe
    while no other import of the organisation publishes between its classification and its write."""
    import psycopg
    from django.db import OperationalError

    settings = connection.settings_dict
    holder = psycopg.connect(
        dbname=settings["NAME"], host=settings["HOST"], port=settings["PORT"], user=settings["USER"], autocommit=True
    )
    try:
        # Another worker publishing for the same organisation holds the lock.
        holder.execute("SELECT pg_advisory_lock(%s, %s)", [ledger._PUBLISH_LOCK, project.organisation_id])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        other = _import(foreign_project, HEADER + _row("run-x", 3.0))
        assert other.status == JobStatus.DONE  # another organisation does not wait
        with pytest.raises((OperationalError, psycopg.OperationalError), match="lock timeout"):
            _import(project, HEADER + _row("run-a", 10.0))
        assert not LedgerEntry.objects.filter(project=project).exists()
    finally:
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    job = ImportJob.objects.get(project=project)
    import_job_process(job_id=str(job.pk))  # the retry, once the other publication is over
    job.refresh_from_db()
    assert (job.status, job.records_new) == (JobStatus.DONE, 1)


def test_estimating_a_chunk_needs_no_database(project: Project, django_assert_num_queries: Any) -> None:
    """The next chunk is estimated in a second thread while the import's connection runs a COPY: that thread must
    not query (its own connection would not see the import's transaction, and would be one more per worker)."""
    from ingestion.codecarbon import pipeline
    from ingestion.codecarbon.reader import read_codecarbon_csv

    stored = storage.store_chunks([(HEADER + _row("run-a", 10.0) + _row("run-b", 5.0)).encode()])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job
    estimator = pipeline._Estimator(job)  # reads the factor registry once, here
    with open(storage.open_stored(job.stored_path), "rb") as stream:
        chunks = list(read_codecarbon_csv(stream, filename="e.csv", chunk_rows=10))
    with django_assert_num_queries(0):
        estimated = estimator.estimate(chunks[0].records, rows_read=chunks[0].rows_read, problems=[])
    assert len(estimated.frame) == 2 and estimated.frame["kgco2e_location"].notna().all()
