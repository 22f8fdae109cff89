"""Parquet billing files (AWS CUR 2.0 / Data Exports, AWS carbon export), streamed batch by batch.

pyarrow is imported lazily: without it a `.parquet` file is refused with a clear message instead of crashing
the import of the readers. Each batch is turned into the same all-text pandas frame the CSV path produces
(null -> "", numbers and timestamps as text, MAP/STRUCT/LIST cells as JSON objects), so format detection by
column name, the row parsers and the row problems are shared with CSV and behave alike. Memory stays flat:
`iter_batches` decodes one batch at a time, and every decoded batch is charged to the decompression budget.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ingestion.billing.readers.common import BillingFileError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ingestion.billing.readers.source import Limits, _Budget

PARQUET_NAMES = (".parquet",)
MAGIC = b"PAR1"


def is_parquet_name(name: str) -> bool:
    return name.lower().endswith(PARQUET_NAMES)


def _pyarrow(display: str) -> tuple[Any, Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise BillingFileError(
            display, "Parquet needs pyarrow, which is not installed on this server; export the file as CSV instead"
        ) from exc
    return pa, pc, pq


def _check_magic(path: Path, display: str) -> None:
    """A Parquet file starts and ends with PAR1; checked first so the message says what is wrong."""
    size = path.stat().st_size
    if size == 0:
        raise BillingFileError(display, "the file is empty")
    with path.open("rb") as fh:
        head = fh.read(4)
        fh.seek(max(size - 4, 0))
        tail = fh.read(4)
    if head != MAGIC:
        raise BillingFileError(display, "not a Parquet file (it has a .parquet name but not the Parquet format)")
    if tail != MAGIC or size < 12:
        raise BillingFileError(display, "the Parquet file is truncated (incomplete download?)")


def open_parquet(path: Path, display: str, limits: Limits, *, text_columns: list[str] | None = None) -> pq.ParquetFile:
    """The opened file after the magic, footer and declared-size checks.

    `text_columns` are read dictionary-encoded, so a batch's decoded size can be counted before it is decoded.
    """
    _check_magic(path, display)  # first: a mislabelled CSV gets the same answer with or without pyarrow
    pa, _, pq = _pyarrow(display)
    try:
        parquet = pq.ParquetFile(path, read_dictionary=text_columns or None)
        parquet.schema_arrow.names  # noqa: B018 - decodes the footer's names now, where errors are mapped
        declared = sum(parquet.metadata.row_group(i).total_byte_size for i in range(parquet.metadata.num_row_groups))
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise BillingFileError(display, f"not a readable Parquet file ({exc})") from exc
    if declared > limits.max_bytes:  # refused early; the real decoded bytes are counted per batch as well
        from ingestion.billing.readers.source import bytes_limit_reason

        raise BillingFileError(display, bytes_limit_reason(limits))
    return parquet


def parquet_columns(path: Path, display: str, limits: Limits) -> tuple[str, ...]:
    """Top-level column names, the Parquet counterpart of the CSV header row."""
    parquet = open_parquet(path, display, limits)
    if parquet.metadata.num_rows == 0:
        raise BillingFileError(display, "the file is empty")
    return tuple(parquet.schema_arrow.names)


def iter_parquet_frames(
    path: Path, display: str, usecols: list[str], batch_size: int, limits: Limits, budget: _Budget
) -> Iterator[pd.DataFrame]:
    """All-text frames of `usecols`, `batch_size` rows at a time (the last one of each row group may be shorter)."""
    pa, _, _ = _pyarrow(display)
    schema = open_parquet(path, display, limits).schema_arrow
    text = [c for c in usecols if pa.types.is_string(schema.field(c).type) or pa.types.is_binary(schema.field(c).type)]
    parquet = open_parquet(path, display, limits, text_columns=text)
    try:
        for batch in parquet.iter_batches(batch_size=batch_size, columns=usecols, use_threads=False):
            # Charged before decoding: a page of one long string repeated by dictionary indices (a Parquet
            # decompression bomb: kilobytes on disk, gigabytes as text) is refused before it is materialised.
            budget.add(_decoded_bytes(batch))
            yield _text_frame(batch)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise BillingFileError(display, f"the Parquet data is corrupt or truncated ({exc})") from exc


def _decoded_bytes(batch: pa.RecordBatch) -> int:
    """Bytes the batch will take as plain text columns: dictionary cells counted once per row, not once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    total = 0
    for column in batch.columns:
        if pa.types.is_dictionary(column.type):
            dictionary = cast("pa.DictionaryArray", column)
            lengths = pc.take(pc.binary_length(dictionary.dictionary), dictionary.indices)  # type: ignore[call-overload]
            total += int(pc.sum(lengths).as_py() or 0) + 4 * len(column)
        else:
            total += column.nbytes
    return total


def _text_frame(batch: pa.RecordBatch) -> pd.DataFrame:
    import pyarrow as pa

    columns = [_as_text(batch.column(i)) for i in range(batch.num_columns)]
    for column in columns:
        column.validate(full=True)  # corrupt pages can decode to invalid UTF-8: an error here, not in pandas
    return pa.Table.from_arrays(columns, names=batch.schema.names).to_pandas()


def _as_text(column: pa.Array) -> pa.Array:
    """Cells as the CSV reader would give them: text, "" for null, nested cells as a JSON object."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_map(kind) or pa.types.is_struct(kind) or pa.types.is_list(kind):
        return pa.array(_json_cells(column.to_pylist()), type=pa.string())
    if pa.types.is_dictionary(kind):
        # A record batch column of dictionary type is a DictionaryArray; the stubs cannot narrow by type id.
        column = cast("pa.DictionaryArray", column).dictionary_decode()
    return pc.cast(column, pa.string()).fill_null("")


def _json_cells(values: list[Any]) -> list[str]:
    """JSON text per cell, built once per distinct cell (tag maps repeat across most rows)."""
    memo: dict[str, str] = {}
    out: list[str] = []
    for value in values:
        key = repr(value)
        text = memo.get(key)
        if text is None:
            text = memo[key] = _json_cell(value)
        out.append(text)
    return out


def _json_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, tuple) and len(v) == 2 for v in value):
        value = {str(k): v for k, v in value}  # MAP cells come as [(key, value), ...]
    return json.dumps(value, default=str, ensure_ascii=False)
