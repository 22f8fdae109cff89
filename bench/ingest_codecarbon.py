"""Benchmark: a whole codecarbon import against the raw speed of parsing and bulk-loading the same file.

    python bench/ingest_codecarbon.py [--rows 100000,1000000] [--flushes 2]

Runs on the configured database (DATABASE_URL; SQLite by default; migrate first), into an organisation that
already has ledger data (a seed import runs first when it has none). For each size it prints rows/s and peak
resident memory of the import, of the raw path (pandas.read_csv + executemany on SQLite or COPY on PostgreSQL into a
scratch table) and, on PostgreSQL, of the floor (the file streamed straight into COPY … FORMAT csv of a scratch text
table), and the ratios to both. On PostgreSQL it also prints the ledger floor: the rows the import wrote, already
estimated, COPYed into an empty table with the ledger's columns and indexes (the least that storing them costs the
database), and everywhere the read floor: the import's own parse, reduction and estimate of the file with nothing
written (the least its Python side costs). Each measurement runs in a child process of its own, so its peak memory
(VmHWM) is that of one import, as in a worker.

The import's time is its time to DONE: store → parse → estimate → ledger, rollups and job row committed, the moment
the first after-import hook starts. The ratios are computed from it. The after-import hooks (budget checks, advice,
the dashboards' warm-up) and the refresh of the planner's statistics run after that commit, grow with the organisation
rather than with the file and are another engineer's cost: they are timed and printed on their own lines, never in a
ratio.
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


def hooks_timed(spent: dict[str, float]) -> None:
    """Time each after-import hook by name, and note when the first one starts: the import's commit."""
    from ingestion import hooks

    def timed(hook: Any) -> Any:
        def run(event: Any) -> None:
            started = time.perf_counter()
            spent.setdefault("committed_at", started)
            try:
                hook(event)
            finally:
                spent[hook.__name__] = spent.get(hook.__name__, 0.0) + time.perf_counter() - started

        return run

    hooks.after_import_hooks[:] = [timed(hook) for hook in hooks.after_import_hooks]

    # The planner statistics are refreshed after the commit too (ingestion/codecarbon/pipeline.py): timed apart.
    from greenesg.footprint import ledger

    analyze = ledger.ledger_analyze

    def analyze_timed(rows_written: int) -> bool:
        started = time.perf_counter()
        try:
            return analyze(rows_written)
        finally:
            spent["statistics (ANALYZE)"] = time.perf_counter() - started

    ledger.ledger_analyze = analyze_timed


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


def timed_floor_load(path: Path) -> float:
    """The file's bytes streamed into COPY … FORMAT csv of an all-text scratch table: the server's own parse and
    write of the same rows, nothing done in Python."""
    started = time.perf_counter()
    with open(path, "rb") as stream:
        header = stream.readline().decode("utf-8").strip().split(",")
        ddl = ", ".join(f'"{c}" text' for c in header)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_floor")
            cursor.execute(f"CREATE TABLE bench_floor ({ddl})")
            with cursor.cursor.copy("COPY bench_floor FROM STDIN (FORMAT csv)") as copy:
                while block := stream.read(1 << 20):
                    copy.write(block)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor")
    return elapsed


def timed_ledger_floor(project_id: int) -> tuple[float, int]:
    """The database's least cost of storing the import's ledger rows: the rows the import wrote, already estimated
    and formatted (exported as CSV first, not timed), COPYed into an empty table with the ledger's columns, indexes
    and constraints. A lower bound: the real ledger's indexes are larger, and the import must also parse, estimate,
    reduce, classify and roll up."""
    from greenesg.footprint.ledger import LEDGER_TABLE

    with tempfile.TemporaryDirectory() as folder, connection.cursor() as cursor:
        rows_csv = Path(folder) / "ledger.csv"
        with (
            open(rows_csv, "wb") as out,
            cursor.cursor.copy(
                f"COPY (SELECT * FROM {LEDGER_TABLE} WHERE project_id = %s) TO STDOUT (FORMAT csv)", [project_id]
            ) as copy,
        ):
            for block in copy:
                out.write(block)
        cursor.execute("DROP TABLE IF EXISTS bench_ledger_floor")
        cursor.execute(f"CREATE TABLE bench_ledger_floor (LIKE {LEDGER_TABLE} INCLUDING ALL)")
        started = time.perf_counter()
        with transaction.atomic(), open(rows_csv, "rb") as stream:
            with cursor.cursor.copy("COPY bench_ledger_floor FROM STDIN (FORMAT csv)") as copy:
                while block := stream.read(1 << 20):
                    copy.write(block)
        elapsed = time.perf_counter() - started
        cursor.execute("SELECT COUNT(*) FROM bench_ledger_floor")
        rows = int(cursor.fetchone()[0])
        cursor.execute("DROP TABLE bench_ledger_floor")
    return elapsed, rows


def timed_read_floor(path: Path, project_id: int) -> float:
    """The import's own reading and estimating of the file (the pipeline's reading thread: parse, validate, reduce
    per run, estimate, machine descriptions), with nothing written: the Python side's least cost."""
    from ingestion.codecarbon.pipeline import READ_CHUNK_ROWS, _Estimator
    from ingestion.codecarbon.reader import read_codecarbon_csv

    project = Project.objects.get(pk=project_id)
    # An unsaved job: submitting the same file again would return the measured import's own job (one job per
    # content), and deleting it afterwards cut every ledger row of that import loose from its job (an UPDATE of
    # all of them, leaving as many dead rows for the next size's import to wade through).
    job = ImportJob(organisation_id=project.organisation_id, project=project, kind="codecarbon")
    estimator = _Estimator(job)  # reads the factor registry, as the import does before its first chunk
    started = time.perf_counter()
    with open(path, "rb") as stream:
        for chunk in read_codecarbon_csv(stream, filename=path.name, chunk_rows=READ_CHUNK_ROWS):
            estimator.estimate(chunk.records, rows_read=chunk.rows_read, problems=chunk.problems)
    return time.perf_counter() - started


def child(mode: str, path: Path, project_id: int) -> None:
    """One measurement in this (fresh) process; prints a JSON line for the parent."""
    base = peak_rss_mb()
    if mode == "raw":
        result: dict[str, Any] = {"elapsed": timed_raw_load(path)}
    elif mode == "floor":
        result = {"elapsed": timed_floor_load(path)}
    elif mode == "read-floor":
        result = {"elapsed": timed_read_floor(path, project_id)}
    elif mode == "ledger-floor":
        elapsed, rows = timed_ledger_floor(project_id)
        result = {"elapsed": elapsed, "rows": rows}
    else:
        spent: dict[str, float] = {}
        hooks_timed(spent)
        started = time.perf_counter()
        elapsed, job = timed_import(path, Project.objects.get(pk=project_id))
        # No hook ran (a refused file): the import ends with its call.
        done_s = spent.pop("committed_at", started + elapsed) - started
        result = {"elapsed": elapsed, "done_s": done_s, "hooks": spent, "status": job.status, "new": job.records_new}
        result["rejected"] = job.rows_rejected
    print(json.dumps(result | {"base_mb": base, "peak_mb": peak_rss_mb()}))


def measure(mode: str, path: Path, project_id: int) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", mode, "--file", str(path), "--project", str(project_id)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout  # noqa: S603 - our own script
    return json.loads(out.strip().splitlines()[-1])


def synthetic_file(rows: int, flushes: int) -> bytes:
    return generate_csv(
        runs=rows // flushes,
        start=dt.datetime(2025, 1, 1),
        days=365,
        flushes=flushes,
        sites=("paris-office", "berlin-rack", "gcp-belgium", "aws-virginia"),
        experiments=("a", "b", "c"),
    )


def seed_organisation(org: Organisation) -> int:
    """Imports always meet existing data in production: give the organisation some before the first measurement."""
    from greenesg.footprint.models import LedgerEntry

    if not LedgerEntry.objects.filter(organisation=org).exists():
        project = Project.objects.create(organisation=org, slug=f"seed-{time.time_ns()}", name="seed")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "seed.csv"
            path.write_bytes(synthetic_file(20_000, 2))
            timed_import(path, project)
    return LedgerEntry.objects.filter(organisation=org).count()


def bench_size(rows: int, flushes: int, org: Organisation) -> None:
    existing = seed_organisation(org)
    content = synthetic_file(rows, flushes)
    project = Project.objects.create(organisation=org, slug=f"run-{time.time_ns()}", name="bench")
    postgres = connection.vendor == "postgresql"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "emissions.csv"
        path.write_bytes(content)
        size_mb = len(content) / 1e6
        del content
        floor = measure("floor", path, project.pk) if postgres else None
        raw = measure("raw", path, project.pk)
        imp = measure("import", path, project.pk)
        ledger_floor = measure("ledger-floor", path, project.pk) if postgres else None
        read_floor = measure("read-floor", path, project.pk)
    raw_s, imp_s, raw_mb, imp_mb = raw["elapsed"], imp["done_s"], raw["peak_mb"], imp["peak_mb"]
    print(f"database: {connection.vendor}   file: {rows:,} rows, {rows // flushes:,} runs, {size_mb:.1f} MB")
    print(f"organisation holds {existing:,} ledger rows before the import")
    print(f"job: {imp['status']}, {imp['new']:,} runs new, {imp['rejected']} rows rejected")
    print(f"import to DONE (store → committed): {imp_s:6.2f} s {rows / imp_s:9,.0f} rows/s  peak RSS {imp_mb:5.0f} MB")
    hooks = imp["hooks"]
    warm = sum(s for name, s in hooks.items() if "warm" in name)
    statistics = hooks.get("statistics (ANALYZE)", 0.0)
    print(f"  after the commit, not in the ratios: dashboard warm-up {warm:.2f} s, ", end="")
    other = sum(hooks.values()) - warm - statistics
    print(f"planner statistics {statistics:.2f} s, other after-import hooks {other:.2f} s")
    print(f"raw (read_csv + bulk load):         {raw_s:6.2f} s {rows / raw_s:9,.0f} rows/s  peak RSS {raw_mb:5.0f} MB")
    if floor is not None:
        fl_s, fl_mb = floor["elapsed"], floor["peak_mb"]
        print(f"floor (file → COPY FORMAT csv):     {fl_s:6.2f} s {rows / fl_s:9,.0f} rows/s  peak RSS {fl_mb:5.0f} MB")
    if ledger_floor is not None:
        lf_s = ledger_floor["elapsed"]
        print(
            f"ledger floor (the import's {ledger_floor['rows']:,} ledger rows, already estimated, COPYed into an empty"
        )
        print(
            f"  table with the ledger's columns and indexes): {lf_s:6.2f} s = {lf_s / raw_s:.2f} of raw's whole time;"
        )
        print(f"  so even an import doing nothing else could reach {raw_s / lf_s:.2f}× raw at most")
    rf_s = read_floor["elapsed"]
    print(f"read floor (the import's own parse, reduce and estimate of the file, nothing written): {rf_s:6.2f} s")
    if ledger_floor is not None:
        lf_s = ledger_floor["elapsed"]
        serial, overlapped = rf_s + lf_s, max(rf_s, lf_s)
        print(
            f"  with the ledger floor, no rollups: {serial:.2f} s one after the other ({raw_s / serial:.2f}× raw), "
            f"{overlapped:.2f} s perfectly overlapped on two cores ({raw_s / overlapped:.2f}× raw)"
        )
    print(f"(a child process holds {imp['base_mb']:.0f} MB after start-up, before any work)")
    print(f"ratio speed import / raw: {raw_s / imp_s:.2f}  (goal ≥ 0.8 on PostgreSQL; time to DONE, hooks excluded)")
    if floor is not None:
        print(f"ratio speed import / floor: {floor['elapsed'] / imp_s:.2f}")
    print(f"ratio peak RSS import / raw: {imp_mb / raw_mb:.2f}  (goal: import peak < 400 MB at every size)")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated flush rows per file")
    parser.add_argument("--flushes", type=int, default=2, help="cumulative rows per run (default 2)")
    parser.add_argument(
        "--child", choices=["raw", "floor", "import", "ledger-floor", "read-floor"], help=argparse.SUPPRESS
    )
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
