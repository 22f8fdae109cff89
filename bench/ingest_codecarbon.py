"""Benchmark: a whole codecarbon import against the raw speed of parsing and bulk-loading the same file.

    python bench/ingest_codecarbon.py [--rows 100000,1000000] [--flushes 2]

Runs on the configured database (DATABASE_URL; SQLite by default; migrate first). For each size it prints rows/s
and peak resident memory of the import (store → parse → estimate → ledger committed → rollups) and of the raw path
(pandas.read_csv + executemany on SQLite or COPY on PostgreSQL into a scratch table), and their ratios. Each
measurement runs in a child process of its own, so its peak memory (VmHWM) is that of one import, as in a worker.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def peak_rss_mb() -> float:
    """High-water mark of this process's resident memory (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not available (Linux only)")


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


def child(mode: str, path: Path, project_id: int) -> None:
    """One measurement in this (fresh) process; prints a JSON line for the parent."""
    base = peak_rss_mb()
    if mode == "raw":
        result: dict[str, Any] = {"elapsed": timed_raw_load(path)}
    else:
        elapsed, job = timed_import(path, Project.objects.get(pk=project_id))
        result = {"elapsed": elapsed, "status": job.status, "new": job.records_new, "rejected": job.rows_rejected}
    print(json.dumps(result | {"base_mb": base, "peak_mb": peak_rss_mb()}))


def measure(mode: str, path: Path, project_id: int) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", mode, "--file", str(path), "--project", str(project_id)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout  # noqa: S603 - our own script
    return json.loads(out.strip().splitlines()[-1])


def bench_size(rows: int, flushes: int, org: Organisation) -> None:
    runs = rows // flushes
    content = generate_csv(
        runs=runs,
        start=dt.datetime(2025, 1, 1),
        days=365,
        flushes=flushes,
        sites=("paris-office", "berlin-rack", "gcp-belgium", "aws-virginia"),
        experiments=("a", "b", "c"),
    )
    project = Project.objects.create(organisation=org, slug=f"run-{time.time_ns()}", name="bench")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "emissions.csv"
        path.write_bytes(content)
        size_mb = len(content) / 1e6
        del content
        raw = measure("raw", path, project.pk)
        imp = measure("import", path, project.pk)
    raw_s, imp_s, raw_mb, imp_mb = raw["elapsed"], imp["elapsed"], raw["peak_mb"], imp["peak_mb"]
    print(f"database: {connection.vendor}   file: {rows:,} rows, {runs:,} runs, {size_mb:.1f} MB")
    print(f"job: {imp['status']}, {imp['new']:,} runs new, {imp['rejected']} rows rejected")
    print(f"import (parse → ledger → rollups): {imp_s:6.2f} s {rows / imp_s:9,.0f} rows/s  peak RSS {imp_mb:5.0f} MB")
    print(f"raw (read_csv + bulk load):        {raw_s:6.2f} s {rows / raw_s:9,.0f} rows/s  peak RSS {raw_mb:5.0f} MB")
    print(f"(a child process holds {imp['base_mb']:.0f} MB after start-up, before any work)")
    print(f"ratio speed import / raw: {raw_s / imp_s:.2f}  (target ≥ 0.5 on PostgreSQL)")
    print(f"ratio peak RSS import / raw: {imp_mb / raw_mb:.2f}  (target: import peak < 400 MB)")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated flush rows per file")
    parser.add_argument("--flushes", type=int, default=2, help="cumulative rows per run (default 2)")
    parser.add_argument("--child", choices=["raw", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--project", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, args.project)
        return
    org, _ = Organisation.objects.get_or_create(slug="bench", defaults={"name": "Benchmark"})
    for rows in (int(r.replace("_", "")) for r in args.rows.split(",")):
        bench_size(rows, args.flushes, org)


if __name__ == "__main__":
    main()
