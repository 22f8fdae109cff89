"""Streaming read loop shared by every billing and carbon format.

Files are parsed by pyarrow's streaming CSV reader in bounded blocks, re-cut into chunks of `chunksize` rows
(all text, so nothing is guessed, and memory stays flat as files grow; docs/security.md §5), rows are mapped by
header name and handed to the format's row parser. A structural problem
raises BillingFileError, possibly after some chunks were yielded (a truncated gzip is only seen at its end), so
callers must write inside one transaction and roll back on error: nothing half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenesg.footprint.methodology.cloud import NormalisedBillingLine
from ingestion.billing.readers.aws import parse_aws_chunk, parse_aws_row
from ingestion.billing.readers.azure import parse_azure_chunk, parse_azure_row
from ingestion.billing.readers.carbon import CARBON_PARSERS, extra_columns
from ingestion.billing.readers.columns import Chunk, FastResult, LineBatch, run_fast
from ingestion.billing.readers.common import BillingFileError, ProviderCarbonRecord, ReadReport, RowSink
from ingestion.billing.readers.csvstream import (
    InvalidUtf8,
    RaggedRow,
    first_invalid_utf8,
    first_ragged_row,
    iter_csv_frames,
)
from ingestion.billing.readers.focus import parse_focus_chunk, parse_focus_row
from ingestion.billing.readers.formats import FORMATS_BY_KEY, FormatSpec, detect_billing_format, resolve, tag_columns
from ingestion.billing.readers.gcp import parse_gcp_chunk, parse_gcp_row
from ingestion.billing.readers.grammar import keep_valid_batch, keep_valid_lines
from ingestion.billing.readers.parquet import iter_parquet_frames
from ingestion.billing.readers.source import (
    CsvLayout,
    Limits,
    list_sources,
    new_budget,
    open_stream,
    sniff_layout,
)

if TYPE_CHECKING:
    import pandas as pd

# Rows per chunk: the Python values of one chunk are most of a worker's peak memory above its start-up size (a 1M-row
# CUR import peaked at 488 MB RSS with 50,000-row chunks, ~400 MB with 20,000, ~380 MB with 10,000); the CPU time per
# row is the same within noise.
DEFAULT_CHUNKSIZE = 10_000
RowParser = Callable[[dict[str, str], dict[str, str], int, RowSink, str], Any]
ChunkParser = Callable[[Chunk, int, str], FastResult]


@dataclass(frozen=True)
class ReaderOptions:
    chunksize: int = DEFAULT_CHUNKSIZE
    limits: Limits = field(default_factory=Limits)
    # Methodology 3.3 'Pack sizes': CCF uses Quantity unscaled; set True for exports that count packs.
    azure_quantity_in_packs: bool = False


@dataclass(frozen=True)
class _Plan:
    layout: CsvLayout
    spec: FormatSpec
    label: str


def _billing_parser(fmt: str, options: ReaderOptions) -> RowParser:
    parsers: dict[str, RowParser] = {
        "aws_cur_legacy": parse_aws_row,
        "aws_cur2": parse_aws_row,
        "gcp_billing": parse_gcp_row,
        "azure_cost": partial(parse_azure_row, quantity_in_packs=options.azure_quantity_in_packs),
        "focus": parse_focus_row,
    }
    return parsers[fmt]


def _chunk_parser(fmt: str, options: ReaderOptions) -> ChunkParser | None:
    """Column-wise parser of the format, when it has one (same lines and problems as the row parser)."""
    parsers: dict[str, ChunkParser] = {
        "aws_cur_legacy": parse_aws_chunk,
        "aws_cur2": parse_aws_chunk,
        "gcp_billing": parse_gcp_chunk,
        "azure_cost": partial(parse_azure_chunk, quantity_in_packs=options.azure_quantity_in_packs),
        "focus": parse_focus_chunk,
    }
    return parsers.get(fmt)


def plan_file(path: Path, display: str, options: ReaderOptions, kind: str) -> list[_Plan]:
    """Sniff every member, detect its format, and insist on one format of the expected kind per file."""
    plans: list[_Plan] = []
    for member in list_sources(path, display, options.limits):
        label = f"{display}:{member}" if member else display
        layout = sniff_layout(path, display, member, options.limits)
        spec = FORMATS_BY_KEY[detect_billing_format(layout.columns, file_name=label)]
        if spec.kind != kind:
            if kind == "billing":
                reason = f"this file is a {spec.label}, not a billing export; import it as provider-reported carbon"
            else:
                reason = f"this file is a {spec.label}, not a provider carbon export; import it as billing data"
            raise BillingFileError(label, reason)
        plans.append(_Plan(layout, spec, label))
    if len({p.spec.key for p in plans}) > 1:
        raise BillingFileError(display, "the archive mixes several export formats")
    return plans


def _chunks(
    path: Path, display: str, plan: _Plan, usecols: list[str], options: ReaderOptions, budget: Any
) -> Iterator[pd.DataFrame]:
    layout = plan.layout
    if layout.parquet:
        yield from iter_parquet_frames(path, plan.label, usecols, options.chunksize, options.limits, budget)
        return
    try:
        with open_stream(path, display, layout.member, budget) as stream:
            yield from iter_csv_frames(stream, plan.label, layout, usecols, options.chunksize, options.limits)
    except InvalidUtf8 as exc:
        # The parser does not say where the bad byte is: a second, counted pass finds it for the message.
        with open_stream(path, display, layout.member, new_budget(path, display, options.limits)) as stream:
            found = first_invalid_utf8(stream)
        if found is None:
            raise
        byte, offset = found
        raise BillingFileError(
            plan.label,
            f"the file is not valid UTF-8 text (byte 0x{byte:02x} at offset {offset}); export it again as UTF-8",
        ) from exc
    except RaggedRow as exc:
        # The whole file is refused (a shifted row would put values under the wrong headers); the second pass
        # names the line as an editor shows it.
        with open_stream(path, display, layout.member, new_budget(path, display, options.limits)) as stream:
            ragged = first_ragged_row(stream, layout)
        if ragged is None:
            raise
        line, cells, expected = ragged
        raise BillingFileError(
            plan.label,
            f"line {line} has {cells} cells where the header has {expected} (a cell holding the delimiter without "
            "quotes, or a row cut short); export the file again",
        ) from exc


def _rows(
    frame: pd.DataFrame, mapping: dict[str, str], tags: list[tuple[str, str]]
) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    columns = [(fld, frame[header].tolist()) for fld, header in mapping.items()]
    tag_values = [(key, frame[header].tolist()) for key, header in tags]
    for i in range(len(frame)):
        yield {fld: values[i] for fld, values in columns}, {k: v[i] for k, v in tag_values if v[i]}


def _account(report: ReadReport, result: object, out: list[Any]) -> None:
    report.rows_read += 1
    if result is None:
        report.rows_rejected += 1
    elif isinstance(result, str):
        report.filtered[result] += 1
    else:
        report.rows_kept += 1
        report.buckets[getattr(result, "bucket", "provider_reported")] += 1
        out.append(result)


def _stream(
    path: str | Path, display_name: str | None, report: ReadReport | None, options: ReaderOptions, kind: str
) -> Iterator[tuple[ReadReport, _Plan, dict[str, str], list[tuple[str, str]], pd.DataFrame, int]]:
    """Yields (report, plan, field->header, tag columns, chunk, line number of the chunk's first row)."""
    source = Path(path)
    display = display_name or source.name
    report = report if report is not None else ReadReport(display)
    plans = plan_file(source, display, options, kind)
    report.format = plans[0].spec.key
    budget = new_budget(source, display, options.limits)
    for plan in plans:
        mapping, _ = resolve(plan.layout.columns, plan.spec)
        mapping.update(extra_columns(plan.spec.key, list(plan.layout.columns)))
        tags = tag_columns(plan.layout.columns, plan.spec)
        usecols = sorted(set(mapping.values()) | {header for _, header in tags})
        # CSV: line 1 is the header (embedded newlines in quoted cells are not counted); Parquet: row numbers.
        line = 1 if plan.layout.parquet else 2
        for frame in _chunks(source, display, plan, usecols, options, budget):
            yield report, plan, mapping, tags, frame, line
            line += len(frame)


def iter_billing_batches(
    path: str | Path,
    *,
    display_name: str | None = None,
    report: ReadReport | None = None,
    options: ReaderOptions | None = None,
) -> Iterator[LineBatch]:
    """Normalised usage lines as columns, one batch per chunk; filtered rows and row problems go to `report`."""
    opts = options or ReaderOptions()
    for rep, plan, mapping, tags, frame, first_line in _stream(path, display_name, report, opts, "billing"):
        parser = _billing_parser(plan.spec.key, opts)
        fast = _chunk_parser(plan.spec.key, opts)
        if fast is not None:
            chunk = Chunk(frame, mapping, tags)
            batch = run_fast(fast(chunk, first_line, plan.spec.key), chunk, parser, first_line, rep, plan.spec.key)
            yield keep_valid_batch(batch, rep, mapping)
            continue
        sink = RowSink(rep, mapping)
        out: list[NormalisedBillingLine] = []
        for offset, (row, row_tags) in enumerate(_rows(frame, mapping, tags)):
            sink.failed = False
            _account(rep, parser(row, row_tags, first_line + offset, sink, plan.spec.key), out)
        yield LineBatch.from_lines(keep_valid_lines(out, rep, mapping))


def iter_billing_chunks(
    path: str | Path,
    *,
    display_name: str | None = None,
    report: ReadReport | None = None,
    options: ReaderOptions | None = None,
) -> Iterator[list[NormalisedBillingLine]]:
    """Normalised usage lines, one list per chunk; filtered rows and row problems go to `report`."""
    for batch in iter_billing_batches(path, display_name=display_name, report=report, options=options):
        yield batch.lines()


def read_billing_lines(
    path: str | Path,
    *,
    display_name: str | None = None,
    report: ReadReport | None = None,
    options: ReaderOptions | None = None,
) -> Iterator[NormalisedBillingLine]:
    for chunk in iter_billing_chunks(path, display_name=display_name, report=report, options=options):
        yield from chunk


def read_provider_carbon(
    path: str | Path,
    *,
    display_name: str | None = None,
    report: ReadReport | None = None,
    options: ReaderOptions | None = None,
) -> Iterator[ProviderCarbonRecord]:
    """Provider-reported carbon rows (AWS CARBON_EMISSIONS, GCP carbon_footprint, Azure), normalised to kg."""
    opts = options or ReaderOptions()
    for rep, plan, mapping, tags, frame, first_line in _stream(path, display_name, report, opts, "carbon"):
        parse = CARBON_PARSERS[plan.spec.key]
        sink = RowSink(rep, mapping)
        out: list[ProviderCarbonRecord] = []
        for offset, (row, _) in enumerate(_rows(frame, mapping, tags)):
            sink.failed = False
            _account(rep, parse(row, first_line + offset, sink, plan.spec.key), out)
        yield from out


def detect_file_format(path: str | Path, *, display_name: str | None = None, limits: Limits | None = None) -> str:
    """Format key of a file on disk, from its header (every member of a zip must agree)."""
    source = Path(path)
    display = display_name or source.name
    opts = ReaderOptions(limits=limits or Limits())
    members = list_sources(source, display, opts.limits)
    keys = {
        detect_billing_format(sniff_layout(source, display, m, opts.limits).columns, file_name=display) for m in members
    }
    if len(keys) > 1:
        raise BillingFileError(display, "the archive mixes several export formats")
    return keys.pop()
