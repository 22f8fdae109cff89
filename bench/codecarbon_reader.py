"""Micro-benchmark: the codecarbon reader's own pipeline (parse + validate + reduce per chunk), before and after.

    python bench/codecarbon_reader.py [--rows 200000,1000000] [--runs 2] [--flushes 2]

For each size a synthetic codecarbon 3.3.2 file (ingestion/codecarbon/synthetic.py, `flushes` cumulative rows per
run) is read as the import reads it: `read_codecarbon_csv(chunk_rows=16_000)` and `chunk_reduce` of every chunk. It
prints seconds for the reader before Arrow (tests/ingestion/codecarbon_reader_before.py, kept as the equivalence
test's oracle), the current reader, and the raw parses of the same file (pandas.read_csv with its defaults, and
pyarrow.csv.read_csv on one thread), with the ratios, `runs` times each, interleaved so that the noise of a shared
machine hits all of them alike; wall and CPU seconds of the process (CPU time is the steadier on a loaded machine).
No database, no Django.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingestion.codecarbon import reader as current  # noqa: E402
from ingestion.codecarbon.synthetic import generate_csv  # noqa: E402
from tests.ingestion import codecarbon_reader_before as before  # noqa: E402

CHUNK_ROWS = 16_000  # ingestion.codecarbon.pipeline.READ_CHUNK_ROWS


def read_and_reduce(module: ModuleType, path: Path) -> int:
    """Rows left after the per-chunk reduction (the same number for both readers, checked by the caller)."""
    kept = 0
    with open(path, "rb") as stream:
        for chunk in module.read_codecarbon_csv(stream, filename=path.name, chunk_rows=CHUNK_ROWS):
            kept += len(module.chunk_reduce(chunk.records))
    return kept


def pandas_read_csv(path: Path) -> int:
    import pandas as pd

    return len(pd.read_csv(path))


def arrow_read_csv(path: Path) -> int:
    import pyarrow.csv as pacsv

    return pacsv.read_csv(path, read_options=pacsv.ReadOptions(use_threads=False)).num_rows


def timed(function: Callable[[], int]) -> tuple[float, float, int]:
    """Wall and CPU seconds of this process: on a shared machine CPU time is the steadier of the two."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def measure(path: Path, rows: int, run: int) -> None:
    old_s, old_cpu, old_kept = timed(lambda: read_and_reduce(before, path))
    new_s, new_cpu, new_kept = timed(lambda: read_and_reduce(current, path))
    raw_s, raw_cpu, raw_rows = timed(lambda: pandas_read_csv(path))
    arrow_s, arrow_cpu, _ = timed(lambda: arrow_read_csv(path))
    assert new_kept == old_kept and raw_rows == rows, (new_kept, old_kept, raw_rows)
    print(
        f"{rows:>9,} rows run {run}, wall s (CPU s):  before {old_s:6.2f} ({old_cpu:6.2f})  "
        f"now {new_s:5.2f} ({new_cpu:5.2f})  pandas.read_csv {raw_s:5.2f} ({raw_cpu:5.2f})  "
        f"pyarrow.csv {arrow_s:5.2f} ({arrow_cpu:5.2f})  before/now {old_s / new_s:4.1f}x ({old_cpu / new_cpu:4.1f}x)  "
        f"now/pandas.read_csv {new_s / raw_s:4.2f} ({new_cpu / raw_cpu:4.2f})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="200000,1000000", help="comma-separated row counts")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--flushes", type=int, default=2, help="cumulative rows per run in the file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for rows in [int(r) for r in args.rows.split(",")]:
            path = Path(tmp) / f"emissions_{rows}.csv"
            runs = max(rows // args.flushes, 1)
            path.write_bytes(
                generate_csv(runs=runs, start=dt.datetime(2025, 1, 1), days=365, flushes=args.flushes, seed=7)
            )
            for run in range(1, args.runs + 1):
                measure(path, runs * args.flushes, run)


if __name__ == "__main__":
    main()
