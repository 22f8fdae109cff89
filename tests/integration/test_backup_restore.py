"""Backup and restore as docs/operations.md §7 describes it (issue 13, item 9).

A real `pg_dump --format=custom` of a database holding an import, a signed report and its audit trail, restored
with `pg_restore` into a fresh database: the ledger totals, the report documents' SHA-256 (checked against the
copied files) and every audit row must come back identical.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from greenesg.accounts.models import Organisation, Project
from ingestion import storage
from ingestion.jobs import import_job_submit
from ingestion.models import JobStatus
from ingestion.process import import_job_process
from reports.esrs import services as report_services
from reports.models import Report, ReportStatus

pytestmark = pytest.mark.integration

LEDGER = (
    "SELECT count(*), sum(energy_facility_kwh), sum(kgco2e_location), sum(kgco2e_market) FROM footprint_ledgerentry"
)
ARTIFACTS = "SELECT path, sha256 FROM reports_reportartifact ORDER BY path"
REPORTS = "SELECT id, status, inputs_sha256, manifest_sha256 FROM reports_report ORDER BY id"
AUDIT = (
    "SELECT id, actor_label, action, object_type, object_id, at, before::text, after::text, reason "
    "FROM accounts_auditlog ORDER BY id"
)


def _dsn(name: str) -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _query(dsn: str, sql: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def postgres(transactional_db) -> None:
    if connection.vendor != "postgresql":
        reason = "needs PostgreSQL (set DATABASE_URL=postgres://…): it dumps and restores with pg_dump/pg_restore"
        if os.environ.get("GREENESG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"GREENESG_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (apt-get install postgresql-client)")


@pytest.fixture
def restore_database(postgres) -> Iterator[str]:
    name = f"greenesg_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(_dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_dump_restored_into_a_fresh_database_gives_back_the_same_figures_documents_and_audit_trail(
    restore_database: str, tmp_path: Path, sample_dir: Path, officer, settings
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False  # we run the report ourselves, once
    org = Organisation.objects.get(slug="acme")
    project = Project.objects.create(organisation=org, slug="ml", name="ML")
    stored = storage.store_chunks([(sample_dir / "emissions_codecarbon_3.3.2.csv").read_bytes()])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job
    import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error_message

    report = report_services.report_create(organisation=org, period_text="2026-Q4", user=officer)
    report_services.report_generate(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.READY, report.error_message
    report = report_services.report_sign(report=report, user=officer, acknowledged=["all"])
    assert Report.objects.get(pk=report.pk).status == ReportStatus.SIGNED

    source = _dsn(connection.settings_dict["NAME"])
    before = {sql: _query(source, sql) for sql in (LEDGER, ARTIFACTS, REPORTS, AUDIT)}
    assert before[LEDGER][0][0] > 0 and before[ARTIFACTS] and len(before[AUDIT]) >= 3

    # The backup: the database and the media folder, as docs/operations.md §7 says.
    dump = tmp_path / "greenesg.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", source], check=True, timeout=120)
    media_copy = tmp_path / "media-backup"
    shutil.copytree(settings.MEDIA_ROOT, media_copy)

    target = _dsn(restore_database)
    subprocess.run(["pg_restore", "--no-owner", f"--dbname={target}", str(dump)], check=True, timeout=120)

    after = {sql: _query(target, sql) for sql in (LEDGER, ARTIFACTS, REPORTS, AUDIT)}
    assert after == before
    for path, sha256 in after[ARTIFACTS]:  # every document of the restored database is in the copied files
        assert hashlib.sha256((media_copy / path).read_bytes()).hexdigest() == sha256, path
