"""Bounded memory of the codecarbon import (issue 13 item 6, issue 15 item 3).

Reading is bounded per row and per chunk, the reduction to one row per run is incremental (amortised, not a re-sort
of every held run per chunk) and gives the same records as a single reduction of the whole file, and the import
streams chunks to the database's stage with the same ledger as one frame.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from greenesg.accounts.models import Project
from greenesg.footprint import ledger
from greenesg.footprint.models import LedgerEntry
from ingestion import storage
from ingestion.codecarbon import pipeline as codecarbon_pipeline
from ingestion.codecarbon import reader as cc
from ingestion.codecarbon.reader import CodecarbonFormatError, last_row_per_run, read_codecarbon_csv
from ingestion.codecarbon.synthetic import generate_csv
from ingestion.jobs import import_job_submit
from ingestion.models import JobStatus
from ingestion.process import import_job_process

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "samples"
CODECARBON = Path(__file__).resolve().parent.parent / "fixtures" / "codecarbon"
HEADER = b"timestamp,run_id,duration,energy_consumed\n"


def _read(data: bytes, chunk_rows: int = 50_000) -> list[cc.CodecarbonChunk]:
    return list(read_codecarbon_csv(io.BytesIO(data), filename="e.csv", chunk_rows=chunk_rows))


def _reference(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The definition, in one go over the whole file: the longest row per run (ties: the later), tasks deduplicated."""
    whole = pd.concat([f for f in frames if len(f)], ignore_index=True).assign(_seq=lambda f: range(len(f)))
    runs = whole[whole["kind"] == "run"].sort_values(["duration_s", "_seq"], kind="stable")
    runs = runs.drop_duplicates("run_key", keep="last")
    tasks = whole[whole["kind"] == "task"].drop_duplicates(["run_key", "task_name", "timestamp_local"], keep="last")
    out = pd.concat([runs, tasks]).sort_values("_seq").drop(columns="_seq").reset_index(drop=True)
    return out.astype(cc.RECORD_COLUMNS)


def _shuffled_synthetic(runs: int, flushes: int, seed: int) -> bytes:
    """Cumulative rows of each run scattered over the file, with exact repeats (ties) of some rows."""
    content = generate_csv(runs=runs, start=dt.datetime(2025, 1, 1), days=30, flushes=flushes, seed=seed)
    header, *rows = content.splitlines(keepends=True)
    rng = random.Random(seed)
    rows += rng.sample(rows, len(rows) // 10)
    rng.shuffle(rows)
    return header + b"".join(rows)


# ------------------------------------------------------------------------------------------------ bounded reading


def test_an_endless_line_is_refused_before_it_is_joined_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cc, "_READ_SIZE", 256)
    monkeypatch.setattr(cc, "_MAX_ROW_BYTES", 1000)
    seen: list[int] = []
    split = cc._Splitter._split_plain

    def spy(self: Any, buf: bytes) -> Any:
        seen.append(len(buf))
        return split(self, buf)

    monkeypatch.setattr(cc._Splitter, "_split_plain", spy)
    with pytest.raises(CodecarbonFormatError, match=r"e\.csv: line 2: row longer than 1000 bytes"):
        _read(HEADER + b"x" * 6000 + b"\n")
    assert max(seen) <= 1000  # the over-long tail was never built


def test_a_long_line_in_the_middle_names_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cc, "_MAX_ROW_BYTES", 1000)
    good = b"2025-01-01T00:00:00,r1,10,0.5\n"
    with pytest.raises(CodecarbonFormatError, match=r"line 4: row longer than 1000 bytes"):
        _read(HEADER + good * 2 + b'"' + b"a\n" * 2000 + b'"\n' + good)


def test_a_compressed_bomb_is_refused_before_any_decompression() -> None:
    bomb = gzip.compress(HEADER + b"2025-01-01T00:00:00,r1," + b"9" * 6_000_000 + b",0.5\n")
    with pytest.raises(CodecarbonFormatError, match="it is a gzip-compressed file"):
        _read(bomb)


def test_chunks_are_bounded_in_bytes_and_give_the_same_records(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _shuffled_synthetic(runs=40, flushes=3, seed=3)
    whole = _read(data)
    monkeypatch.setattr(cc, "_MAX_CHUNK_BYTES", 2000)
    small = _read(data)
    assert len(small) > 5 and all(c.rows_read <= 2000 // 300 + 1 for c in small)
    assert sum(c.rows_read for c in small) == sum(c.rows_read for c in whole)
    pd.testing.assert_frame_equal(
        last_row_per_run(c.records for c in small), last_row_per_run(c.records for c in whole)
    )


# ------------------------------------------------------------------------------------------------ reduction


@pytest.mark.parametrize("merge_rows", [1, 3, 100_000])
@pytest.mark.parametrize("chunk_rows", [1, 2, 7])
@pytest.mark.parametrize(
    "path",
    [
        SAMPLES / "emissions_codecarbon_3.3.2.csv",
        SAMPLES / "emissions_codecarbon_3.3.2_tasks.csv",
        CODECARBON / "emissions_run_id_none.csv",
        CODECARBON / "emissions_bad_rows.csv",
    ],
    ids=lambda p: p.name if isinstance(p, Path) else None,
)
def test_reduction_equals_one_reduction_of_the_whole_file(
    path: Path, chunk_rows: int, merge_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cc.RunReducer, "_MIN_MERGE_ROWS", merge_rows)
    frames = [c.records for c in _read(path.read_bytes(), chunk_rows=chunk_rows)]
    pd.testing.assert_frame_equal(last_row_per_run(frames), _reference(frames))


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("merge_rows", [1, 50])
def test_reduction_of_runs_spread_across_chunks(seed: int, merge_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cc.RunReducer, "_MIN_MERGE_ROWS", merge_rows)
    frames = [c.records for c in _read(_shuffled_synthetic(runs=60, flushes=4, seed=seed), chunk_rows=9)]
    assert len(frames) > 20
    reduced = last_row_per_run(frames)
    assert len(reduced) == 60
    pd.testing.assert_frame_equal(reduced, _reference(frames))


def test_reduction_work_is_linear_in_the_rows_not_in_rows_times_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # 100 chunks of 10 distinct runs: re-sorting everything held per chunk would sort ~50,000 rows in all.
    monkeypatch.setattr(cc.RunReducer, "_MIN_MERGE_ROWS", 1)
    sorted_rows: list[int] = []
    winners = cc._winners

    def counting(frames: list[pd.DataFrame]) -> Any:
        sorted_rows.append(sum(map(len, frames)))
        return winners(frames)

    monkeypatch.setattr(cc, "_winners", counting)
    whole = pd.concat([c.records for c in _read(_shuffled_synthetic(runs=1000, flushes=1, seed=5))])
    frames = [whole.iloc[start : start + 10] for start in range(0, len(whole), 10)]
    reduced = last_row_per_run(frames)
    assert reduced["run_key"].is_unique and len(reduced) == 1000
    assert sum(sorted_rows) <= 5 * 1000


# ------------------------------------------------------------------------------------------------ streamed publish


def _import(project: Project, data: bytes) -> Any:
    stored = storage.store_chunks([data])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job
    import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    return job


def _ledger(project: Project) -> pd.DataFrame:
    columns = ["natural_key", "day", "duration_s", "energy_facility_kwh", "kgco2e_location", "source_row", "flags"]
    rows = LedgerEntry.objects.filter(project=project).order_by("natural_key").values_list(*columns)
    return pd.DataFrame(list(rows), columns=columns).assign(
        natural_key=lambda f: f["natural_key"].str.replace(f":{project.pk}:", ":P:", regex=False)
    )


@pytest.mark.django_db
def test_a_file_streamed_in_small_chunks_writes_the_same_ledger_as_one_chunk(
    project: Project, other_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Flushes of a run land in different chunks: the reduction across chunks happens in the database's stage.
    data = _shuffled_synthetic(runs=30, flushes=3, seed=11)
    one = _import(project, data)
    monkeypatch.setattr(codecarbon_pipeline, "READ_CHUNK_ROWS", 4)
    streamed = _import(other_project, data)
    assert one.status == streamed.status == JobStatus.DONE
    assert (streamed.records_new, streamed.records_updated) == (one.records_new, one.records_updated) == (30, 0)
    assert streamed.totals == pytest.approx(one.totals)
    pd.testing.assert_frame_equal(_ledger(other_project), _ledger(project))


@pytest.mark.django_db
def test_the_reduction_across_chunks_keeps_the_longest_row_of_each_run(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _shuffled_synthetic(runs=30, flushes=3, seed=13)
    monkeypatch.setattr(codecarbon_pipeline, "READ_CHUNK_ROWS", 3)
    assert _import(project, data).status == JobStatus.DONE
    expected = _reference([c.records for c in _read(data)])
    stored = dict(LedgerEntry.objects.filter(project=project).values_list("run_id", "duration_s"))
    assert stored == dict(zip(expected["run_key"], expected["duration_s"], strict=True))
    lines = set(LedgerEntry.objects.filter(project=project).values_list("source_row", flat=True))
    assert lines == set(expected["line"].tolist())  # ties: the later of equal rows


@pytest.mark.django_db
def test_a_failure_in_a_later_chunk_leaves_nothing(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codecarbon_pipeline, "READ_CHUNK_ROWS", 4)
    real = ledger.LedgerStage.add
    calls: list[int] = []

    def third_fails(stage: ledger.LedgerStage, frame: Any, **kwargs: Any) -> None:
        calls.append(len(frame))
        if len(calls) == 3:
            raise ValueError("boom in chunk 3")
        real(stage, frame, **kwargs)

    monkeypatch.setattr(ledger.LedgerStage, "add", third_fails)
    job = _import(project, _shuffled_synthetic(runs=30, flushes=2, seed=12))
    assert job.status == JobStatus.FAILED and len(calls) == 3
    assert not LedgerEntry.objects.filter(project=project).exists()
    # Nothing of the failed import is left in the stage for the next import on this connection.
    assert _import(project, _shuffled_synthetic(runs=5, flushes=1, seed=14)).records_new == 5
