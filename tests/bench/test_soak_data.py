"""bench/soak.py compares the ledger with totals it computes from its own payloads (bench/soak_data.py): those
totals must be exactly what the files say, and the files must be ones the readers accept whole."""

from __future__ import annotations

import csv
import io
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import soak_data  # noqa: E402

from ingestion.billing.readers.formats import detect_billing_format  # noqa: E402
from ingestion.codecarbon.reader import read_codecarbon_csv  # noqa: E402


def test_the_cur_cost_it_expects_is_the_sum_of_the_lines_it_wrote() -> None:
    export = soak_data.cur_export("t", 2_000)
    rows = list(csv.DictReader(io.StringIO(export.body.decode())))
    assert len(rows) == export.lines == 2_000
    assert sum(Decimal(r["lineItem/UnblendedCost"]) for r in rows) == Decimal(export.cost_milli) / 1000
    assert len({r["identity/LineItemId"] for r in rows}) == 2_000
    assert detect_billing_format(list(rows[0])) == "aws_cur_legacy"


def test_the_same_seed_makes_the_same_cur_and_another_seed_another() -> None:
    assert soak_data.cur_export("t", 50).sha256 == soak_data.cur_export("t", 50).sha256
    assert soak_data.cur_export("t", 50).sha256 != soak_data.cur_export("u", 50).sha256


def test_a_codecarbon_file_holds_its_runs_once_each_with_the_duration_it_expects() -> None:
    payload = soak_data.codecarbon_csv("t", 3, runs=40)
    chunks = list(read_codecarbon_csv(io.BytesIO(payload.body), filename="emissions.csv"))
    records = chunks[0].records
    assert [c.problems for c in chunks] == [[]]
    assert len(records) == payload.runs == 40
    assert records["run_key"].nunique() == 40
    assert records["duration_s"].sum() == payload.duration_s  # what the ledger's duration_s adds up to


def test_runs_of_two_files_never_share_an_id() -> None:
    first = soak_data.codecarbon_csv("t", 1, runs=30).body.decode()
    second = soak_data.codecarbon_csv("t", 2, runs=30).body.decode()
    ids = [set(r["run_id"] for r in csv.DictReader(io.StringIO(text))) for text in (first, second)]
    assert not ids[0] & ids[1]


def test_live_records_of_a_run_grow_and_keep_its_id() -> None:
    records = [soak_data.live_record("t", 7, flush) for flush in range(3)]
    assert {r["run_id"] for r in records} == {soak_data.run_uuid("t/live", 7)}
    assert [r["duration"] for r in records] == [soak_data.live_duration(f) for f in range(3)] == [15, 30, 45]
