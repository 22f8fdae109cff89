"""Billing and provider-carbon readers: every variant, plus bad input (docs/security.md §5)."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from greenesg.footprint.methodology.cloud import estimate_line, extrapolate_unknown
from ingestion.billing.readers import (
    BillingFileError,
    Limits,
    ReaderOptions,
    ReadReport,
    detect_billing_format,
    detect_file_format,
    iter_billing_chunks,
    read_billing_lines,
    read_provider_carbon,
)
from ingestion.billing.readers import reader as reader_module

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "billing"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def read(path: Path, **kw: object) -> tuple[list, ReadReport]:
    report = ReadReport(path.name)
    lines = list(read_billing_lines(path, report=report, **kw))  # type: ignore[arg-type]
    return lines, report


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ---- AWS --------------------------------------------------------------------------------------------------------


def test_it_reads_a_legacy_cur() -> None:
    lines, report = read(FIXTURES / "cur_legacy.csv")
    assert report.format == "aws_cur_legacy"
    assert (report.rows_read, report.rows_kept, report.rows_rejected) == (11, 8, 0)
    assert report.filtered == {"line_item_type:Tax": 1, "line_item_type:Credit": 1, "line_item_type:Refund": 1}
    first = lines[0]
    assert (first.provider, first.account, first.service, first.region) == (
        "aws",
        "111122223333",
        "AmazonEC2",
        "us-east-1",
    )
    assert (first.machine_type, first.vcpus, first.bucket, first.unit) == ("m5.xlarge", 4.0, "compute", "Hrs")
    assert first.usage_start == datetime(2024, 1, 1, tzinfo=UTC)
    assert first.tags == {"team": "platform", "env": "prod"}
    assert first.source_line == 2
    by_type = {ln.usage_type: ln for ln in lines}
    assert by_type["USE1-BoxUsage:t3.small"].vcpus == 2.0  # product/vcpu empty: instance table (#783)
    assert by_type["USE1-EBS:VolumeUsage.gp3"].bucket == "storage_ssd"
    assert by_type["USE1-DataTransfer-Out-Bytes"].bucket == "network"
    assert by_type["USE1-NatGateway-Hours"].bucket == "unknown"
    assert by_type["USE1-InstanceUsage:db.m5.large"].machine_type == "m5.large"
    assert by_type["Dollar"].bucket == "unsupported"


def test_it_reads_cur_2_0_with_maps() -> None:
    lines, report = read(FIXTURES / "cur2.csv")
    assert report.format == "aws_cur2"
    assert report.filtered == {"line_item_type:Fee": 1}
    m5 = lines[0]
    assert (m5.vcpus, m5.tags, m5.account_name) == (4.0, {"team": "platform"}, "prod-account")
    assert m5.usage_start == datetime(2024, 1, 1, tzinfo=UTC)
    assert [ln.bucket for ln in lines] == ["compute", "compute", "storage_hdd", "compute"]


def test_columns_are_mapped_by_name_not_position(tmp_path: Path) -> None:
    rows = [r.split(",") for r in fixture_text("cur_legacy.csv").splitlines()]
    shuffled = "\n".join(",".join(reversed(r)) for r in rows) + "\n"
    lines, _ = read(write(tmp_path, "reversed.csv", shuffled))
    original, _ = read(FIXTURES / "cur_legacy.csv")
    assert lines == original


def test_it_reads_multi_member_gzip(tmp_path: Path) -> None:
    text = fixture_text("cur_legacy.csv").splitlines(keepends=True)
    path = tmp_path / "cur.csv.gz"
    path.write_bytes(gzip.compress("".join(text[:5]).encode()) + gzip.compress("".join(text[5:]).encode()))
    lines, report = read(path)
    assert report.rows_read == 11 and len(lines) == 8


def test_it_reads_a_zipped_cur(tmp_path: Path) -> None:
    path = tmp_path / "cur.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cur-00001.csv", fixture_text("cur2.csv"))
        archive.writestr("cur-00002.csv.gz", gzip.compress(fixture_text("cur2.csv").encode()))
    lines, report = read(path)
    assert report.rows_read == 10 and len(lines) == 8


def test_it_streams_in_chunks() -> None:
    chunks = list(iter_billing_chunks(FIXTURES / "cur_legacy.csv", options=ReaderOptions(chunksize=3)))
    assert len(chunks) == 4
    lines = [ln for chunk in chunks for ln in chunk]
    assert [ln.source_line for ln in lines] == [2, 3, 4, 5, 6, 10, 11, 12]


def test_it_reads_excel_semicolon_files_with_bom_and_decimal_comma(tmp_path: Path) -> None:
    text = fixture_text("cur_legacy.csv").splitlines()[:2]
    text = [text[0].replace(",", ";"), text[1].replace(",", ";").replace(";0.192;", ";0,192;")]
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(text).encode() + b"\r\n")
    (line,), report = read(path)
    assert report.format == "aws_cur_legacy" and line.cost == pytest.approx(0.192)


def test_it_reads_utf16_excel_unicode_text(tmp_path: Path) -> None:
    text = "\n".join(r.replace(",", "\t") for r in fixture_text("cur_legacy.csv").splitlines()[:3]) + "\n"
    (first, second), _ = read(write(tmp_path, "unicode.csv", text, encoding="utf-16"))
    assert first.machine_type == "m5.xlarge" and second.machine_type == "t3.small"


# ---- GCP, Azure, FOCUS ------------------------------------------------------------------------------------------


def test_it_reads_a_gcp_billing_export() -> None:
    lines, report = read(FIXTURES / "gcp_billing.csv")
    assert report.format == "gcp_billing"
    assert report.filtered == {"cost_type:tax": 1, "cost_type:rounding_error": 1}
    core = lines[0]
    assert (core.account, core.region, core.machine_type, core.vcpus) == (
        "acme-prod",
        "us-central1",
        "n2-standard-4",
        4,
    )
    assert core.tags == {"team": "search"}
    assert core.usage_start == datetime(2024, 1, 1, tzinfo=UTC)
    buckets = [ln.bucket for ln in lines]
    assert buckets == ["compute", "memory", "storage_hdd", "network", "gpu", "unknown", "unsupported"]
    assert lines[2].region == "us"  # multi-region kept as is; its factor is the mean of members (4.10.3)


def test_it_reads_gcp_underscore_names(tmp_path: Path) -> None:
    text = fixture_text("gcp_billing.csv")
    header, rest = text.split("\n", 1)
    lines, report = read(write(tmp_path, "flat.csv", header.replace(".", "_") + "\n" + rest))
    assert report.format == "gcp_billing" and len(lines) == 7


def test_it_reads_an_azure_ea_export() -> None:
    lines, report = read(FIXTURES / "azure_ea.csv")
    assert report.format == "azure_cost"
    assert report.filtered == {"charge_type:Purchase": 1, "charge_type:Refund": 1}
    vm = lines[0]
    assert (vm.machine_type, vm.vcpus, vm.region, vm.resource_group) == ("Standard_D4ads_v5", 4.0, "eastus", "rg-web")
    assert vm.usage_start == datetime(2024, 1, 15, tzinfo=UTC)  # US month-first date
    assert vm.tags == {"team": "web", "env": "prod"}  # tag list without braces
    assert [ln.bucket for ln in lines] == ["compute", "storage_ssd", "network", "unknown"]


def test_it_reads_an_azure_mca_export_in_camel_case() -> None:
    lines, report = read(FIXTURES / "azure_mca.csv")
    assert report.format == "azure_cost"
    vm, func = lines
    assert (vm.usage_type, vm.vcpus, vm.region) == ("D2s v3", 2.0, "westeurope")  # " Spot" and "/..." stripped
    assert (func.bucket, func.region) == ("memory", "westeurope")  # EuropeWest alias


def test_azure_packs_are_unscaled_unless_asked(tmp_path: Path) -> None:
    text = fixture_text("azure_ea.csv").replace(",1 Hour,24,", ",10 Hours,24,", 1)
    path = write(tmp_path, "packs.csv", text)
    assert read(path)[0][0].amount == 24
    packed = read(path, options=ReaderOptions(azure_quantity_in_packs=True))[0][0]
    assert (packed.amount, packed.unit) == (240, "1 Hours")


def test_it_reads_focus_from_aws() -> None:
    lines, report = read(FIXTURES / "focus.csv")
    assert report.format == "focus"
    assert report.filtered == {"charge_category:Credit": 1, "charge_category:Tax": 1, "charge_class:Correction": 1}
    (line,) = lines
    assert (line.provider, line.service, line.machine_type, line.bucket) == ("aws", "AmazonEC2", "m5.xlarge", "compute")
    assert line.tags == {"team": "platform"}


def test_it_reads_focus_from_azure() -> None:
    lines, _ = read(FIXTURES / "focus_azure.csv")
    assert [(ln.provider, ln.bucket) for ln in lines] == [("azure", "compute"), ("azure", "network")]
    assert lines[0].machine_type == "Standard_D4ads_v5"


# ---- provider carbon exports ------------------------------------------------------------------------------------


def test_aws_carbon_tonnes_become_kg() -> None:
    records = list(read_provider_carbon(FIXTURES / "aws_carbon.csv"))
    ec2 = records[0]
    assert ec2.kg["location_based"] == pytest.approx(125.0)
    assert ec2.original["location_based"] == (0.125, "MTCO2e")
    assert ec2.kg["scope3_location_based"] == pytest.approx(24.0)
    assert (ec2.model_version, ec2.method, ec2.period_start) == (
        "v3.0.0",
        "supplier-specific",
        datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert set(records[1].kg) == {"location_based", "market_based"}  # older column set: totals only


def test_gcp_carbon_is_already_kg() -> None:
    (rec,) = read_provider_carbon(FIXTURES / "gcp_carbon.csv")
    assert rec.kg["location_based"] == 14.0 and rec.kg["scope2_market_based"] == 1.1
    assert (rec.account, rec.model_version) == ("acme-prod", "13")


def test_azure_carbon_exports_are_normalised_to_kg() -> None:
    (rest,) = read_provider_carbon(FIXTURES / "azure_carbon.csv")
    assert rest.kg == {"latest_month": 12.75, "previous_month": 11.5}
    (mcfs,) = read_provider_carbon(FIXTURES / "azure_mcfs.csv")
    assert mcfs.kg == {"scope2": pytest.approx(42.5)} and mcfs.original["scope2"] == (0.0425, "mtCO2e")


def test_a_carbon_export_is_not_billing() -> None:
    with pytest.raises(BillingFileError, match="AWS carbon emissions export.*not a billing export"):
        read(FIXTURES / "aws_carbon.csv")


# ---- detection and bad input ------------------------------------------------------------------------------------


def test_detection_by_header() -> None:
    assert detect_file_format(FIXTURES / "cur2.csv") == "aws_cur2"
    assert (
        detect_billing_format(
            ["Date", "meterCategory", "MeterName", "UnitOfMeasure", "Quantity", "Cost", "SubscriptionId"]
        )
        == "azure_cost"
    )


def test_a_wrong_format_lists_the_expected_formats(tmp_path: Path) -> None:
    path = write(tmp_path, "emissions.csv", "timestamp,project_name,run_id,duration,emissions,energy_consumed\n")
    with pytest.raises(BillingFileError) as err:
        read(path)
    message = str(err.value)
    assert message.startswith("emissions.csv: not a recognised billing or carbon export")
    for label in (
        "AWS Cost and Usage Report (legacy CSV)",
        "AWS CUR 2.0",
        "Google Cloud billing",
        "Azure Cost",
        "FOCUS",
    ):
        assert label in message
    assert "lineItem/UsageType" in message


def test_missing_columns_are_named(tmp_path: Path) -> None:
    text = fixture_text("cur_legacy.csv").replace("lineItem/UsageAmount", "lineItem/Amount")
    with pytest.raises(BillingFileError) as err:
        read(write(tmp_path, "cur.csv", text))
    first_reason = str(err.value).split("\n")[1]
    assert first_reason == "- AWS Cost and Usage Report (legacy CSV): missing lineItem/UsageAmount"


def test_an_ambiguous_header_is_rejected() -> None:
    columns = fixture_text("cur2.csv").split("\n", 1)[0].split(",") + fixture_text("azure_ea.csv").split("\n", 1)[
        0
    ].split(",")
    with pytest.raises(BillingFileError, match="ambiguous"):
        detect_billing_format(columns)


def test_bad_numbers_and_dates_are_row_problems(tmp_path: Path) -> None:
    rows = fixture_text("cur_legacy.csv").splitlines()
    rows[1] = rows[1].replace(",1.0,USD,0.192", ",abc,USD,0.192")
    rows[2] = rows[2].replace("2024-01-01T00:00:00Z", "2024-13-45", 1)
    lines, report = read(write(tmp_path, "bad.csv", "\n".join(rows) + "\n"))
    assert len(lines) == 6 and report.rows_rejected == 2
    assert [p.as_tuple() for p in report.problems] == [
        (2, "lineItem/UsageAmount", "bad_number", "not a number", "abc"),
        (3, "lineItem/UsageStartDate", "bad_date", "expected a date/time such as 2024-01-31T00:00:00Z", "2024-13-45"),
    ]


def test_wrong_encoding_is_a_clear_error(tmp_path: Path) -> None:
    text = fixture_text("cur_legacy.csv").replace("platform,prod", "plateforme-équipe,prod")
    with pytest.raises(BillingFileError, match="not valid UTF-8"):
        read(write(tmp_path, "latin1.csv", text, encoding="latin-1"))


def test_wrong_encoding_after_the_sniffed_prefix_is_a_clear_error(tmp_path: Path) -> None:
    rows = fixture_text("cur_legacy.csv").splitlines()
    body = "\n".join(rows[:2] + rows[1:2] * 2000 + [rows[1].replace("platform", "équipe")]) + "\n"
    with pytest.raises(BillingFileError, match="not valid UTF-8"):
        read(write(tmp_path, "late.csv", body, encoding="latin-1"))


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", gzip.compress(b"")])
def test_an_empty_file_is_rejected(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv.gz"
    path.write_bytes(content)
    with pytest.raises(BillingFileError, match="empty"):
        read(path)


def test_a_truncated_gzip_is_rejected(tmp_path: Path) -> None:
    rows = fixture_text("cur_legacy.csv")
    data = gzip.compress((rows + rows.split("\n", 1)[1] * 500).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BillingFileError, match="truncated"):
        read(path)


def test_an_unsupported_extension_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(BillingFileError, match="unsupported file type"):
        read(write(tmp_path, "cur.xlsx", fixture_text("cur2.csv")))


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("../../etc/cur.csv", "'..' path"),
        ("/var/data/cur.csv", "absolute"),
        ("inner.zip", "nested archives"),
        ("cur.exe", "not a .csv"),
        ("reports/", "directory"),
    ],
)
def test_dangerous_zip_members_are_rejected(tmp_path: Path, member: str, reason: str) -> None:
    path = _zip(tmp_path / "cur.zip", {member: fixture_text("cur2.csv").encode()})
    with pytest.raises(BillingFileError, match=reason):
        read(path)


def test_a_zip_with_too_many_members_is_rejected(tmp_path: Path) -> None:
    path = _zip(tmp_path / "cur.zip", {f"part{i}.csv": fixture_text("cur2.csv").encode() for i in range(5)})
    with pytest.raises(BillingFileError, match="at most 4"):
        read(path)


def test_an_encrypted_zip_member_is_rejected(tmp_path: Path) -> None:
    path = _zip(tmp_path / "cur.zip", {"cur.csv": fixture_text("cur2.csv").encode()})
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x1  # general-purpose flag bit 0: encrypted
    path.write_bytes(bytes(data))
    with pytest.raises(BillingFileError, match="encrypted"):
        read(path)


def _bomb_rows(header: str, megabytes: int) -> Iterator[bytes]:
    """A CSV header, then the same well-formed row repeated: compresses about 1000:1 (generated, never committed)."""
    yield header.encode() + b"\n"
    row = b",".join(b"0" for _ in header.split(",")) + b"\n"
    block = row * (2**20 // len(row))
    for _ in range(megabytes):
        yield block


def _one_line(header: str, megabytes: int) -> Iterator[bytes]:
    """A CSV header followed by one endless line of zeros (issue 13: a 6 MB file of one line)."""
    yield header.encode() + b"\n"
    for _ in range(megabytes):
        yield b"0" * 2**20


def _zip_member(rows: Iterator[bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("cur.csv", "w") as member:
        for block in rows:
            member.write(block)
    return buffer.getvalue()


def test_a_zip_bomb_is_stopped_by_the_ratio_cap(tmp_path: Path) -> None:
    header = fixture_text("cur2.csv").split("\n", 1)[0]
    path = tmp_path / "bomb.zip"
    path.write_bytes(_zip_member(_bomb_rows(header, 64)))
    assert path.stat().st_size < 2**20
    with pytest.raises(BillingFileError, match="compression ratio above 200:1") as caught:
        read(path)
    assert "the setting BILLING_MAX_COMPRESSION_RATIO" in str(caught.value)


def test_a_gzip_bomb_is_stopped_by_the_ratio_cap(tmp_path: Path) -> None:
    header = fixture_text("cur2.csv").split("\n", 1)[0]
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb") as gz:
        for block in _bomb_rows(header, 64):
            gz.write(block)
    with pytest.raises(BillingFileError, match="possible decompression bomb"):
        read(path)


@pytest.mark.parametrize("archive", ["gz", "zip"])
def test_a_one_line_bomb_is_stopped_after_one_block(tmp_path: Path, archive: str) -> None:
    # Issue 13: one endless line reached 1.4 GB before the ratio cap; the row bound refuses it after one block,
    # long before the ratio (200:1 of ~60 KB) or byte cap would, and without holding more than one block.
    header = fixture_text("cur2.csv").split("\n", 1)[0]
    if archive == "gz":
        path = tmp_path / "line.csv.gz"
        with gzip.open(path, "wb") as gz:
            for block in _one_line(header, 64):
                gz.write(block)
    else:
        path = tmp_path / "line.zip"
        path.write_bytes(_zip_member(_one_line(header, 64)))
    limits = Limits(max_row_bytes=2**20, max_ratio=10_000)
    with pytest.raises(BillingFileError, match="a row is longer than 1,048,576 bytes") as caught:
        read(path, options=ReaderOptions(limits=limits))
    assert "the setting BILLING_MAX_ROW_BYTES" in str(caught.value)


def test_the_byte_cap_counts_real_decompressed_bytes(tmp_path: Path) -> None:
    rows = fixture_text("cur_legacy.csv")
    path = write(tmp_path, "big.csv", rows + rows.split("\n", 1)[1] * 200)
    with pytest.raises(BillingFileError, match="exceeds the limit of 100000 bytes"):
        read(path, options=ReaderOptions(limits=Limits(max_bytes=100_000)))


# ---- end to end: reader -> methodology -------------------------------------------------------------------------


def test_credits_and_refunds_never_create_negative_energy() -> None:
    lines, report = read(FIXTURES / "cur_legacy.csv")
    assert report.filtered["line_item_type:Credit"] == 1 and report.filtered["line_item_type:Refund"] == 1
    estimates = [estimate_line(ln, region_factor_g_per_kwh=379.069) for ln in lines]
    result = extrapolate_unknown(estimates)
    modelled = [e for e in estimates if e.method == "modelled"]
    assert all(e.facility_kwh >= 0 for e in modelled + result.estimates if e.facility_kwh is not None)
    m5 = next(e for e in modelled if e.line.machine_type == "m5.xlarge")
    assert m5.facility_kwh * 1000 == pytest.approx(16.757, abs=0.001)  # type: ignore[operator]
    (nat,) = result.estimates
    assert nat.method == "extrapolated" and nat.extrapolation is not None
    assert (result.unsupported_rows, result.unsupported_cost) == (1, 100.0)


# ---- column-wise fast path ---------------------------------------------------------------------------------------


def _read_both(path: Path, monkeypatch: pytest.MonkeyPatch, **kw: object) -> tuple[tuple, tuple]:
    def summary() -> tuple:
        lines, report = read(path, **kw)
        problems = [p.as_tuple() for p in report.problems]
        counts = (report.rows_read, report.rows_kept, report.rows_rejected, report.filtered, report.buckets)
        return lines, counts, problems

    fast = summary()
    with monkeypatch.context() as patch:
        patch.setattr(reader_module, "_chunk_parser", lambda fmt, options: None)  # the row-by-row parsers
        slow = summary()
    return fast, slow


@pytest.mark.parametrize("name", ["cur_legacy.csv", "cur2.csv", "gcp_billing.csv", "azure_ea.csv", "azure_mca.csv"])
def test_the_column_wise_path_matches_the_row_parsers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    rows = [r.split(",") for r in fixture_text(name).splitlines()]
    for line, (col, junk) in enumerate([(7, "abc"), (3, ""), (5, '"0,5"'), (4, "nan"), (0, "2024-13-45")], start=1):
        if line < len(rows):
            rows[line][col % len(rows[line])] = junk
    path = write(tmp_path, name, "\n".join(",".join(r) for r in rows) + "\n")
    for options in (ReaderOptions(), ReaderOptions(chunksize=2), ReaderOptions(azure_quantity_in_packs=True)):
        fast, slow = _read_both(path, monkeypatch, options=options)
        assert fast == slow
        assert all(type(ln.source_line) is int for ln in fast[0])


@pytest.mark.parametrize("name", ["focus.csv", "focus_azure.csv", "focus_azure_microsoft.csv"])
def test_the_column_wise_focus_path_matches_the_row_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    import csv

    rows = list(csv.reader(io.StringIO(fixture_text(name))))
    header = rows[0]
    junk = [("ConsumedQuantity", "abc"), ("ConsumedQuantity", ""), ("BilledCost", "0,5"), ("ChargePeriodStart", "x")]
    for line, (column, value) in enumerate(junk, start=1):
        if line < len(rows):
            rows[line][header.index(column)] = value
    rows += rows[1:] * 3  # repeated resources: computed once per distinct combination
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path = write(tmp_path, name, out.getvalue())
    for options in (ReaderOptions(), ReaderOptions(chunksize=2)):
        fast, slow = _read_both(path, monkeypatch, options=options)
        assert fast == slow
        assert fast[2], "the junk cells must reach the row parser and come out as row problems"


# ---- Parquet (CUR 2.0 / Data Exports, AWS carbon export) ---------------------------------------------------------


def _cur2_table() -> object:
    """The cur2.csv fixture typed as Data Exports writes it: timestamps, doubles and MAP columns."""
    pa = pytest.importorskip("pyarrow")
    import pandas as pd

    frame = pd.read_csv(FIXTURES / "cur2.csv", dtype=str, keep_default_na=False)
    as_map = pa.map_(pa.string(), pa.string())
    columns = {name: pa.array(frame[name].tolist(), pa.string()) for name in frame.columns}
    for name in ("bill_billing_period_start_date", "line_item_usage_start_date"):
        columns[name] = pa.array(pd.to_datetime(frame[name], utc=True), pa.timestamp("ms", tz="UTC"))
    for name in ("line_item_usage_amount", "line_item_unblended_cost"):
        columns[name] = pa.array(frame[name].astype(float), pa.float64())
    for name in ("product", "resource_tags"):
        columns[name] = pa.array([list(json.loads(v).items()) for v in frame[name]], as_map)
    return pa.table(columns)


def _write_parquet(table: object, path: Path, row_group_size: int = 2) -> Path:
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def test_it_reads_cur_2_0_parquet_with_map_columns(tmp_path: Path) -> None:
    path = _write_parquet(_cur2_table(), tmp_path / "cur2-00001.snappy.parquet")
    assert detect_file_format(path) == "aws_cur2"
    lines, report = read(path, options=ReaderOptions(chunksize=2))
    csv_lines, _ = read(FIXTURES / "cur2.csv")
    assert report.format == "aws_cur2" and report.filtered == {"line_item_type:Fee": 1}
    assert [replace(ln, source_line=0) for ln in lines] == [replace(ln, source_line=0) for ln in csv_lines]
    m5 = lines[0]
    assert (m5.vcpus, m5.tags, m5.account_name, m5.source_line) == (4.0, {"team": "platform"}, "prod-account", 1)
    assert m5.usage_start == datetime(2024, 1, 1, tzinfo=UTC)
    assert [ln.source_line for ln in lines] == [1, 2, 3, 5]  # Parquet rows are numbered from 1 (no header)


def test_a_parquet_dictionary_bomb_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    # One 1 MiB string repeated on 300 rows: a few KB on disk, 300 MiB as text. The decoded size is counted on the
    # dictionary-encoded batch, so pyarrow never holds the decoded text (checked in a fresh interpreter, whose
    # Arrow memory pool has seen nothing else).
    pa = pytest.importorskip("pyarrow")
    table = _cur2_table().take([0] * 300)  # type: ignore[attr-defined]
    index = table.schema.get_field_index("line_item_usage_type")
    table = table.set_column(index, "line_item_usage_type", pa.array(["x" * 2**20] * 300, pa.string()))
    path = tmp_path / "bomb.parquet"
    pytest.importorskip("pyarrow.parquet").write_table(table, path, compression="zstd", row_group_size=300)
    assert path.stat().st_size < 2**20
    script = (
        "import sys, pyarrow as pa\n"
        "from ingestion.billing.readers import BillingFileError, read_billing_lines\n"
        "try:\n    list(read_billing_lines(sys.argv[1]))\n"
        "except BillingFileError as exc:\n    print(exc)\n"
        "print(pa.default_memory_pool().max_memory())\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, cwd=root)
    message, peak = done.stdout.strip().splitlines()[-2:]
    assert "compression ratio above 200:1" in message and "BILLING_MAX_COMPRESSION_RATIO" in message
    assert int(peak) < 50 * 2**20, f"Arrow held {int(peak) / 2**20:.0f} MiB"


def test_parquet_is_streamed_batch_by_batch(tmp_path: Path) -> None:
    path = _write_parquet(_cur2_table(), tmp_path / "cur2.parquet", row_group_size=2)
    chunks = list(iter_billing_chunks(path, options=ReaderOptions(chunksize=1)))
    assert len(chunks) == 5 and sum(len(c) for c in chunks) == 4


def test_parquet_bad_cells_are_row_problems(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    table = _cur2_table()
    amounts = pa.array([1.0, None, 50.0, 1.0, float("nan")], pa.float64())
    table = table.set_column(table.schema.get_field_index("line_item_usage_amount"), "line_item_usage_amount", amounts)
    lines, report = read(_write_parquet(table, tmp_path / "bad.parquet"))
    assert len(lines) == 2 and report.rows_rejected == 2
    assert [p.as_tuple()[:3] for p in report.problems] == [
        (2, "line_item_usage_amount", "missing_value"),
        (5, "line_item_usage_amount", "bad_number"),
    ]


def test_aws_carbon_export_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pandas as pd

    frame = pd.read_csv(FIXTURES / "aws_carbon.csv", dtype=str, keep_default_na=False)
    columns = {name: pa.array(frame[name].tolist(), pa.string()) for name in frame.columns}
    columns["total_lbm_emissions_value"] = pa.array(frame["total_lbm_emissions_value"].astype(float), pa.float64())
    columns["usage_period_start"] = pa.array(pd.to_datetime(frame["usage_period_start"]), pa.timestamp("s", tz="UTC"))
    path = _write_parquet(pa.table(columns), tmp_path / "carbon.parquet")
    ec2 = next(iter(read_provider_carbon(path)))
    assert ec2.kg["location_based"] == pytest.approx(125.0) and ec2.period_start == datetime(2025, 1, 1, tzinfo=UTC)


def test_parquet_with_missing_columns_names_them(tmp_path: Path) -> None:
    table = _cur2_table().drop_columns(["line_item_usage_amount"])  # type: ignore[attr-defined]
    with pytest.raises(BillingFileError) as err:
        read(_write_parquet(table, tmp_path / "cur2.parquet"))
    assert "AWS CUR 2.0 / Data Exports (snake_case): missing line_item_usage_amount" in str(err.value)


def test_a_csv_named_parquet_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(BillingFileError, match="not a Parquet file"):
        read(write(tmp_path, "cur2.parquet", fixture_text("cur2.csv")))


def test_a_truncated_parquet_is_rejected(tmp_path: Path) -> None:
    path = _write_parquet(_cur2_table(), tmp_path / "cur2.parquet")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BillingFileError, match="truncated"):
        read(path)


def test_an_empty_parquet_is_rejected(tmp_path: Path) -> None:
    table = _cur2_table().slice(0, 0)  # type: ignore[attr-defined]
    with pytest.raises(BillingFileError, match="empty"):
        read(_write_parquet(table, tmp_path / "cur2.parquet"))


def test_parquet_without_pyarrow_is_refused_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cur2.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 16 + b"PAR1")
    for name in ("pyarrow", "pyarrow.compute", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, name, None)  # import pyarrow now raises ImportError
    with pytest.raises(BillingFileError, match="Parquet needs pyarrow"):
        read(path)


@pytest.mark.parametrize("cut", ["short", "long"])
def test_a_row_with_the_wrong_number_of_cells_is_refused_naming_its_line(tmp_path: Path, cut: str) -> None:
    rows = fixture_text("cur_legacy.csv").splitlines()
    # A quoted cell with a line break first: the line named is the file's line, not the row's index.
    rows[1] = rows[1].replace("platform", '"plat\nform"', 1)
    rows[3] = rows[3].rsplit(",", 1)[0] if cut == "short" else rows[3] + ",extra"
    fields = len(rows[0].split(","))
    with pytest.raises(BillingFileError) as caught:
        read(write(tmp_path, "ragged.csv", "\n".join(rows) + "\n"))
    got = fields - 1 if cut == "short" else fields + 1
    assert f"line 5 has {got} cells where the header has {fields}" in str(caught.value)
