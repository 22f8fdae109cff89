"""Identifier columns of codecarbon files are checked against their grammar and reported per row.

Pure reader tests (no database): country_iso_code is ISO 3166-1 alpha-3, cloud_provider and cloud_region
are slugs, region is a place name, run_id / experiment_id are ids (UUIDs, or short tokens such as "run-a";
run_id "None" keeps its grouping),
and a NUL in a data row rejects that row instead of the whole file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ingestion.codecarbon.reader import CodecarbonFormatError, parse_live_record, read_codecarbon_csv

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "samples"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "codecarbon"


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    return list(reader.fieldnames or []), list(reader)


def _csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _read(data: bytes) -> tuple[list, list]:
    chunks = list(read_codecarbon_csv(io.BytesIO(data), filename="emissions.csv"))
    return [r for c in chunks for r in c.records.to_dict("records")], [p for c in chunks for p in c.problems]


def _with(column: str, value: str, path: Path = SAMPLES / "emissions_codecarbon_3.3.2.csv") -> tuple[list, list]:
    header, rows = _rows(path)
    rows[1][column] = value
    return _read(_csv(header, rows))


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("country_iso_code", "FR", "bad_country_code"),
        ("country_iso_code", "FRAN", "bad_country_code"),
        ("country_iso_code", "FR1", "bad_country_code"),
        ("country_iso_code", "FR\tA", "bad_country_code"),
        ("country_iso_code", "ÉTA", "bad_country_code"),
        ("region", "new\nyork", "bad_region"),
        ("region", "a\\b", "bad_region"),
        ("region", "x" * 65, "bad_region"),
        ("cloud_provider", "gcp\tx", "bad_cloud_provider"),
        ("cloud_provider", "a-very-long-provider-name", "bad_cloud_provider"),
        ("cloud_region", "europe-west1\\N", "bad_cloud_region"),
        ("cloud_region", '"eu"', "bad_cloud_region"),
        ("run_id", "869595a9 7f97", "bad_identifier"),
        ("run_id", "r\t1", "bad_identifier"),
        ("run_id", "-r1", "bad_identifier"),
        ("run_id", "r" * 65, "bad_identifier"),
        ("run_id", "869595a9\\N", "bad_identifier"),
        ("experiment_id", "my experiment", "bad_identifier"),
        ("experiment_id", "5b0fa12a-3dd7-45bb-9766-cc326314d9f1\nx", "bad_identifier"),
    ],
)
def test_a_cell_outside_its_grammar_is_a_row_problem_with_line_and_column(column: str, value: str, code: str) -> None:
    records, problems = _with(column, value)
    assert [(p.line, p.column, p.code) for p in problems] == [(3, column, code)]
    assert problems[0].raw_value == value.strip() or problems[0].raw_value == value
    assert column in problems[0].message
    assert 3 not in {r["line"] for r in records}
    assert len(records) == 4  # every other row is kept


@pytest.mark.parametrize(
    ("column", "value", "stored_as", "stored"),
    [
        ("country_iso_code", "fra", "country_iso", "FRA"),
        ("country_iso_code", "", "country_iso", ""),
        ("region", "île-de-france", "region", "île-de-france"),
        ("region", "Provence-Alpes-Côte d'Azur", "region", "provence-alpes-côte d'azur"),
        ("region", "new york", "region", "new york"),
        ("cloud_provider", "AWS", "cloud_provider", "aws"),
        ("cloud_region", "us-east-1", "cloud_region", "us-east-1"),
        ("cloud_region", "West Europe", "cloud_region", "West Europe"),
        (
            "experiment_id",
            "E7A1B2C3-D4E5-4F60-8A9B-0C1D2E3F4A5B",
            "experiment_id",
            "E7A1B2C3-D4E5-4F60-8A9B-0C1D2E3F4A5B",
        ),
        ("experiment_id", "exp-1", "experiment_id", "exp-1"),
        ("run_id", "run-a", "run_key", "run-a"),
    ],
)
def test_real_identifiers_pass(column: str, value: str, stored_as: str, stored: str) -> None:
    records, problems = _with(column, value)
    assert problems == []
    assert next(r for r in records if r["line"] == 3)[stored_as] == stored


def test_run_id_none_keeps_its_grouping() -> None:
    records, problems = _read((FIXTURES / "emissions_run_id_none.csv").read_bytes())
    assert problems == []
    assert records and all(r["run_id_missing"] for r in records)
    assert {r["run_key"].split(":")[1] for r in records} == {"alpha", "beta"}


def test_a_long_project_name_gives_a_none_key_that_fits_the_ledger() -> None:
    header, rows = _rows(FIXTURES / "emissions_run_id_none.csv")
    for row in rows:
        row["project_name"] = "p" * 250
    records, problems = _read(_csv(header, rows))
    assert problems == []
    assert {len(r["run_key"]) <= 100 for r in records} == {True}
    assert {r["project_name"] for r in records} == {"p" * 250}


def test_the_run_column_of_a_1x_file_is_a_uuid() -> None:
    header, rows = _rows(FIXTURES / "emissions_1x.csv")
    rows[0]["experiment_id"] = "run\t1"
    _, problems = _read(_csv(header, rows))
    assert [(p.line, p.column, p.code) for p in problems] == [(2, "experiment_id", "bad_identifier")]


def test_a_task_name_over_100_characters_is_a_row_problem() -> None:
    header, rows = _rows(SAMPLES / "emissions_codecarbon_3.3.2_tasks.csv")
    rows[0]["task_name"] = "t" * 101
    _, problems = _read(_csv(header, rows))
    assert [(p.line, p.column, p.code) for p in problems] == [(2, "task_name", "too_long")]


def test_a_nul_in_a_data_row_rejects_only_that_row() -> None:
    header, rows = _rows(SAMPLES / "emissions_codecarbon_3.3.2.csv")
    rows[2]["project_name"] = "a\x00b"
    records, problems = _read(_csv(header, rows))
    assert [(p.line, p.column, p.code) for p in problems] == [(4, "project_name", "nul_character")]
    assert "\x00" not in problems[0].raw_value and "\x00" not in problems[0].message
    assert problems[0].raw_value == "a\u2400b"
    assert 4 not in {r["line"] for r in records}


def test_a_nul_on_the_header_line_still_refuses_the_file_as_binary() -> None:
    with pytest.raises(CodecarbonFormatError, match="binary content"):
        _read(b"timestamp,run_id\x00,duration\n")


def test_a_live_record_with_a_bad_country_is_refused() -> None:
    header, rows = _rows(SAMPLES / "emissions_codecarbon_3.3.2.csv")
    payload = dict(rows[1]) | {"country_iso_code": "FRA\n1\t2"}
    with pytest.raises(CodecarbonFormatError, match="country_iso_code must be an ISO 3166-1 alpha-3 code"):
        parse_live_record(payload)


# ------------------------------------------------------------------------------------------ billing


def _billing_lines(tmp_path: Path, rows: list[dict[str, str]]) -> tuple[list, list]:
    from ingestion.billing.readers.common import ReadReport
    from ingestion.billing.readers.reader import read_billing_lines
    from tests.billing.conftest import cur_text

    path = tmp_path / "cur.csv"
    path.write_text(cur_text(rows), encoding="utf-8")
    report = ReadReport(path.name)
    lines = list(read_billing_lines(path, report=report))
    assert report.rows_read == report.rows_kept + report.rows_rejected + sum(report.filtered.values())
    return lines, report.problems


@pytest.mark.parametrize(
    ("field", "value", "column", "code"),
    [
        ("region", "us-east-1\n2,3", "product/region", "bad_region"),
        ("region", "us-\teast-1", "product/region", "bad_region"),
        ("region", "us\\east", "product/region", "bad_region"),
        ("account", "1111\n22223333", "lineItem/UsageAccountId", "bad_account"),
        ("currency", "US\tD", "lineItem/CurrencyCode", "bad_currency"),
        ("currency", "USDX", "lineItem/CurrencyCode", "bad_currency"),
        ("service", "Amazon\x00EC2", "lineItem/ProductCode", "nul_character"),
        ("usage_type", "USE1-BoxUsage:m5.xlarge\x00", "lineItem/UsageType", "nul_character"),
    ],
)
def test_a_billing_identifier_outside_its_grammar_is_a_row_problem(
    tmp_path: Path, field: str, value: str, column: str, code: str
) -> None:
    from tests.billing.conftest import cur_row

    bad = (
        cur_row(hour=1) | {"lineItem/CurrencyCode": value} if field == "currency" else cur_row(hour=1, **{field: value})
    )
    lines, problems = _billing_lines(tmp_path, [cur_row(hour=0), bad, cur_row(hour=2)])
    assert [(p.line, p.column, p.code) for p in problems] == [(3, column, code)]
    assert "\x00" not in problems[0].raw_value and column in problems[0].message
    assert [ln.source_line for ln in lines] == [2, 4]


def test_real_billing_identifiers_pass(tmp_path: Path) -> None:
    from tests.billing.conftest import cur_row

    rows = [cur_row(hour=0, account="012345678901", region="eu-west-3"), cur_row(hour=1, service="Amazon EC2 (été)")]
    lines, problems = _billing_lines(tmp_path, rows)
    assert problems == []
    assert [ln.region for ln in lines] == ["eu-west-3", "us-east-1"]
