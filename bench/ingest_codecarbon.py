"""Benchmark: a whole codecarbon import against the raw speed of parsing and bulk-loading the same file.

    python bench/ingest_codecarbon.py [--rows 200000] [--flushes 2]

Runs on the configured database (DATABASE_URL; SQLite by default; migrate first). Prints rows/s of the
import (store → parse → estimate → ledger committed → rollups) and of the raw path (pandas.read_csv +
executemany on SQLite or COPY on PostgreSQL into a scratch table), and their ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenesg.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from greenesg.accounts.models import Organisation, Project  # noqa: E402
from ingestion import storage  # noqa: E402
from ingestion.codecarbon.synthetic import generate_csv  # noqa: E402
from ingestion.jobs import import_job_submit  # noqa: E402
from ingestion.models import ImportJob  # noqa: E402
from ingestion.process import import_job_process  # noqa: E402


def timed_import(path: Path, project: Project) -> tuple[float, ImportJob]:
    started = time.perf_counter()
    stored = storage.store_path(path)
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name=path.name, enqueue=False
    ).job
    import_job_process(job_id=str(job.pk))
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    return elapsed, job


def timed_raw_load(path: Path) -> float:
    import pandas as pd

    started = time.perf_counter()
    frame = pd.read_csv(path)
    columns = list(frame.columns)
    rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
    types = ["double precision" if pd.api.types.is_numeric_dtype(frame[c]) else "text" for c in columns]
    ddl = ", ".join(f'"{c}" {t}' for c, t in zip(columns, types, strict=True))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw")
        cursor.execute(f"CREATE TABLE bench_raw ({ddl})")
        names = ", ".join(f'"{c}"' for c in columns)
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY bench_raw ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO bench_raw ({names}) VALUES ({', '.join(['%s'] * len(columns))})", list(rows)
            )
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000, help="flush rows in the file (default 200,000)")
    parser.add_argument("--flushes", type=int, default=2, help="cumulative rows per run (default 2)")
    args = parser.parse_args()
    runs = args.rows // args.flushes
    content = generate_csv(
        runs=runs,
        start=dt.datetime(2025, 1, 1),
        days=365,
        flushes=args.flushes,
        sites=("paris-office", "berlin-rack", "gcp-belgium", "aws-virginia"),
        experiments=("a", "b", "c"),
    )
    org, _ = Organisation.objects.get_or_create(slug="bench", defaults={"name": "Benchmark"})
    project = Project.objects.create(organisation=org, slug=f"run-{int(time.time())}", name="bench")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "emissions.csv"
        path.write_bytes(content)
        rows = args.rows
        raw = timed_raw_load(path)
        elapsed, job = timed_import(path, project)
    print(f"database: {connection.vendor}   file: {rows:,} rows, {runs:,} runs, {len(content) / 1e6:.1f} MB")
    print(f"job: {job.status}, {job.records_new:,} runs new, {job.rows_rejected} rows rejected")
    print(f"import (parse → ledger committed → rollups): {elapsed:6.2f} s  {rows / elapsed:10,.0f} rows/s")
    print(f"raw (pandas.read_csv + bulk load):          {raw:6.2f} s  {rows / raw:10,.0f} rows/s")
    print(f"ratio import / raw: {raw / elapsed:.2f}  (target ≥ 0.5 on PostgreSQL)")


if __name__ == "__main__":
    main()
