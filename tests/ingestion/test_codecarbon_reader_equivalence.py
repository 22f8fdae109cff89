"""The columnar codecarbon reader gives exactly what the reader before it gave (issue 15 item 1).

`codecarbon_reader_before.py` beside this file is the reader as it was before Arrow took over the parsing (a frozen
copy, kept only as this test's oracle). Both read the same bytes: every fixture and sample file, synthetic files
from ingestion/codecarbon/synthetic.py, and messy variants of them (blank cells, bad numbers and timestamps,
timezone offsets, quoted commas and line breaks, BOM, CRLF, blank lines, rows with extra or missing fields, extra and
missing columns, duplicate and "None" run rows, NUL bytes). The records (columns, dtypes, values), the row problems
(line, column, code, message, raw value), the rows read, the per-chunk reduction and every refusal message must be
identical, whatever the chunk size.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ingestion.codecarbon import reader as new
from ingestion.codecarbon.synthetic import HEADER_3_3_2, generate_csv, generate_rows
from tests.ingestion import codecarbon_reader_before as old

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FILES = sorted(p for p in (FIXTURES / "codecarbon").iterdir() if p.is_file()) + sorted(
    (FIXTURES / "samples").glob("*.csv")
)


def _outcome(module: Any, data: bytes, chunk_rows: int) -> tuple[list[Any], str | None]:
    """Every chunk as (records, problems, rows_read, chunk_reduce of the records), and the refusal if any."""
    chunks: list[Any] = []
    try:
        for chunk in module.read_codecarbon_csv(io.BytesIO(data), filename="e.csv", chunk_rows=chunk_rows):
            chunks.append((chunk.records, chunk.problems, chunk.rows_read, module.chunk_reduce(chunk.records)))  # noqa: PERF401 - a refusal ends the loop
    except module.CodecarbonFormatError as exc:
        return chunks, str(exc)
    return chunks, None


def assert_same(data: bytes, chunk_rows: int = 25_000) -> None:
    before, refused_before = _outcome(old, data, chunk_rows)
    after, refused_after = _outcome(new, data, chunk_rows)
    assert refused_after == refused_before
    assert len(after) == len(before)
    for (records, problems, rows_read, reduced), (old_records, old_problems, old_rows, old_reduced) in zip(
        after, before, strict=True
    ):
        assert rows_read == old_rows
        assert [vars(p) for p in problems] == [vars(p) for p in old_problems]
        pd.testing.assert_frame_equal(records, old_records, check_exact=True)
        pd.testing.assert_frame_equal(reduced, old_reduced, check_exact=True)


@pytest.mark.parametrize("chunk_rows", [1, 3, 25_000])
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_fixture_and_sample_file_reads_the_same(path: Path, chunk_rows: int) -> None:
    assert_same(path.read_bytes(), chunk_rows)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"runs": 1500, "flushes": 2},
        {"runs": 600, "flushes": 5, "sites": ("paris-office", "gcp-belgium", "aws-virginia", "stockholm-lab")},
        {"runs": 400, "flushes": 1, "experiments": ("exp-a", "", "e7a1b2c3-d4e5-4f60-8a9b-0c1d2e3f4a5b")},
    ],
)
@pytest.mark.parametrize("chunk_rows", [250, 25_000])
def test_synthetic_files_read_the_same(kwargs: dict[str, Any], chunk_rows: int) -> None:
    data = generate_csv(start=dt.datetime(2025, 1, 1), days=90, seed=3, **kwargs)
    assert_same(data, chunk_rows)


# ------------------------------------------------------------------------------------------------ messy files

BAD_NUMBERS = ["abc", "nan", "NaN", "inf", "-inf", " 1.5", "1.5 ", "  ", "-0", "1e400", "1e-400", "+2", ".5", "0x10"]
BAD_TIMES = [
    "2026-11-26T17:16:20Z",
    "2026-11-26T17:16:20+01:00",
    "2026-11-26 17:16:20",
    "2026-11-26T17:16:20.123456",
    " 2026-11-26T17:16:20 ",
    "2026-13-26T17:16:20",
    "2026-02-30T10:00:00",
    "3026-11-26T17:16:20",
    "26/11/2026 17:16",
    "2026-11-26",
    "",
]
TEXTS = ["AMD, Inc. 64-Core", 'say "hi"', "two\nlines", "Réunion", "  padded  ", "a\x00b", "", "x" * 120]
IDS = [
    "None",
    " run-1 ",
    "\u00a0run-2\u2003",
    "\x1frun-3",
    "",
    "bad id",
    "r\t1",
    "-r1",
    "869595a9-7f97-4f6c-bdea-b854a62f3c00",
]
CODES = ["fra", "FR", "ÉTA", "", "DEU"]
FLAGS = ["Y", "N", "", "maybe", "y"]


def _mutate_cells(row: list[str], names: list[str], rng: random.Random) -> None:
    choices: dict[str, list[str]] = {
        "timestamp": BAD_TIMES,
        "run_id": IDS,
        "experiment_id": IDS,
        "country_iso_code": CODES,
        "on_cloud": FLAGS,
        "cpu_model": TEXTS,
        "project_name": TEXTS[:5] + ["alpha", "beta"],
        "region": ["new york", "a\\b", "île-de-france", ""],
        "cloud_provider": ["AWS", "gcp\tx", ""],
        "pue": ["0", "-1", "", "1.2"],
        "task_name": ["", "  ", "t" * 101, "load"],
    }
    for _ in range(rng.randint(1, 3)):
        index = rng.randrange(len(names))
        name = names[index]
        if name in choices:
            row[index] = rng.choice(choices[name])
        elif name in new._FLOAT_COLUMNS:
            row[index] = rng.choice(BAD_NUMBERS + ["", row[index]])
        else:
            row[index] = rng.choice(TEXTS)


def _messy(seed: int, names: list[str], rows: list[list[str]], share: float = 0.3) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    lines = [out.getvalue()]
    for row in rows:
        row = list(row)
        if rng.random() < share:
            _mutate_cells(row, names, rng)
        if rng.random() < 0.05:
            row = row + ["extra"] if rng.random() < 0.5 else row[:-1]  # a field too many or too few
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow(row)
        lines.append(line.getvalue())
        if rng.random() < 0.05:
            lines.append(rng.choice(["\n", lines[-1]]))  # a blank line, or an exact repeat of the row
    data = "".join(lines).encode("utf-8")
    if rng.random() < 0.5:
        data = data.replace(b"\n", b"\r\n")
    if rng.random() < 0.3:
        data = b"\xef\xbb\xbf" + data
    return data


def _synthetic_rows(runs: int, seed: int) -> list[list[str]]:
    rows = generate_rows(runs=runs, start=dt.datetime(2025, 1, 1), days=30, flushes=3, seed=seed)
    return [["" if v is None else str(v) for v in row] for row in rows]


def _columns_changed(names: list[str], rows: list[list[str]], rng: random.Random) -> tuple[list[str], list[list[str]]]:
    """Drop some optional columns, add unknown ones, and shuffle the column order."""
    keep = [i for i, n in enumerate(names) if n in {"timestamp", "run_id", "duration", "energy_consumed"}]
    keep += [i for i, n in enumerate(names) if i not in keep and rng.random() < 0.7]
    rng.shuffle(keep)
    names = [names[i] for i in keep] + ["user", "Extra Column"]
    return names, [[row[i] for i in keep] + ["ci", "1"] for row in rows]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("chunk_rows", [7, 25_000])
def test_messy_run_files_read_the_same(seed: int, chunk_rows: int) -> None:
    names, rows = list(HEADER_3_3_2), _synthetic_rows(120, seed)
    if seed % 3 == 1:
        names, rows = _columns_changed(names, rows, random.Random(seed))
    assert_same(_messy(seed, names, rows), chunk_rows)


@pytest.mark.parametrize("seed", range(6))
def test_messy_task_and_old_version_files_read_the_same(seed: int) -> None:
    for name in ["emissions_3_3_2_tasks.csv", "emissions_1x.csv", "emissions_2_0.csv", "emissions_run_id_none.csv"]:
        text = (FIXTURES / "codecarbon" / name).read_text(encoding="utf-8")
        names, *rows = list(csv.reader(io.StringIO(text, newline="")))
        rows = rows * 20
        assert_same(_messy(seed, names, rows, share=0.5), chunk_rows=9)


@pytest.mark.parametrize("seed", range(4))
def test_a_mostly_bad_file_reads_the_same(seed: int) -> None:
    # Every chunk takes the text path (some cell is not a number) and most rows are problems.
    assert_same(_messy(seed, list(HEADER_3_3_2), _synthetic_rows(60, seed), share=1.0), chunk_rows=13)


REFUSED: list[Callable[[bytes], bytes]] = [
    lambda data: data + b'2026-11-26T17:16:20,"open\n',  # a quoted field never closed
    lambda data: data[:-40] + b"\xff" + data[-39:],  # undecodable byte near the end
    lambda data: data.replace(b",", b";"),  # not comma-separated
    lambda data: data.split(b"\n", 1)[0] + b"\n",  # header only
    lambda data: b"\x00" + data,  # binary
]


@pytest.mark.parametrize("change", range(len(REFUSED)))
def test_refusals_are_the_same(change: int) -> None:
    data = (FIXTURES / "samples" / "emissions_codecarbon_3.3.2.csv").read_bytes()
    assert_same(REFUSED[change](data), chunk_rows=2)


def test_live_records_read_the_same() -> None:
    frame = pd.read_csv(FIXTURES / "samples" / "emissions_codecarbon_3.3.2.csv", dtype=str, keep_default_na=False)
    for _, row in frame.iterrows():
        payload = {k: (v if v != "" else None) for k, v in row.items()}
        pd.testing.assert_frame_equal(new.parse_live_record(payload), old.parse_live_record(payload))
    bad = dict(payload, energy_consumed="abc", timestamp="2026-11-26T17:16:20Z")
    with pytest.raises(new.CodecarbonFormatError) as after:
        new.parse_live_record(bad)
    with pytest.raises(old.CodecarbonFormatError) as before:
        old.parse_live_record(bad)
    assert str(after.value) == str(before.value)
