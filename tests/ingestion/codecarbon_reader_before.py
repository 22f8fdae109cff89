"""Streaming reader for codecarbon emission files and live JSON records.

Pure module: no Django import, no database access. Formats follow docs/methodology.md §2.1-§2.6; the
refusal rules are those of docs/security.md §5 and docs/operations.md §5.

How a file is read (and why it does not use ``read_csv(chunksize=...)`` directly):

1. Raw bytes are read in 1 MiB pieces. Each piece is checked for NUL bytes and validated strictly as UTF-8 with an
   incremental decoder, so an undecodable byte is reported with its exact file offset and line even mid-file. A UTF-8
   BOM is skipped; gzip/zip/UTF-16 signatures are refused up front. CRLF and lone CR become LF.
2. The bytes are split into rows at unquoted newlines (quote parity, RFC 4180), which gives the exact physical line
   of every row even when a quoted field contains newlines, and the field count of every row. Rows whose field count
   differs from the header become ``wrong_column_count`` problems; blank lines are skipped silently.
3. Only well-formed rows are handed to ``pandas.read_csv`` (C engine, explicit ``sep=","``), one call per chunk of
   ``chunk_rows`` rows and at most 32 MiB of row bytes; a row longer than 1 MiB refuses the file as soon as the
   streamed bytes show it, before it is joined in memory. Numeric columns are first parsed as float64 by the C
   parser (fast path); if any cell of the chunk is not a number the chunk is re-parsed with ``dtype=str`` and
   coerced with ``to_numeric(errors="coerce")`` so that every bad cell is reported. Validation is vectorised
   (masks), never a Python loop per row.

Choices worth knowing:
- Header names are stripped and lower-cased; columns are always read by name; unknown columns are ignored.
- A stray quote inside an unquoted field (not RFC 4180, never written by codecarbon's pandas writer) opens a quoted
  field for the splitter: the file is then refused ("a quoted field is never closed") rather than misread.
- Timestamps must be naive: ``Z`` or ``+01:00`` suffixes are ``bad_timestamp`` (codecarbon writes host local time).
- Besides the documented checks, ``pue <= 0`` is a row problem (``non_positive_pue``): energy / pue is used later.
- run_id "None" in a task file: one run per project and file, keyed on the start of its first task row.
- Live records: ``line`` is 0, and run_id "None" is refused (no row sequence to group on, see parse_live_record).
- Identifier columns are checked against their grammar (row problems, never silently cleaned): country_iso_code is
  ISO 3166-1 alpha-3, cloud_provider/cloud_region are slugs, region is a place name, run_id/experiment_id are
  ids (UUIDs as codecarbon writes them, or short tokens; run_id "None" kept, see above). Free text (project_name,
  task_name, hardware...) may hold any character except NUL: PostgreSQL text cannot store it, so a NUL in a data
  row rejects that row (a NUL on the header line still refuses the file as binary). Line breaks inside quoted
  cells read as LF.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

__all__ = [
    "CodecarbonChunk",
    "CodecarbonFormatError",
    "RECORD_COLUMNS",
    "RowProblem",
    "UNSET_EXPERIMENT_ID",
    "chunk_reduce",
    "detect_schema",
    "RunReducer",
    "last_row_per_run",
    "parse_live_record",
    "read_codecarbon_csv",
]

UNSET_EXPERIMENT_ID = "5b0fa12a-3dd7-45bb-9766-cc326314d9f1"

_READ_SIZE = 1 << 20
# A codecarbon row is < 2 KB; a much longer "row" means an unbalanced quote swallowing the file.
_MAX_ROW_BYTES = 1 << 20
# Bytes of rows handed to pandas at once: with the row limit this bounds a chunk whatever chunk_rows says.
_MAX_CHUNK_BYTES = 32 << 20
_MAX_RAW = 200
_BOM = codecs.BOM_UTF8
_LIVE = "live record"

# Source column -> normalised float column.
_FLOAT_COLUMNS = {
    "duration": "duration_s",
    "emissions": "emissions_kg",
    "emissions_rate": "emissions_rate_kg_s",
    "energy_consumed": "energy_consumed_kwh",
    "cpu_energy": "cpu_energy_kwh",
    "gpu_energy": "gpu_energy_kwh",
    "ram_energy": "ram_energy_kwh",
    "cpu_power": "cpu_power_w",
    "gpu_power": "gpu_power_w",
    "ram_power": "ram_power_w",
    "water_consumed": "water_l",
    "pue": "pue",
    "wue": "wue",
    "cpu_count": "cpu_count",
    "gpu_count": "gpu_count",
    "ram_total_size": "ram_total_size_gb",
    "cpu_utilization_percent": "cpu_utilization_percent",
    "gpu_utilization_percent": "gpu_utilization_percent",
    "ram_utilization_percent": "ram_utilization_percent",
    "ram_used_gb": "ram_used_gb",
    "longitude": "longitude",
    "latitude": "latitude",
}
# Values used when the column is absent or the cell empty (codecarbon's own defaults).
_FLOAT_DEFAULTS = {"water_l": 0.0, "pue": 1.0, "wue": 0.0}

# Source column -> (normalised text column, case transform).
_TEXT_COLUMNS = {
    "project_name": ("project_name", ""),
    "country_name": ("country_name", ""),
    "country_iso_code": ("country_iso", "upper"),
    "region": ("region", "lower"),
    "cloud_provider": ("cloud_provider", "lower"),
    "cloud_region": ("cloud_region", "strip"),
    "codecarbon_version": ("codecarbon_version", "strip"),
    "os": ("os", ""),
    "python_version": ("python_version", ""),
    "cpu_model": ("cpu_model", ""),
    "gpu_model": ("gpu_model", ""),
    "tracking_mode": ("tracking_mode", "strip"),
}
_ID_COLUMNS = ("timestamp", "run_id", "experiment_id", "task_name", "on_cloud")
_KNOWN_COLUMNS = frozenset(_FLOAT_COLUMNS) | frozenset(_TEXT_COLUMNS) | frozenset(_ID_COLUMNS)

_STR, _F64 = "str", "float64"
RECORD_COLUMNS: dict[str, str] = {
    "line": "int64",
    "kind": _STR,
    "run_key": _STR,
    "run_id_missing": "bool",
    "task_name": _STR,
    "experiment_id": _STR,
    "project_name": _STR,
    "timestamp_local": "datetime64[ns]",
    "duration_s": _F64,
    "emissions_kg": _F64,
    "emissions_rate_kg_s": _F64,
    "energy_consumed_kwh": _F64,
    "cpu_energy_kwh": _F64,
    "gpu_energy_kwh": _F64,
    "ram_energy_kwh": _F64,
    "cpu_power_w": _F64,
    "gpu_power_w": _F64,
    "ram_power_w": _F64,
    "water_l": _F64,
    "country_name": _STR,
    "country_iso": _STR,
    "region": _STR,
    "cloud_provider": _STR,
    "cloud_region": _STR,
    "on_cloud": "bool",
    "pue": _F64,
    "wue": _F64,
    "codecarbon_version": _STR,
    "schema": _STR,
    "os": _STR,
    "python_version": _STR,
    "cpu_model": _STR,
    "gpu_model": _STR,
    "tracking_mode": _STR,
    "cpu_count": _F64,
    "gpu_count": _F64,
    "ram_total_size_gb": _F64,
    "cpu_utilization_percent": _F64,
    "gpu_utilization_percent": _F64,
    "ram_utilization_percent": _F64,
    "ram_used_gb": _F64,
    "longitude": _F64,
    "latitude": _F64,
}

_MESSAGES = {
    "missing_value": "{col} is required but the cell is empty",
    "bad_number": "{col} must be a number, got {raw!r}",
    "bad_timestamp": "{col} must be a local date-time like 2026-11-26T17:16:20, got {raw!r}",
    "non_positive_energy": "{col} must be greater than 0, got {raw!r}",
    "negative_duration": "{col} must not be negative, got {raw!r}",
    "non_positive_pue": "{col} must be greater than 0, got {raw!r}",
    "bad_on_cloud": "{col} must be Y, N or empty, got {raw!r}",
    "bad_country_code": "{col} must be an ISO 3166-1 alpha-3 code (three letters such as FRA) or empty, got {raw!r}",
    "bad_region": "{col} must be a region name (letters, digits, spaces and - _ . ' ( ) / ,; at most 64), got {raw!r}",
    "bad_cloud_provider": "{col} must be a provider slug such as aws, gcp or azure (at most 16), got {raw!r}",
    "bad_cloud_region": "{col} must be a cloud region slug such as europe-west1 (at most 64), got {raw!r}",
    "bad_identifier": "{col} must be an id such as 869595a9-7f97-4f6c-bdea-b854a62f3c00 (letters, digits and - _ . :, "
    "at most 64), got {raw!r}",
    "too_long": "{col} must be at most 100 characters, got {raw!r}",
    "nul_character": "{col} contains a NUL character, which cannot be stored, got {raw!r}",
}
# codecarbon writes UUIDs (uuid4 run ids, the API's experiment ids); hand-made and CI files use short tokens such as
# "run-a". Both fit this grammar, which keeps out every separator, quote, backslash and control character.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", re.ASCII)
# Grammar of each identifier column, applied to the stripped cell; an empty cell passes unless noted.
_GRAMMARS: dict[str, tuple[re.Pattern[str], str]] = {
    "country_iso_code": (re.compile(r"[A-Za-z]{3}", re.ASCII), "bad_country_code"),
    "region": (re.compile(r"[\w .'()/,-]{1,64}"), "bad_region"),
    "cloud_provider": (re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}", re.ASCII), "bad_cloud_provider"),
    "cloud_region": (re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}", re.ASCII), "bad_cloud_region"),
    "experiment_id": (_ID, "bad_identifier"),
}
# Ledger keys are at most 255 characters: a task name or a "None" run key must leave room for the rest.
_MAX_NAME = 100
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S"
_TS_PATTERN = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?"
# datetime64[ns] can only hold these instants; anything outside is a bad timestamp, not an overflow crash.
_TS_MIN, _TS_MAX = np.datetime64("1677-09-22", "us"), np.datetime64("2262-04-11", "us")


class CodecarbonFormatError(Exception):
    """Structural problem: the whole file (or live record) is refused. str(exc) is a user-facing message."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    code: str
    message: str
    raw_value: str


@dataclass
class CodecarbonChunk:
    records: pd.DataFrame
    problems: list[RowProblem]
    rows_read: int


# --------------------------------------------------------------------------------------------------- schema


def _missing_required(columns: Iterable[str]) -> list[str]:
    cols = set(columns)
    if "task_name" in cols:
        required = ["task_name", "run_id", "timestamp", "duration", "energy_consumed"]
    else:
        required = ["timestamp", "duration", "energy_consumed"]
        if not cols & {"run_id", "experiment_id"}:
            required.append("run_id")
    return [name for name in required if name not in cols]


def detect_schema(columns: list[str]) -> str:
    """Name the codecarbon header variant (docs/methodology.md §2.3, §2.5) from the set of header names."""
    cols = {str(c).strip().lower() for c in columns}
    missing = _missing_required(cols)
    if missing:
        raise CodecarbonFormatError(f"not a codecarbon file: missing required columns {', '.join(missing)}")
    if "task_name" in cols:
        return "task"
    if "run_id" not in cols:
        return "1.x"
    # Newest marker wins: columns were only ever added after 2.0, never removed or renamed.
    if cols & {"cpu_utilization_percent", "gpu_utilization_percent", "ram_utilization_percent", "ram_used_gb"}:
        return "3.2.1+"
    if cols & {"water_consumed", "wue"}:
        return "3.0.8-3.2.0"
    if "experiment_id" in cols:
        return "2.7-3.0.7"
    if "pue" in cols:
        return "2.2.3-2.6"
    if "codecarbon_version" in cols:
        return "2.2-2.2.2"
    return "2.0-2.1"


@dataclass
class _Context:
    """Per-file state: header layout and the carry-over needed to group run_id "None" rows across chunks."""

    filename: str
    names: list[str]
    schema: str
    none_state: dict[str, tuple[float, str]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "task" if self.schema == "task" else "run"

    @property
    def run_column(self) -> str:
        return "experiment_id" if self.schema == "1.x" else "run_id"

    @property
    def usecols(self) -> list[str]:
        return [n for n in self.names if n in _KNOWN_COLUMNS]

    @property
    def numeric(self) -> list[str]:
        return [n for n in self.names if n in _FLOAT_COLUMNS]

    def dtypes(self, typed: bool) -> dict[str, str]:
        return {n: (_F64 if typed and n in _FLOAT_COLUMNS else _STR) for n in self.usecols}


def _context_from_header(header: bytes, nfields: int, filename: str) -> _Context:
    text = header.decode("utf-8")
    names = [n.strip().lower() for n in next(csv.reader(io.StringIO(text, newline="")), [])]
    if text.lstrip().startswith("<"):
        raise CodecarbonFormatError(f"{filename}: not a CSV file (it looks like an HTML or XML document)")
    if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
        sep = "';'" if ";" in names[0] else "tab"
        raise CodecarbonFormatError(f"{filename}: not a codecarbon file: columns are separated by {sep}, not ','")
    if len(names) != nfields:
        raise CodecarbonFormatError(f"{filename}: line 1: malformed header (unbalanced quotes)")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CodecarbonFormatError(f"{filename}: duplicate column names in the header: {', '.join(duplicates)}")
    try:
        schema = detect_schema(names)
    except CodecarbonFormatError as exc:
        raise CodecarbonFormatError(f"{filename}: {exc}") from None
    return _Context(filename=filename, names=names, schema=schema)


# --------------------------------------------------------------------------------------------------- bytes


class _ByteChecker:
    """Validates raw pieces (NUL, strict UTF-8 with exact offsets) and normalises line endings to LF."""

    def __init__(self, filename: str, offset: int) -> None:
        self._filename = filename
        self._offset = offset  # raw file offset of the next piece (the BOM counts)
        self._newlines = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._cr = False

    def check(self, piece: bytes) -> bytes:
        nul = piece.find(b"\x00")
        if nul >= 0 and self._newlines == 0 and b"\n" not in piece[:nul]:
            # On the header line a NUL means a binary file; in a data row it is that row's problem.
            raise CodecarbonFormatError(
                f"{self._filename}: not a text file: binary content (NUL byte at offset {self._offset + nul})"
            )
        self._validate(piece)
        self._offset += len(piece)
        self._newlines += piece.count(b"\n")
        return self._normalise(piece)

    def _validate(self, piece: bytes) -> None:
        pending = self._decoder.getstate()[0]
        if not pending and piece.isascii():
            return  # ASCII is valid UTF-8; skipping the decoder keeps the common case fast
        try:
            self._decoder.decode(piece)
        except UnicodeDecodeError as exc:
            data = pending + piece
            offset = self._offset - len(pending) + exc.start
            line = self._newlines + data[: exc.start].count(b"\n") + 1
            self._fail(data[exc.start], offset, line)

    def _fail(self, byte: int, offset: int, line: int) -> None:
        raise CodecarbonFormatError(
            f"{self._filename}: cannot be decoded as UTF-8 (byte 0x{byte:02x} at offset {offset}, line {line}); "
            "codecarbon writes UTF-8, re-save the file as UTF-8"
        )

    def _normalise(self, piece: bytes) -> bytes:
        if self._cr:
            piece, self._cr = b"\r" + piece, False
        if b"\r" not in piece:
            return piece
        if piece.endswith(b"\r"):
            # The matching LF may start the next piece: decide there, so CRLF is never counted as two lines.
            piece, self._cr = piece[:-1], True
        return piece.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

    def finish(self) -> bytes:
        pending = self._decoder.getstate()[0]
        if pending:
            self._fail(pending[0], self._offset - len(pending), self._newlines + 1)
        return b"\n" if self._cr else b""


def _check_magic(first: bytes, filename: str) -> None:
    kinds = {
        b"\x1f\x8b": "a gzip-compressed file (decompress it first)",
        b"PK\x03\x04": "a zip archive (or an Excel workbook)",
        b"PK\x05\x06": "an empty zip archive",
        b"\xff\xfe": "UTF-16 text (re-save it as UTF-8 CSV)",
        b"\xfe\xff": "UTF-16 text (re-save it as UTF-8 CSV)",
    }
    for magic, what in kinds.items():
        if first.startswith(magic):
            raise CodecarbonFormatError(f"{filename}: not a CSV file: it is {what}")


def _iter_pieces(stream: BinaryIO, filename: str) -> Iterator[bytes]:
    piece = stream.read(_READ_SIZE)
    if isinstance(piece, str):
        raise TypeError("read_codecarbon_csv needs a binary stream (open the file with 'rb')")
    if not piece:
        raise CodecarbonFormatError(f"{filename}: the file is empty")
    _check_magic(piece, filename)
    bom = len(_BOM) if piece.startswith(_BOM) else 0
    checker, piece = _ByteChecker(filename, bom), piece[bom:]
    while piece:
        yield checker.check(piece)
        piece = stream.read(_READ_SIZE)
    yield checker.finish()


# --------------------------------------------------------------------------------------------------- rows


@dataclass
class _Rows:
    """Non-blank CSV rows without terminator, with the physical line where each starts and its field count."""

    rows: list[bytes]
    lines: np.ndarray
    nfields: np.ndarray

    @classmethod
    def empty(cls) -> _Rows:
        return cls([], np.empty(0, np.int64), np.empty(0, np.int64))

    def __len__(self) -> int:
        return len(self.rows)

    def concat(self, other: _Rows) -> _Rows:
        if not len(self):
            return other
        lines = np.concatenate([self.lines, other.lines])
        return _Rows(self.rows + other.rows, lines, np.concatenate([self.nfields, other.nfields]))

    def slice(self, start: int, stop: int) -> _Rows:
        return _Rows(self.rows[start:stop], self.lines[start:stop], self.nfields[start:stop])

    def select(self, mask: np.ndarray) -> _Rows:
        if mask.all():
            return self
        rows = [r for r, keep in zip(self.rows, mask.tolist(), strict=True) if keep]
        return _Rows(rows, self.lines[mask], self.nfields[mask])


def _non_blank(rows: list[bytes], lines: np.ndarray, nfields: np.ndarray) -> _Rows:
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    return _Rows(rows, lines, nfields).select(lengths > 0)


class _Splitter:
    """Cuts normalised bytes into complete rows at unquoted LF; keeps the incomplete tail for the next piece."""

    def __init__(self, filename: str) -> None:
        self._filename = filename
        self._tail = b""
        self._line = 1  # physical line of the first byte of the tail

    def feed(self, data: bytes) -> _Rows:
        if self._tail and b"\n" not in data and len(self._tail) + len(data) > _MAX_ROW_BYTES:
            # No row can end in this piece: refuse before joining it to the tail, so one endless line never
            # costs more than the limit plus one piece.
            self._too_long()
        buf = self._tail + data if self._tail else data
        rows = self._split_quoted(buf) if b'"' in buf else self._split_plain(buf)
        if len(buf) > _MAX_ROW_BYTES and len(rows):
            # A complete row may be long too when it arrived within one piece.
            lengths = np.fromiter(map(len, rows.rows), dtype=np.int64, count=len(rows))
            if lengths.max() > _MAX_ROW_BYTES:
                self._too_long(int(rows.lines[int(np.argmax(lengths > _MAX_ROW_BYTES))]))
        if len(self._tail) > _MAX_ROW_BYTES:
            self._too_long(self._line)
        return rows

    def _too_long(self, line: int | None = None) -> None:
        raise CodecarbonFormatError(
            f"{self._filename}: line {line or self._line}: row longer than {_MAX_ROW_BYTES} bytes (unbalanced quote?)"
        )

    def finish(self) -> _Rows:
        if not self._tail:
            return _Rows.empty()
        rows = self.feed(b"\n")  # the last row may lack its terminator
        if self._tail:
            raise CodecarbonFormatError(f"{self._filename}: line {self._line}: a quoted field is never closed")
        return rows

    def _split_plain(self, buf: bytes) -> _Rows:
        # Without quotes every LF ends a row, so bytes.split/count (C speed) give rows and field counts directly.
        cut = buf.rfind(b"\n")
        self._tail = buf[cut + 1 :]
        if cut < 0:
            return _Rows.empty()
        rows = buf[:cut].split(b"\n")
        lines = np.arange(self._line, self._line + len(rows), dtype=np.int64)
        self._line += len(rows)
        nfields = np.fromiter((r.count(b",") + 1 for r in rows), dtype=np.int64, count=len(rows))
        return _non_blank(rows, lines, nfields)

    def _split_quoted(self, buf: bytes) -> _Rows:
        # RFC 4180: a byte is inside quotes iff an odd number of '"' precede it ("" escapes toggle twice).
        arr = np.frombuffer(buf, dtype=np.uint8)
        outside = (np.cumsum(arr == 34, dtype=np.uint8) & 1) == 0
        newline = arr == 10
        ends = np.flatnonzero(newline & outside)
        if not len(ends):
            self._tail = buf
            return _Rows.empty()
        starts = np.concatenate([[0], ends[:-1] + 1])
        commas = np.concatenate([[0], np.cumsum((arr == 44) & outside)])
        breaks = np.concatenate([[0], np.cumsum(newline)])
        rows = [buf[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
        lines = self._line + breaks[starts]
        self._line += int(breaks[ends[-1] + 1])
        self._tail = buf[ends[-1] + 1 :]
        return _non_blank(rows, lines.astype(np.int64), commas[ends] - commas[starts] + 1)


def _iter_row_batches(stream: BinaryIO, filename: str) -> Iterator[_Rows]:
    splitter = _Splitter(filename)
    for piece in _iter_pieces(stream, filename):
        yield splitter.feed(piece)
    yield splitter.finish()


def _iter_chunks(batches: Iterator[_Rows], chunk_rows: int) -> Iterator[_Rows]:
    """Chunks of at most chunk_rows rows and (beyond a single row) at most _MAX_CHUNK_BYTES bytes of row data."""
    max_bytes = _MAX_CHUNK_BYTES
    pending = _Rows.empty()
    for batch in batches:
        pending = pending.concat(batch)
        # Cut all full chunks by offset, then keep the remainder once: no quadratic re-copying of the tail.
        sizes = np.cumsum(np.fromiter(map(len, pending.rows), dtype=np.int64, count=len(pending)))
        start, base = 0, 0
        while start < len(pending):
            by_bytes = int(np.searchsorted(sizes, base + max_bytes, side="right"))
            stop = min(start + chunk_rows, max(by_bytes, start + 1))
            if stop == len(pending) and stop - start < chunk_rows and sizes[-1] - base <= max_bytes:
                break  # not full yet: wait for more rows
            yield pending.slice(start, stop)
            start, base = stop, int(sizes[stop - 1])
        if start:
            pending = pending.slice(start, len(pending))
    if len(pending):
        yield pending


def _take_header(batches: Iterator[_Rows], filename: str) -> tuple[_Context, Iterator[_Rows]]:
    for batch in batches:
        if len(batch):
            ctx = _context_from_header(batch.rows[0], int(batch.nfields[0]), filename)
            return ctx, chain([batch.slice(1, len(batch))], batches)
    raise CodecarbonFormatError(f"{filename}: the file is empty (no header line)")


# --------------------------------------------------------------------------------------------------- reading


def read_codecarbon_csv(stream: BinaryIO, *, filename: str, chunk_rows: int = 50_000) -> Iterator[CodecarbonChunk]:
    """Stream a codecarbon run or task file as normalised chunks; structural problems raise CodecarbonFormatError.

    Every structural check of the header, and the "no data rows" check, happens before the first chunk is yielded.
    Decoding errors later in the file raise mid-stream: callers must not publish anything until the end.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be >= 1")
    ctx, batches = _take_header(_iter_row_batches(stream, filename), filename)
    rows_seen = 0
    for rows in _iter_chunks(batches, chunk_rows):
        rows_seen += len(rows)
        yield _process_chunk(rows, ctx)
    if not rows_seen:
        raise CodecarbonFormatError(f"{filename}: contains no data rows (only a header)")


def _process_chunk(rows: _Rows, ctx: _Context) -> CodecarbonChunk:
    good = rows.nfields == len(ctx.names)
    problems = _count_problems(rows.select(~good), len(ctx.names)) if not good.all() else []
    rows = rows.select(good)
    nul = np.fromiter((b"\x00" in row for row in rows.rows), dtype=bool, count=len(rows))
    if nul.any():
        problems += _nul_problems(rows.select(nul), ctx)
        rows = rows.select(~nul)
    records = _empty_records()
    if len(rows):
        frame, numbers, bad = _parse_rows(rows, ctx)
        records, found = _normalise(frame, numbers, bad, rows, ctx)
        problems = sorted(problems + found, key=lambda p: p.line)
    return CodecarbonChunk(records=records, problems=problems, rows_read=len(good))


def _count_problems(rows: _Rows, expected: int) -> list[RowProblem]:
    problems = []
    for row, line, got in zip(rows.rows, rows.lines.tolist(), rows.nfields.tolist(), strict=True):
        message = f"the row has {got} fields but the header has {expected}"
        raw = row.decode("utf-8")[:_MAX_RAW]
        problems.append(RowProblem(line, "", "wrong_column_count", message, raw))
    return problems


def _nul_problems(rows: _Rows, ctx: _Context) -> list[RowProblem]:
    problems = []
    for row, line in zip(rows.rows, rows.lines.tolist(), strict=True):
        cells = next(csv.reader(io.StringIO(row.decode("utf-8"), newline="")), [])
        position = next((i for i, cell in enumerate(cells) if "\x00" in cell), 0)
        column, raw = ctx.names[position], _printable(cells[position] if cells else "")
        message = _MESSAGES["nul_character"].format(col=column, raw=raw[:60])
        problems.append(RowProblem(line, column, "nul_character", message, raw[:_MAX_RAW]))
    return problems


def _printable(raw: str) -> str:
    # The error report is stored in PostgreSQL too, which cannot hold NUL: show it as the NUL symbol.
    return raw.replace("\x00", "\u2400")


def _read_frame(data: bytes, ctx: _Context, typed: bool) -> pd.DataFrame:
    try:
        return pd.read_csv(
            io.BytesIO(data),
            header=None,
            names=ctx.names,
            usecols=ctx.usecols,
            dtype=ctx.dtypes(typed),
            keep_default_na=False,
            na_values=[""],
            sep=",",
            quotechar='"',
            engine="c",
            index_col=False,
            skip_blank_lines=False,
            encoding="utf-8",
        )
    except pd.errors.ParserError as exc:
        raise CodecarbonFormatError(f"{ctx.filename}: malformed CSV ({exc})") from None


def _parse_rows(rows: _Rows, ctx: _Context) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Parse well-formed rows; returns the frame, float arrays per numeric column and their bad-cell masks."""
    data = b"\n".join(rows.rows)
    try:
        frame = _read_frame(data, ctx, typed=True)
        numbers = {c: frame[c].to_numpy(np.float64, copy=True) for c in ctx.numeric}
        bad = {c: np.isinf(v) for c, v in numbers.items()}  # the C parser accepts "inf"
    except (ValueError, TypeError):
        # Some cell is not a number: re-parse as text so that every bad cell can be reported.
        frame = _read_frame(data, ctx, typed=False)
        numbers = {c: _coerce(frame[c]) for c in ctx.numeric}
        bad = {c: frame[c].notna().to_numpy() & ~np.isfinite(v) for c, v in numbers.items()}
    if len(frame) != len(rows):
        first, last = rows.lines[0], rows.lines[-1]
        raise CodecarbonFormatError(f"{ctx.filename}: lines {first}-{last}: malformed CSV quoting")
    for column, mask in bad.items():
        numbers[column][mask] = np.nan
    return frame, numbers, bad


def _coerce(series: pd.Series) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce")
    return values.to_numpy(dtype=np.float64, na_value=np.nan).copy()


# --------------------------------------------------------------------------------------------------- validation


@dataclass
class _Checks:
    """Problem masks gathered over one chunk; rows with any problem are dropped from the records."""

    rows: _Rows
    ctx: _Context
    found: list[tuple[np.ndarray, str, str]] = field(default_factory=list)
    _cells: dict[int, list[str]] = field(default_factory=dict)

    def add(self, mask: np.ndarray, column: str, code: str) -> None:
        if mask.any():
            self.found.append((mask, column, code))

    def invalid(self) -> np.ndarray:
        out = np.zeros(len(self.rows), dtype=bool)
        for mask, _, _ in self.found:
            out |= mask
        return out

    def problems(self) -> list[RowProblem]:
        return [self._problem(int(i), col, code) for mask, col, code in self.found for i in np.flatnonzero(mask)]

    def _problem(self, index: int, column: str, code: str) -> RowProblem:
        raw = _printable(self._raw(index, column))
        message = _MESSAGES[code].format(col=column, raw=raw[:60])
        return RowProblem(int(self.rows.lines[index]), column, code, message, raw[:_MAX_RAW])

    def _raw(self, index: int, column: str) -> str:
        # Re-split only the offending row: cheap, and exact for numbers parsed by the C fast path.
        if index not in self._cells:
            text = self.rows.rows[index].decode("utf-8")
            self._cells[index] = next(csv.reader(io.StringIO(text, newline="")), [])
        cells = self._cells[index]
        position = self.ctx.names.index(column)
        return cells[position] if position < len(cells) else ""


def _text(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), "", dtype=object)
    return frame[column].fillna("").to_numpy(dtype=object)


def _transform(values: np.ndarray, method: str) -> np.ndarray:
    # These columns repeat a few distinct values: transform each distinct value once, not every cell.
    codes, uniques = pd.factorize(values)
    done = np.array([getattr(str(u).strip(), method)() for u in uniques] + [""], dtype=object)
    return done[codes]


def _shared(values: np.ndarray) -> np.ndarray:
    codes, uniques = pd.factorize(values)
    return np.array([*uniques, ""], dtype=object)[codes]


def _required_text(frame: pd.DataFrame, ctx: _Context, checks: _Checks) -> np.ndarray:
    """Check the run id (and task name) columns; returns the stripped run id source."""
    if ctx.kind == "task":
        checks.add(_transform(_text(frame, "task_name"), "strip") == "", "task_name", "missing_value")
    source = _transform(_text(frame, ctx.run_column), "strip")
    checks.add(source == "", ctx.run_column, "missing_value")
    return source


def _parse_timestamps(frame: pd.DataFrame, checks: _Checks) -> np.ndarray:
    raw = frame["timestamp"]
    parsed = pd.to_datetime(raw, format=_TS_FORMAT, errors="coerce")
    retry = (parsed.isna() & raw.notna()).to_numpy()
    if retry.any():
        # Slow path only for rows that are not plain YYYY-MM-DDTHH:MM:SS (space separator, fractions, garbage).
        sub = raw[retry]
        ok = sub.str.strip().str.fullmatch(_TS_PATTERN).fillna(False).astype(bool)
        text = sub[ok].str.strip().str.replace(" ", "T", regex=False)
        fixed = pd.to_datetime(text, format="ISO8601", errors="coerce")  # e.g. month 13 -> NaT
        parsed = parsed.astype("datetime64[us]")
        parsed.loc[fixed.index] = fixed.astype("datetime64[us]")
    values = parsed.to_numpy(dtype="datetime64[us]", copy=True)
    values[(values < _TS_MIN) | (values > _TS_MAX)] = np.datetime64("NaT")
    empty = raw.isna().to_numpy()
    checks.add(empty, "timestamp", "missing_value")
    checks.add(np.isnat(values) & ~empty, "timestamp", "bad_timestamp")
    return values.astype("datetime64[ns]")


def _check_numbers(numbers: dict[str, np.ndarray], bad: dict[str, np.ndarray], checks: _Checks) -> None:
    for column in ("duration", "energy_consumed"):
        checks.add(np.isnan(numbers[column]) & ~bad[column], column, "missing_value")
    for column, mask in bad.items():
        checks.add(mask, column, "bad_number")
    with np.errstate(invalid="ignore"):
        checks.add(numbers["duration"] < 0, "duration", "negative_duration")
        checks.add(numbers["energy_consumed"] <= 0, "energy_consumed", "non_positive_energy")
        if "pue" in numbers:
            # IT energy is energy_consumed / pue downstream: a zero or negative PUE is meaningless.
            checks.add(numbers["pue"] <= 0, "pue", "non_positive_pue")


def _grammar_mask(values: np.ndarray, pattern: re.Pattern[str], allow_empty: bool = True) -> np.ndarray:
    # Identifier columns repeat a few distinct values: match each distinct value once.
    codes, uniques = pd.factorize(values)
    bad = [not ((allow_empty and not str(u).strip()) or pattern.fullmatch(str(u).strip())) for u in uniques]
    return np.array([*bad, False], dtype=bool)[codes]


def _check_identifiers(frame: pd.DataFrame, ctx: _Context, checks: _Checks) -> None:
    """Grammar of the identifier columns (module docstring); an empty run id is reported as missing already."""
    for column, (pattern, code) in _GRAMMARS.items():
        if column in frame and not (column == "experiment_id" and ctx.run_column == column):
            checks.add(_grammar_mask(_text(frame, column), pattern), column, code)
    checks.add(_grammar_mask(_text(frame, ctx.run_column), _ID), ctx.run_column, "bad_identifier")  # "None" fits
    if ctx.kind == "task":
        checks.add(_length_mask(_text(frame, "task_name")), "task_name", "too_long")


def _length_mask(values: np.ndarray) -> np.ndarray:
    return np.fromiter((len(v) > _MAX_NAME for v in values.tolist()), dtype=bool, count=len(values))


def _on_cloud(frame: pd.DataFrame, checks: _Checks) -> np.ndarray:
    values = _text(frame, "on_cloud")
    yes = values == "Y"
    checks.add(~(yes | (values == "N") | (values == "")), "on_cloud", "bad_on_cloud")
    return yes


# --------------------------------------------------------------------------------------------------- records


def _normalise(
    frame: pd.DataFrame, numbers: dict[str, np.ndarray], bad: dict[str, np.ndarray], rows: _Rows, ctx: _Context
) -> tuple[pd.DataFrame, list[RowProblem]]:
    checks = _Checks(rows, ctx)
    run_source = _required_text(frame, ctx, checks)
    timestamps = _parse_timestamps(frame, checks)
    _check_numbers(numbers, bad, checks)
    on_cloud = _on_cloud(frame, checks)
    _check_identifiers(frame, ctx, checks)
    valid = ~checks.invalid()
    columns = {"line": rows.lines, "timestamp_local": timestamps, "on_cloud": on_cloud, "_run_source": run_source}
    columns |= _float_columns(numbers, len(frame), ctx)
    columns |= _text_columns(frame, ctx)
    columns = {name: values[valid] for name, values in columns.items()}
    columns |= _keys(columns, ctx)
    records = _frame(columns, int(valid.sum()), ctx)
    return records, checks.problems()


def _float_columns(numbers: dict[str, np.ndarray], n: int, ctx: _Context) -> dict[str, np.ndarray]:
    out = {}
    for source, target in _FLOAT_COLUMNS.items():
        values = numbers.get(source, np.full(n, np.nan))
        if target in _FLOAT_DEFAULTS:
            values = np.where(np.isnan(values), _FLOAT_DEFAULTS[target], values)
        out[target] = values
    if ctx.schema == "2.0-2.1":
        out["emissions_rate_kg_s"] = out["emissions_rate_kg_s"] / 1000.0  # written in g/s before 2.2.0 (#346)
    return out


def _text_columns(frame: pd.DataFrame, ctx: _Context) -> dict[str, np.ndarray]:
    out = {}
    for source, (target, transform) in _TEXT_COLUMNS.items():
        values = _text(frame, source)
        # Untransformed cells are shared per distinct value too: one string object, not one per row.
        out[target] = _transform(values, transform) if transform else _shared(values)
    out["task_name"] = _text(frame, "task_name")
    experiment = _transform(_text(frame, "experiment_id"), "strip")
    if ctx.schema == "1.x":
        experiment[:] = ""  # 1.x experiment_id is the per-run id, already used as run key
    experiment[experiment == UNSET_EXPERIMENT_ID] = ""
    out["experiment_id"] = experiment
    return out


def _keys(columns: dict[str, np.ndarray], ctx: _Context) -> dict[str, np.ndarray]:
    source = columns.pop("_run_source")
    missing = source == "None"
    keys = source.copy()
    project = columns["project_name"]
    for name in dict.fromkeys(project[missing].tolist()):
        index = np.flatnonzero(missing & (project == name))
        keys[index] = _none_keys(name, index, columns, ctx)
    return {"run_key": keys, "run_id_missing": missing}


def _none_keys(project: str, index: np.ndarray, columns: dict[str, np.ndarray], ctx: _Context) -> np.ndarray:
    """run_id "None" (codecarbon #1303): a new run starts whenever the cumulative duration decreases.

    The key is derived from the start of the run's first row, so a later, longer copy of the file yields the same
    keys. Task files hold one run per file and task rows are not cumulative, so only the first row starts a run.
    State is kept per project in ctx so that the grouping does not depend on chunk boundaries.
    """
    duration = columns["duration_s"][index]
    previous = ctx.none_state.get(project)
    new = np.zeros(len(index), dtype=bool)
    new[0] = previous is None or (ctx.kind == "run" and duration[0] < previous[0])
    if ctx.kind == "run":
        new[1:] = duration[1:] < duration[:-1]
    first = index[new]
    starts = columns["timestamp_local"][first] - (columns["duration_s"][first] * 1e9).astype("timedelta64[ns]")
    labels = np.datetime_as_string(starts.astype("datetime64[s]"), unit="s")
    label = _key_label(project)
    keys = np.array([previous[1] if previous else ""] + [f"none:{label}:{s}" for s in labels], dtype=object)
    segment_keys = keys[np.cumsum(new)]
    ctx.none_state[project] = (float(duration[-1]), str(segment_keys[-1]))
    return segment_keys


def _key_label(project: str) -> str:
    """The project name as it appears in a "None" run key; long names are shortened to a stable digest so the key
    still fits the ledger's run_id (short names, the usual case, are kept as they always were)."""
    if len(project) <= 60:
        return project
    return "sha1-" + hashlib.sha1(project.encode("utf-8")).hexdigest()  # noqa: S324 - a label, not a secret


def _frame(columns: dict[str, np.ndarray], n: int, ctx: _Context) -> pd.DataFrame:
    columns["kind"] = np.full(n, ctx.kind, dtype=object)
    columns["schema"] = np.full(n, ctx.schema, dtype=object)
    return pd.DataFrame(columns, columns=list(RECORD_COLUMNS)).astype(RECORD_COLUMNS)


def _empty_records() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in RECORD_COLUMNS.items()})


# --------------------------------------------------------------------------------------------------- combining


def last_row_per_run(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Collapse cumulative run rows to the row with the largest duration per run_key (ties: the later row).

    Run rows are never summed. Task rows are all kept, minus exact repeats of (run_key, task_name, timestamp_local),
    keeping the last. See RunReducer for how memory and time stay bounded.
    """
    reducer = RunReducer()
    for frame in frames:
        reducer.add(frame)
    return reducer.result()


def chunk_reduce(records: pd.DataFrame) -> pd.DataFrame:
    """last_row_per_run of one chunk, in file order: the rows that win within it (the same rule as across chunks).

    Streaming importers reduce each chunk with this and leave the reduction across chunks to the database, so no
    state proportional to the file is held here.
    """
    if not len(records):
        return records
    keyed = records.assign(_seq=np.arange(len(records), dtype=np.int64))
    return records.iloc[_winners([keyed])].reset_index(drop=True)


class RunReducer:
    """Incremental last_row_per_run: feed chunks with add(), then read the reduced records once with result() or
    batches().

    Each chunk is reduced on its own and kept (compacted: repeated text columns as categoricals). When the rows
    added since the last merge outnumber the rows it kept, a merge finds the winning rows from the key columns
    alone and filters every kept chunk in place, in file order: no frame of the whole file is ever built, the total
    work is O(n log n) (the kept rows at least double between merges) and memory stays about one compact row per
    run plus one chunk.
    """

    _MIN_MERGE_ROWS = 100_000
    # High-cardinality text columns stay objects; the other text columns repeat a few values per chunk.
    _KEEP_OBJECT = frozenset({"run_key", "task_name"})

    def __init__(self) -> None:
        self._held: list[pd.DataFrame] = []
        self._seq = 0
        self._kept = 0  # rows held right after the last merge
        self._added = 0  # rows added since

    def add(self, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        frame = frame.assign(_seq=np.arange(self._seq, self._seq + len(frame), dtype=np.int64))
        self._seq += len(frame)
        frame = frame[np.isin(frame["_seq"].to_numpy(), _winners([frame]), assume_unique=True)]
        self._held.append(self._compact(frame))
        self._added += len(frame)
        if self._added > max(self._kept, self._MIN_MERGE_ROWS):
            self._merge()

    def _compact(self, frame: pd.DataFrame) -> pd.DataFrame:
        columns = [c for c, t in RECORD_COLUMNS.items() if t == _STR and c not in self._KEEP_OBJECT]
        return frame.astype(dict.fromkeys(columns, "category"))

    def _merge(self) -> None:
        if len(self._held) > 1:
            winners = _winners(self._held)
            for index, held in enumerate(self._held):
                keep = np.isin(held["_seq"].to_numpy(), winners, assume_unique=True)
                if not keep.all():
                    self._held[index] = held[keep]
            self._held = [f for f in self._held if len(f)]
        self._kept, self._added = sum(len(f) for f in self._held), 0

    def batches(self, rows: int) -> Iterator[pd.DataFrame]:
        """The reduced records in file order, about `rows` at a time; the reducer lets go of each as it goes."""
        self._merge()
        while self._held:
            parts: list[pd.DataFrame] = []
            size = 0
            while self._held and size < rows:
                head, room = self._held[0], rows - size
                if len(head) > room:
                    parts.append(head.iloc[:room])
                    self._held[0] = head.iloc[room:]
                else:
                    parts.append(self._held.pop(0))
                size += len(parts[-1])
            yield _records(parts)

    def result(self) -> pd.DataFrame:
        self._merge()
        held, self._held = self._held, []
        return _records(held) if held else _empty_records()


def _winners(frames: list[pd.DataFrame]) -> np.ndarray:
    """Sorted _seq of the rows that stay: per run the longest (ties: the later), per task key the last."""
    keys = pd.concat(
        [f[["kind", "run_key", "task_name", "timestamp_local", "duration_s", "_seq"]] for f in frames],
        ignore_index=True,
    )
    for column in ("kind", "run_key", "task_name"):
        keys[column] = keys[column].astype(object)
    is_run = (keys["kind"] == "run").to_numpy()
    runs = keys[is_run].sort_values(["duration_s", "_seq"], kind="stable").drop_duplicates("run_key", keep="last")
    tasks = keys[~is_run].drop_duplicates(["run_key", "task_name", "timestamp_local"], keep="last")
    return np.sort(np.concatenate([runs["_seq"].to_numpy(), tasks["_seq"].to_numpy()]))


def _records(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return frame.drop(columns="_seq").reset_index(drop=True).astype(RECORD_COLUMNS)


# --------------------------------------------------------------------------------------------------- live


def parse_live_record(payload: dict) -> pd.DataFrame:
    """Normalise one codecarbon HTTPOutput JSON body (docs/methodology.md §2.6); any problem refuses the record."""
    if not isinstance(payload, dict):
        raise CodecarbonFormatError(f"{_LIVE}: the body must be a JSON object, got {type(payload).__name__}")
    fields = {str(k).strip().lower(): v for k, v in payload.items()}
    fields.pop("task_name", None)  # HTTPOutput only sends run records
    missing = _missing_required(fields)
    if missing:
        raise CodecarbonFormatError(f"{_LIVE}: missing required fields {', '.join(missing)}")
    chunk = next(read_codecarbon_csv(io.BytesIO(_live_csv(fields)), filename=_LIVE))
    if chunk.problems:
        details = "; ".join(p.message for p in chunk.problems)
        raise CodecarbonFormatError(f"{_LIVE}: {details}")
    records = chunk.records.assign(line=np.zeros(1, dtype=np.int64))
    if records["run_id_missing"].iloc[0]:
        # Without a file there is no row sequence to group on, and a key from timestamp - duration would drift
        # between flushes of the same run and double count it.
        raise CodecarbonFormatError(f"{_LIVE}: run_id is 'None' (codecarbon bug #1303); the run cannot be identified")
    return records


def _live_csv(fields: dict[str, Any]) -> bytes:
    # Reusing the file path keeps one set of validation rules for files and live records.
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(fields))
    writer.writerow([_live_cell(name, value) for name, value in fields.items()])
    return out.getvalue().encode("utf-8")


def _live_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, (int, float, str)):
        return value if isinstance(value, str) else repr(value)
    raise CodecarbonFormatError(f"{_LIVE}: field {name} must be a single value, got {type(value).__name__}")
