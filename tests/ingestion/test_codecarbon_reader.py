"""The pure codecarbon reader: every header variant, row problems with exact lines, structural refusals.

No database: plain functions. Fixtures live in tests/fixtures/codecarbon (the 3.3.2 ones are real codecarbon output,
the older ones are hand-made from the column lists in docs/methodology.md §2.3).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingestion.codecarbon import reader as cc
from ingestion.codecarbon.reader import (
    RECORD_COLUMNS,
    UNSET_EXPERIMENT_ID,
    CodecarbonChunk,
    CodecarbonFormatError,
    RowProblem,
    detect_schema,
    last_row_per_run,
    parse_live_record,
    read_codecarbon_csv,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "codecarbon"
SAMPLE = FIXTURES / "emissions_3_3_2.csv"
FRA_RUN = "869595a9-7f97-4f6c-bdea-b854a62f3c00"
R1 = "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
R2 = "8d4e2f10-6a3b-4c5d-8e9f-0a1b2c3d4e5f"


def read_bytes(data: bytes, name: str = "emissions.csv", chunk_rows: int = 50_000) -> list[CodecarbonChunk]:
    return list(read_codecarbon_csv(io.BytesIO(data), filename=name, chunk_rows=chunk_rows))


def read(name: str, chunk_rows: int = 50_000) -> list[CodecarbonChunk]:
    with open(FIXTURES / name, "rb") as stream:
        return list(read_codecarbon_csv(stream, filename=name, chunk_rows=chunk_rows))


def records(chunks: list[CodecarbonChunk]) -> pd.DataFrame:
    return pd.concat([c.records for c in chunks], ignore_index=True)


def problems(chunks: list[CodecarbonChunk]) -> list[RowProblem]:
    return [p for c in chunks for p in c.problems]


def runs(name: str) -> pd.DataFrame:
    return last_row_per_run(c.records for c in read(name)).set_index("run_key")


def refused(data: bytes, name: str = "emissions.csv") -> str:
    with pytest.raises(CodecarbonFormatError) as info:
        read_bytes(data, name)
    return str(info.value)


# --------------------------------------------------------------------------------------------------- schemas


@pytest.mark.parametrize(
    ("name", "schema", "ncols"),
    [
        ("emissions_1x.csv", "1.x", 12),
        ("emissions_2_0.csv", "2.0-2.1", 29),
        ("emissions_2_2.csv", "2.2-2.2.2", 30),
        ("emissions_2_2_3.csv", "2.2.3-2.6", 31),
        ("emissions_2_7.csv", "2.7-3.0.7", 32),
        ("emissions_3_0_8.csv", "3.0.8-3.2.0", 34),
        ("emissions_3_3_2.csv", "3.2.1+", 38),
        ("emissions_3_3_2_tasks.csv", "task", 33),
    ],
)
def test_every_header_variant_is_detected_and_read(name: str, schema: str, ncols: int) -> None:
    header = (FIXTURES / name).read_text(encoding="utf-8").splitlines()[0].split(",")
    assert len(header) == ncols
    assert detect_schema(header) == schema
    chunks = read(name)
    frame = records(chunks)
    assert not problems(chunks)
    assert len(frame) == sum(c.rows_read for c in chunks) > 0
    assert set(frame["schema"]) == {schema}
    assert frame["energy_consumed_kwh"].gt(0).all()


def test_detect_schema_lists_missing_required_columns() -> None:
    with pytest.raises(CodecarbonFormatError, match="missing required columns duration, energy_consumed, run_id"):
        detect_schema(["timestamp", "project_name", "emissions"])
    with pytest.raises(CodecarbonFormatError, match="missing required columns run_id"):
        detect_schema(["task_name", "timestamp", "duration", "energy_consumed", "experiment_id"])


def test_detect_schema_ignores_order_case_and_spaces() -> None:
    assert detect_schema([" Energy_Consumed", "duration ", "run_id", "TIMESTAMP", "wue"]) == "3.0.8-3.2.0"


def test_record_columns_and_dtypes_are_exact() -> None:
    frame = records(read("emissions_3_3_2.csv"))
    assert list(frame.columns) == list(RECORD_COLUMNS)
    assert {c: str(t) for c, t in frame.dtypes.items()} == RECORD_COLUMNS


def test_real_sample_values_are_normalised() -> None:
    frame = records(read("emissions_3_3_2.csv")).set_index("line")
    first = frame.loc[2]
    assert first["kind"] == "run"
    assert first["run_key"] == FRA_RUN and not first["run_id_missing"]
    assert first["experiment_id"] == ""  # the unset constant
    assert first["timestamp_local"] == pd.Timestamp("2026-11-26T17:16:20")
    assert first["emissions_kg"] == pytest.approx(1.2967335386968507e-06)  # Python float format
    assert first["codecarbon_version"] == "3.3.2" and first["country_iso"] == "FRA"
    assert math.isnan(first["longitude"]) and math.isnan(first["latitude"])
    deu = frame.loc[4]
    assert (deu["pue"], deu["wue"], deu["ram_power_w"]) == (1.4, 1.8, pytest.approx(28.0))
    assert deu["water_l"] == pytest.approx(5.842329459807809e-05)
    gcp = frame.loc[5]
    assert gcp["on_cloud"] and gcp["cloud_provider"] == "gcp" and gcp["cloud_region"] == "europe-west1"
    assert frame.loc[6, "region"] == "california" and frame.loc[6, "tracking_mode"] == "process"


def test_1x_experiment_id_is_the_run_key() -> None:
    frame = records(read("emissions_1x.csv"))
    assert list(frame["run_key"]) == [R1, R1, R2]
    assert set(frame["experiment_id"]) == {""}
    aws = frame.iloc[2]
    assert (aws["region"], aws["cloud_provider"], aws["cloud_region"], aws["on_cloud"]) == (
        "virginia",
        "aws",
        "us-east-1",
        True,
    )
    # Columns that 1.x did not have take the documented defaults.
    assert (aws["pue"], aws["wue"], aws["water_l"], aws["codecarbon_version"]) == (1.0, 0.0, 0.0, "")
    assert aws[["emissions_rate_kg_s", "cpu_energy_kwh", "cpu_count", "ram_used_gb"]].isna().all()


def test_2_0_emissions_rate_is_converted_from_grams() -> None:
    frame = records(read("emissions_2_0.csv"))
    assert frame.loc[0, "emissions_rate_kg_s"] == pytest.approx(0.035 / 1000)
    computed = frame["emissions_kg"] / frame["duration_s"]
    assert np.allclose(frame["emissions_rate_kg_s"], computed)


@pytest.mark.parametrize("name", ["emissions_2_2.csv", "emissions_2_2_3.csv", "emissions_3_0_8.csv"])
def test_kg_per_second_rate_is_kept_from_2_2(name: str) -> None:
    frame = records(read(name))
    assert np.allclose(frame["emissions_rate_kg_s"], frame["emissions_kg"] / frame["duration_s"])


def test_pue_is_read_from_2_2_3() -> None:
    assert set(records(read("emissions_2_2_3.csv"))["pue"]) == {1.58}
    assert set(records(read("emissions_2_2.csv"))["pue"]) == {1.0}


def test_experiment_id_from_2_7_and_unset_constant() -> None:
    frame = records(read("emissions_2_7.csv")).set_index("run_key")
    assert frame.loc[R1, "experiment_id"] == "e7a1b2c3-d4e5-4f60-8a9b-0c1d2e3f4a5b"
    assert frame.loc[R2, "experiment_id"] == ""
    assert UNSET_EXPERIMENT_ID not in set(records(read("emissions_3_0_8.csv"))["experiment_id"])


def test_bak_file_is_an_ordinary_run_file() -> None:
    pd.testing.assert_frame_equal(records(read("emissions.csv.bak")), records(read("emissions_2_7.csv")))


def test_swapped_experiment_and_run_id_positions_are_read_by_name() -> None:
    pd.testing.assert_frame_equal(records(read("emissions_swapped_ids.csv")), records(read("emissions_2_7.csv")))


def test_shuffled_columns_give_the_same_records() -> None:
    pd.testing.assert_frame_equal(records(read("emissions_shuffled.csv")), records(read("emissions_3_3_2.csv")))


def test_utf8_bom_is_tolerated() -> None:
    pd.testing.assert_frame_equal(records(read("emissions_bom.csv")), records(read("emissions_3_3_2.csv")))


def test_crlf_and_missing_final_newline() -> None:
    data = SAMPLE.read_bytes()
    expected = records(read("emissions_3_3_2.csv"))
    pd.testing.assert_frame_equal(records(read_bytes(data.replace(b"\n", b"\r\n"))), expected)
    pd.testing.assert_frame_equal(records(read_bytes(data.rstrip(b"\n"))), expected)


def test_header_names_are_stripped_and_case_folded() -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    header = ",".join(f" {name.upper()} " for name in lines[0].split(","))
    frame = records(read_bytes(("\n".join([header, *lines[1:]]) + "\n").encode()))
    pd.testing.assert_frame_equal(frame, records(read("emissions_3_3_2.csv")))


def test_task_file() -> None:
    chunks = read("emissions_3_3_2_tasks.csv")
    frame = records(chunks)
    assert list(frame["kind"]) == ["task", "task"]
    assert list(frame["task_name"]) == ["load", "train"]
    assert set(frame["run_key"]) == {"c10506f5-e7a4-433f-ad17-e2d63d9f10b3"}
    # codecarbon drops columns empty in every row: region, longitude, latitude, pue, wue are absent here.
    assert list(frame["region"]) == ["", ""] and frame["longitude"].isna().all()
    assert list(frame["pue"]) == [1.0, 1.0]


# --------------------------------------------------------------------------------------------------- runs


def test_cumulative_rows_keep_the_last_row_never_summed() -> None:
    frame = runs("emissions_3_3_2.csv")
    assert len(frame) == 4
    fra = frame.loc[FRA_RUN]
    assert fra["duration_s"] == pytest.approx(5.007742890000003)
    assert fra["energy_consumed_kwh"] == 3.832985876131817e-05
    assert fra["line"] == 3


def test_last_row_per_run_ties_keep_the_later_line_and_tasks_are_deduplicated() -> None:
    base = records(read("emissions_3_3_2.csv"))
    twin = base.iloc[[1]].assign(line=9, energy_consumed_kwh=1.0)
    frame = last_row_per_run([base, twin]).set_index("run_key")
    assert frame.loc[FRA_RUN, "line"] == 9 and frame.loc[FRA_RUN, "energy_consumed_kwh"] == 1.0
    tasks = records(read("emissions_3_3_2_tasks.csv"))
    again = tasks.assign(line=[10, 11], cpu_power_w=[1.0, 2.0])
    deduped = last_row_per_run([tasks, again])
    assert list(deduped["task_name"]) == ["load", "train"]
    assert list(deduped["line"]) == [10, 11]


def test_last_row_per_run_of_nothing_is_an_empty_normalised_frame() -> None:
    frame = last_row_per_run([])
    assert list(frame.columns) == list(RECORD_COLUMNS) and frame.empty


def test_run_id_none_is_grouped_by_project_and_duration_drop() -> None:
    frame = records(read("emissions_run_id_none.csv"))
    assert frame["run_id_missing"].all()
    assert list(frame["run_key"]) == [
        "none:alpha:2026-01-10T09:00:00",
        "none:alpha:2026-01-10T09:00:00",
        "none:beta:2026-01-10T09:00:19",  # 09:00:25 - 5.5 s, to the second
        "none:alpha:2026-01-10T09:00:45",  # duration dropped 20 -> 15: a new run
        "none:alpha:2026-01-10T09:00:45",
        "none:beta:2026-01-10T09:00:19",
    ]
    last = last_row_per_run([frame]).set_index("run_key")
    assert last["duration_s"].to_dict() == {
        "none:alpha:2026-01-10T09:00:00": 20.0,
        "none:alpha:2026-01-10T09:00:45": 30.25,
        "none:beta:2026-01-10T09:00:19": 70.5,
    }


def test_run_id_none_keys_are_stable_when_the_file_grows() -> None:
    lines = (FIXTURES / "emissions_run_id_none.csv").read_bytes().splitlines(keepends=True)
    early = records(read_bytes(b"".join(lines[:3])))
    later = records(read("emissions_run_id_none.csv"))
    assert set(early["run_key"]) <= set(later["run_key"])


@pytest.mark.parametrize(
    "name", ["emissions_3_3_2.csv", "emissions_run_id_none.csv", "emissions_bad_rows.csv", "emissions_1x.csv"]
)
def test_chunking_does_not_change_results(name: str) -> None:
    whole = read(name)
    for size in (1, 2):
        small = read(name, chunk_rows=size)
        assert all(c.rows_read <= size for c in small)
        assert problems(small) == problems(whole)
        pd.testing.assert_frame_equal(
            last_row_per_run(c.records for c in small), last_row_per_run(c.records for c in whole)
        )


def test_tiny_read_pieces_do_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pieces of 5 bytes split CRLF pairs, multi-byte UTF-8 characters, the BOM tail and quoted fields.
    data = (FIXTURES / "emissions_bad_rows.csv").read_bytes().replace(b"France", "Réunion".encode())
    data = b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")
    whole = read_bytes(data)
    monkeypatch.setattr(cc, "_READ_SIZE", 5)
    pieces = read_bytes(data)
    assert problems(pieces) == problems(whole)
    pd.testing.assert_frame_equal(records(pieces), records(whole))
    assert set(records(whole)["country_name"]) == {"Réunion"}


# --------------------------------------------------------------------------------------------------- row problems


def test_row_problems_have_lines_columns_codes_and_raw_values() -> None:
    chunks = read("emissions_bad_rows.csv")
    found = [(p.line, p.column, p.code, p.raw_value) for p in problems(chunks)]
    assert [f[:3] for f in found] == [
        (3, "", "wrong_column_count"),
        (4, "energy_consumed", "bad_number"),
        (5, "timestamp", "bad_timestamp"),
        (6, "energy_consumed", "non_positive_energy"),
        (7, "on_cloud", "bad_on_cloud"),
        (8, "cpu_power", "bad_number"),
        (11, "duration", "missing_value"),  # after a quoted field spanning lines 9-10
        (12, "duration", "negative_duration"),
        (14, "", "wrong_column_count"),
        (16, "run_id", "missing_value"),  # the blank line 15 is skipped, not counted
    ]
    raw = {f[0]: f[3] for f in found}
    assert (raw[4], raw[5], raw[6], raw[7], raw[8], raw[11], raw[12]) == (
        "abc",
        "26/11/2026 17:16",
        "0.0",
        "maybe",
        "n/a",
        "",
        "-3.5",
    )
    assert raw[3].startswith("2026-11-26T17:16:20,greenesg-sample,") and len(raw[3]) == 200
    assert sum(c.rows_read for c in chunks) == 13


def test_problem_messages_are_sentences_naming_the_column() -> None:
    by_line = {p.line: p for p in problems(read("emissions_bad_rows.csv"))}
    assert by_line[4].message == "energy_consumed must be a number, got 'abc'"
    assert by_line[3].message == "the row has 35 fields but the header has 38"
    assert by_line[14].message == "the row has 39 fields but the header has 38"
    assert by_line[7].message == "on_cloud must be Y, N or empty, got 'maybe'"


def test_bad_rows_are_dropped_and_good_rows_kept() -> None:
    frame = records(read("emissions_bad_rows.csv"))
    assert list(frame["line"]) == [2, 9, 13]
    multiline = frame.set_index("line").loc[9]
    assert multiline["cpu_model"] == "AMD EPYC 7763\n64-Core, 2 sockets"
    # Space separator and fractional seconds are accepted.
    assert frame.set_index("line").loc[13, "timestamp_local"] == pd.Timestamp("2026-11-26 17:16:30.250")


def sample_with(**cells: str) -> bytes:
    header, first = SAMPLE.read_text(encoding="utf-8").splitlines()[:2]
    names, values = header.split(","), first.split(",")
    for name, value in cells.items():
        values[names.index(name)] = value
    return f"{header}\n{','.join(values)}\n".encode()


@pytest.mark.parametrize(
    ("cells", "column", "code"),
    [
        ({"energy_consumed": "-1e-06"}, "energy_consumed", "non_positive_energy"),
        ({"energy_consumed": "nan"}, "energy_consumed", "bad_number"),
        ({"energy_consumed": ""}, "energy_consumed", "missing_value"),
        ({"gpu_power": "inf"}, "gpu_power", "bad_number"),
        ({"latitude": "48,8"}, "", "wrong_column_count"),
        ({"timestamp": "2026-11-26T17:16:20Z"}, "timestamp", "bad_timestamp"),
        ({"timestamp": "2026-13-26T17:16:20"}, "timestamp", "bad_timestamp"),
        ({"timestamp": "3026-11-26T17:16:20"}, "timestamp", "bad_timestamp"),
        ({"timestamp": ""}, "timestamp", "missing_value"),
        ({"on_cloud": "yes"}, "on_cloud", "bad_on_cloud"),
        ({"pue": "0"}, "pue", "non_positive_pue"),
        ({"run_id": "  "}, "run_id", "missing_value"),
    ],
)
def test_single_cell_problems(cells: dict[str, str], column: str, code: str) -> None:
    chunks = read_bytes(sample_with(**cells))
    assert [(p.line, p.column, p.code) for p in problems(chunks)] == [(2, column, code)]
    assert records(chunks).empty and chunks[0].rows_read == 1


def test_empty_on_cloud_and_pue_take_defaults() -> None:
    row = records(read_bytes(sample_with(on_cloud="", pue="", wue="", water_consumed=""))).iloc[0]
    assert (row["on_cloud"], row["pue"], row["wue"], row["water_l"]) == (False, 1.0, 0.0, 0.0)


def test_every_bad_cell_of_a_row_is_reported() -> None:
    found = problems(read_bytes(sample_with(duration="x", cpu_energy="y", on_cloud="?")))
    assert [(p.column, p.code) for p in found] == [
        ("duration", "bad_number"),
        ("cpu_energy", "bad_number"),
        ("on_cloud", "bad_on_cloud"),
    ]


# --------------------------------------------------------------------------------------------------- refusals


def test_empty_file_is_refused() -> None:
    assert refused(b"", "empty.csv") == "empty.csv: the file is empty"
    assert "the file is empty" in refused(b"\n\n")


def test_header_only_is_refused() -> None:
    data = (FIXTURES / "header_only.csv").read_bytes()
    assert refused(data, "header_only.csv") == "header_only.csv: contains no data rows (only a header)"
    assert "no data rows" in refused(data + b"\n\n")


def test_html_page_is_refused() -> None:
    message = refused((FIXTURES / "not_a_csv.html").read_bytes(), "not_a_csv.html")
    assert message == "not_a_csv.html: not a CSV file (it looks like an HTML or XML document)"


def test_binary_with_nul_bytes_is_refused() -> None:
    data = (FIXTURES / "random.bin").read_bytes()
    message = refused(data, "random.bin")
    assert message.startswith("random.bin: not a text file: binary content (NUL byte at offset")
    nul = data.index(b"\x00")
    assert f"offset {nul})" in message


@pytest.mark.parametrize(
    ("data", "what"),
    [
        ((FIXTURES / "emissions.csv.gz").read_bytes(), "gzip-compressed"),
        (b"PK\x03\x04\x14\x00\x00\x00", "zip archive"),
        ("timestamp,run_id\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_compressed_and_utf16_files_are_refused(data: bytes, what: str) -> None:
    message = refused(data, "upload.csv")
    assert message.startswith("upload.csv: not a CSV file: it is") and what in message


def test_missing_required_columns_are_listed() -> None:
    message = refused((FIXTURES / "emissions_missing_columns.csv").read_bytes(), "emissions.csv")
    assert message == "emissions.csv: not a codecarbon file: missing required columns duration, energy_consumed"


def test_other_csv_files_are_refused() -> None:
    assert "missing required columns timestamp, duration, energy_consumed, run_id" in refused(b"a,b\n1,2\n")
    semicolon = SAMPLE.read_text(encoding="utf-8").replace(",", ";").encode()
    assert "separated by ';'" in refused(semicolon)
    assert "duplicate column names in the header: run_id" in refused(b"timestamp,run_id,run_id,duration\n1,2,3,4\n")


def test_undecodable_byte_is_refused_with_offset_and_line() -> None:
    data = (FIXTURES / "emissions_latin1.csv").read_bytes()
    offset = data.index(b"\xe9")
    message = refused(data, "emissions_latin1.csv")
    assert message.startswith(
        f"emissions_latin1.csv: cannot be decoded as UTF-8 (byte 0xe9 at offset {offset}, line 2)"
    )


def test_truncated_utf8_sequence_at_end_of_file_is_refused() -> None:
    data = SAMPLE.read_bytes() + b"\xc3"
    assert f"(byte 0xc3 at offset {len(data) - 1}, line 7)" in refused(data)


def test_decoding_error_mid_file_raises_after_earlier_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    data = SAMPLE.read_bytes()
    data = data[:-20] + b"\xff" + data[-19:]
    monkeypatch.setattr(cc, "_READ_SIZE", 64)
    chunks = read_codecarbon_csv(io.BytesIO(data), filename="e.csv", chunk_rows=1)
    assert next(chunks).rows_read == 1
    with pytest.raises(CodecarbonFormatError, match=f"byte 0xff at offset {len(data) - 20}, line 6"):
        list(chunks)


def test_unterminated_quote_is_refused() -> None:
    assert "line 3: a quoted field is never closed" in refused(sample_with() + b'2026-11-26T17:16:20,"open\n')


def test_text_stream_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="binary stream"):
        list(read_codecarbon_csv(io.StringIO("timestamp"), filename="e.csv"))


# --------------------------------------------------------------------------------------------------- live records


def live_payload(**changes: object) -> dict[str, object]:
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    payload: dict[str, object] = {}
    for name, value in frame.iloc[1].items():
        numeric = pd.to_numeric(value, errors="coerce")
        payload[name] = None if value == "" else value if pd.isna(numeric) or name == "run_id" else float(numeric)
    payload["user"] = "ci-runner"
    payload.update(changes)
    return payload


def test_live_record_matches_the_file_row() -> None:
    payload = live_payload()
    assert len(payload) == 39
    frame = parse_live_record(payload)
    assert list(frame.columns) == list(RECORD_COLUMNS) and len(frame) == 1
    expected = records(read("emissions_3_3_2.csv")).iloc[[1]].reset_index(drop=True).assign(line=0)
    pd.testing.assert_frame_equal(frame, expected)


def test_live_record_accepts_json_booleans_and_nulls() -> None:
    frame = parse_live_record(live_payload(on_cloud=True, pue=None, gpu_model=None))
    assert bool(frame.loc[0, "on_cloud"]) and frame.loc[0, "pue"] == 1.0 and frame.loc[0, "gpu_model"] == ""


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([1, 2], "live record: the body must be a JSON object, got list"),
        ({"timestamp": "2026-11-26T17:16:20"}, "missing required fields duration, energy_consumed, run_id"),
        (live_payload(energy_consumed="abc"), "energy_consumed must be a number, got 'abc'"),
        (live_payload(energy_consumed=0), "energy_consumed must be greater than 0"),
        (live_payload(timestamp="yesterday"), "timestamp must be a local date-time"),
        (live_payload(duration=float("nan")), "duration must be a number, got 'nan'"),
        (live_payload(cpu_power={"w": 1}), "field cpu_power must be a single value, got dict"),
        (live_payload(run_id="None"), "run_id is 'None'"),
    ],
)
def test_bad_live_records_are_refused_whole(payload: object, message: str) -> None:
    with pytest.raises(CodecarbonFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_live_record(payload)  # type: ignore[arg-type]
