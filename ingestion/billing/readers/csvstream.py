"""CSV text to all-text pandas chunks with pyarrow's streaming reader (pure: no Django).

Why pyarrow: it parses straight into Arrow string columns (the pandas frames wrap them without copying), where
pandas.read_csv built a Python object per cell first; the column-wise parsers then work on those columns. Why
bounded blocks: the reader holds one block of `Limits.max_row_bytes` at a time, so a row can be no longer than a
block. An endless line (a decompression bomb of one line, an unbalanced quote) is refused after one block instead
of growing until the byte or ratio cap, and memory stays flat whatever the file holds.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from ingestion.billing.readers.common import BillingFileError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from ingestion.billing.readers.source import CsvLayout, Limits

# Setting that raises the row-length bound (read by ingestion.billing.pipeline, named in the error).
MAX_ROW_BYTES_SETTING = "BILLING_MAX_ROW_BYTES"


def iter_csv_frames(
    stream: IO[bytes], label: str, layout: CsvLayout, usecols: list[str], chunksize: int, limits: Limits
) -> Iterator[pd.DataFrame]:
    """All-text frames of `usecols`, exactly `chunksize` rows each (the last one shorter), blank lines skipped."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in _batches(stream, label, layout, usecols, limits):
        pending.append(batch)
        rows += batch.num_rows
        while rows >= chunksize:
            table = pa.Table.from_batches(pending)
            yield _frame(table.slice(0, chunksize))
            rest = table.slice(chunksize)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows:
        yield _frame(pa.Table.from_batches(pending))


def _frame(table: pa.Table) -> pd.DataFrame:
    # pandas 3 keeps Arrow strings as its `str` dtype: the same cells pandas.read_csv(dtype=str) gave.
    return table.combine_chunks().to_pandas()


def _batches(
    stream: IO[bytes], label: str, layout: CsvLayout, usecols: list[str], limits: Limits
) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    # UTF-8 (with or without the BOM Excel writes, which pyarrow skips) is parsed natively; UTF-16 is transcoded.
    encoding = "utf8" if layout.encoding in {"utf-8", "utf-8-sig"} else layout.encoding
    read = pacsv.ReadOptions(block_size=limits.max_row_bytes, encoding=encoding, use_threads=False)
    # Quoted cells may hold newlines (pandas read them too); such a row still counts as one line.
    parse = pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=True)
    convert = pacsv.ConvertOptions(
        include_columns=usecols,
        column_types=dict.fromkeys(usecols, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        reader = pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            yield batch
    except pa.ArrowInvalid as exc:
        raise _parse_error(label, exc, limits) from exc


def _parse_error(label: str, exc: Exception, limits: Limits) -> BillingFileError:
    message = str(exc)
    if "straddl" in message:
        return BillingFileError(
            label,
            f"a row is longer than {limits.max_row_bytes:,} bytes (an unbalanced quote, or a file of one endless "
            f"line such as a decompression bomb); the limit is the setting {MAX_ROW_BYTES_SETTING}",
        )
    if "invalid UTF8" in message:
        return InvalidUtf8(label, "the file is not valid UTF-8 text; export it again as UTF-8")
    if "Empty CSV file" in message:
        return BillingFileError(label, "the file is empty")
    if "columns, got" in message:
        return RaggedRow(label, f"malformed CSV ({message})")
    return BillingFileError(label, f"malformed CSV ({message})")


class RaggedRow(BillingFileError):
    """A row with more or fewer cells than the header. Arrow counts records, not the lines a person sees in an
    editor (a quoted cell may hold line breaks): the caller finds the line with `first_ragged_row` (error path only).
    """


def first_ragged_row(stream: IO[bytes], layout: CsvLayout) -> tuple[int, int, int] | None:
    """(line, cells, header cells) of the first row whose cell count differs from the header's, or None."""
    text = io.TextIOWrapper(stream, encoding=layout.encoding, newline="")
    rows = csv.reader(text, delimiter=layout.delimiter)
    header = next(rows, None)
    if header is None:
        return None
    for row in rows:
        if row and len(row) != len(header):
            return rows.line_num, len(row), len(header)
    return None


class InvalidUtf8(BillingFileError):
    """Arrow names no offset for a bad byte; the caller finds it with `first_invalid_utf8` (error path only)."""


def first_invalid_utf8(stream: IO[bytes]) -> tuple[int, int] | None:
    """(byte, offset in the decompressed text) of the first invalid UTF-8 sequence of a stream, or None."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    offset = 0
    while block := stream.read(1 << 20):
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:
            return block[exc.start], offset + exc.start
        offset += len(block)
    return None
