"""Streaming reader for codecarbon emission files and live JSON records.

Pure module: no Django import, no database access. Formats follow docs/methodology.md §2.1-§2.6; the
refusal rules are those of docs/security.md §5 and docs/operations.md §5.

How a file is read (and why it does not use ``read_csv(chunksize=...)`` directly):

1. Raw bytes are read in 1 MiB pieces. Each piece is checked for NUL bytes and validated strictly as UTF-8 with an
   incremental decoder, so an undecodable byte is reported with its exact file offset and line even mid-file. A UTF-8
   BOM is skipped; gzip/zip/UTF-16 signatures are refused up front. CRLF and lone CR become LF.
2. The bytes are split into rows at unquoted newlines (quote parity, RFC 4180) with whole-buffer array operations,
   which gives the exact physical line of every row even when a quoted field contains newlines, and the field count
   of every row. Rows are offsets into the buffer, not one Python object each. Rows whose field count differs from
   the header become ``wrong_column_count`` problems; blank lines are skipped silently.
3. Only well-formed rows are handed to Arrow's CSV parser (``pyarrow.csv``, explicit ``,``), one call per chunk of
   ``chunk_rows`` rows and at most 32 MiB of row bytes, as slices of the buffer; a row longer than 1 MiB refuses the
   file as soon as the streamed bytes show it, before it is joined in memory. Numeric columns are first parsed as
   float64 (fast path); if any cell of the chunk is not a number the chunk is re-parsed as text and coerced with
   ``pandas.to_numeric(errors="coerce")`` so that every bad cell is reported. Text stays in Arrow string columns
   (pandas' ``str`` columns wrap them); validation is vectorised (masks, Arrow compute), with Python's own ``str``
   methods and ``re`` applied once per distinct value, never a Python loop per row. Arrow rather than polars or
   duckdb: it is pinned already (the billing readers use it); bench/codecarbon_reader.py measures the reader.
4. The records match the reader before Arrow exactly (tests/ingestion/test_codecarbon_reader_equivalence.py).

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

import builtins
import codecs
import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, BinaryIO, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

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
# Block size of Arrow's CSV parser (see _read_table).
_PARSE_BLOCK_BYTES = 4 << 20
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
# The same grammar for Arrow's RE2 over a whole column (ASCII classes read alike; RE2's $ is the end of the text).
_ID_ANCHORED = f"^(?:{_ID.pattern})$"
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
    """Non-blank CSV rows as offsets into one buffer: row i is ``data[starts[i]:ends[i]]`` (without terminator),
    starting on physical line ``lines[i]`` with ``nfields[i]`` fields.

    Offsets rather than one bytes object per row: a chunk is a few arrays whatever its row count, and the CSV
    parser is handed slices of the buffer itself.
    """

    data: bytes
    starts: np.ndarray
    ends: np.ndarray
    lines: np.ndarray
    nfields: np.ndarray

    @classmethod
    def empty(cls) -> _Rows:
        none = np.empty(0, np.int64)
        return cls(b"", none, none, none, none)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def sizes(self) -> np.ndarray:
        return self.ends - self.starts

    def row(self, index: int) -> bytes:
        return self.data[int(self.starts[index]) : int(self.ends[index])]

    def slice(self, start: int, stop: int) -> _Rows:
        return self._take(slice(start, stop))

    def select(self, mask: np.ndarray) -> _Rows:
        return self if mask.all() else self._take(mask)

    def _take(self, which: builtins.slice | np.ndarray) -> _Rows:
        return _Rows(self.data, self.starts[which], self.ends[which], self.lines[which], self.nfields[which])

    @classmethod
    def join(cls, parts: list[_Rows]) -> _Rows:
        """One buffer for several parts; each part contributes the span from its first to its last row only."""
        parts = [part for part in parts if len(part)]
        if len(parts) <= 1:
            return parts[0] if parts else cls.empty()
        spans, shifts, position = [], [], 0
        for part in parts:
            first, last = int(part.starts[0]), int(part.ends[-1])
            spans.append(part.data[first:last])
            shifts.append(position - first)
            position += last - first + 1  # the LF that joins the spans
        return cls(
            b"\n".join(spans),
            np.concatenate([part.starts + shift for part, shift in zip(parts, shifts, strict=True)]),
            np.concatenate([part.ends + shift for part, shift in zip(parts, shifts, strict=True)]),
            np.concatenate([part.lines for part in parts]),
            np.concatenate([part.nfields for part in parts]),
        )

    def payload(self) -> bytes:
        """The rows' bytes one per line, for the CSV parser: a single slice of the buffer when the rows follow each
        other, else the runs of consecutive rows joined (rows dropped before parsing, blank lines)."""
        if not len(self):
            return b""
        cuts = np.flatnonzero(self.starts[1:] != self.ends[:-1] + 1) + 1
        if not len(cuts):
            return self.data[int(self.starts[0]) : int(self.ends[-1])]
        firsts = np.concatenate([[0], cuts]).tolist()
        lasts = np.concatenate([cuts - 1, [len(self) - 1]]).tolist()
        starts, ends = self.starts[firsts].tolist(), self.ends[lasts].tolist()
        return b"\n".join(self.data[s:e] for s, e in zip(starts, ends, strict=True))


def _non_blank(buf: bytes, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray, nfields: np.ndarray) -> _Rows:
    return _Rows(buf, starts, ends, lines, nfields).select(ends > starts)


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
            long = rows.sizes > _MAX_ROW_BYTES
            if long.any():
                self._too_long(int(rows.lines[int(np.argmax(long))]))
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
        # Without quotes every LF ends a row: row ends and field counts come from whole-buffer array operations.
        cut = buf.rfind(b"\n")
        self._tail = buf[cut + 1 :]
        if cut < 0:
            return _Rows.empty()
        arr = np.frombuffer(buf, dtype=np.uint8, count=cut + 1)
        ends = np.flatnonzero(arr == 10)
        starts = np.concatenate([[0], ends[:-1] + 1])
        lines = np.arange(self._line, self._line + len(ends), dtype=np.int64)
        self._line += len(ends)
        # Each segment [start, next start) holds its row's LF, so none is empty (reduceat's empty-segment rule).
        nfields = np.add.reduceat(arr == 44, starts, dtype=np.int64) + 1
        return _non_blank(buf, starts, ends, lines, nfields)

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
        lines = self._line + breaks[starts]
        self._line += int(breaks[ends[-1] + 1])
        self._tail = buf[ends[-1] + 1 :]
        return _non_blank(buf, starts, ends, lines.astype(np.int64), commas[ends] - commas[starts] + 1)


def _iter_row_batches(stream: BinaryIO, filename: str) -> Iterator[_Rows]:
    splitter = _Splitter(filename)
    for piece in _iter_pieces(stream, filename):
        yield splitter.feed(piece)
    yield splitter.finish()


def _iter_chunks(batches: Iterator[_Rows], chunk_rows: int) -> Iterator[_Rows]:
    """Chunks of at most chunk_rows rows and (beyond a single row) at most _MAX_CHUNK_BYTES bytes of row data."""
    max_bytes = _MAX_CHUNK_BYTES
    pending: list[_Rows] = []
    count, size = 0, 0
    for batch in batches:
        if not len(batch):
            continue
        pending.append(batch)
        count, size = count + len(batch), size + int(batch.sizes.sum())
        if count < chunk_rows and size <= max_bytes:
            continue  # not full yet: wait for more rows, joining the buffers once per chunk
        rows = _Rows.join(pending)
        sizes = np.cumsum(rows.sizes)
        start, base = 0, 0
        while start < len(rows):
            by_bytes = int(np.searchsorted(sizes, base + max_bytes, side="right"))
            stop = min(start + chunk_rows, max(by_bytes, start + 1))
            if stop == len(rows) and stop - start < chunk_rows and sizes[-1] - base <= max_bytes:
                break
            yield rows.slice(start, stop)
            start, base = stop, int(sizes[stop - 1])
        pending = [rows.slice(start, len(rows))]
        count, size = len(rows) - start, int(sizes[-1]) - base
    rest = _Rows.join(pending)
    if len(rest):
        yield rest


def _take_header(batches: Iterator[_Rows], filename: str) -> tuple[_Context, Iterator[_Rows]]:
    for batch in batches:
        if len(batch):
            ctx = _context_from_header(batch.row(0), int(batch.nfields[0]), filename)
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
    if b"\x00" in rows.data:  # one scan of the buffer; rows are looked at one by one only when it holds a NUL
        nul = np.fromiter((b"\x00" in rows.row(i) for i in range(len(rows))), dtype=bool, count=len(rows))
        if nul.any():
            problems += _nul_problems(rows.select(nul), ctx)
            rows = rows.select(~nul)
    if not len(rows):
        return CodecarbonChunk(records=_empty_records(), problems=problems, rows_read=len(good))
    table, numbers, bad = _parse_rows(rows, ctx)
    records, found = _normalise(table, numbers, bad, rows, ctx)
    problems = sorted(problems + found, key=lambda p: p.line)
    return CodecarbonChunk(records=records, problems=problems, rows_read=len(good))


def _count_problems(rows: _Rows, expected: int) -> list[RowProblem]:
    problems = []
    for index, (line, got) in enumerate(zip(rows.lines.tolist(), rows.nfields.tolist(), strict=True)):
        message = f"the row has {got} fields but the header has {expected}"
        raw = rows.row(index).decode("utf-8")[:_MAX_RAW]
        problems.append(RowProblem(line, "", "wrong_column_count", message, raw))
    return problems


def _nul_problems(rows: _Rows, ctx: _Context) -> list[RowProblem]:
    problems = []
    for index, line in enumerate(rows.lines.tolist()):
        cells = _cells(rows.row(index))
        position = next((i for i, cell in enumerate(cells) if "\x00" in cell), 0)
        column, raw = ctx.names[position], _printable(cells[position] if cells else "")
        message = _MESSAGES["nul_character"].format(col=column, raw=raw[:60])
        problems.append(RowProblem(line, column, "nul_character", message, raw[:_MAX_RAW]))
    return problems


def _cells(row: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(row.decode("utf-8"), newline="")), [])


def _printable(raw: str) -> str:
    # The error report is stored in PostgreSQL too, which cannot hold NUL: show it as the NUL symbol.
    return raw.replace("\x00", "\u2400")


def _read_table(data: bytes, ctx: _Context, typed: bool) -> pa.Table:
    """Arrow's CSV parser on well-formed rows: text cells as Arrow strings (empty cells null, as pandas' na_values
    [""] read them), numeric cells as float64 when typed (it trims blanks and reads what pandas' C parser reads,
    "nan" aside, which _parse_rows reports), as text otherwise."""
    numeric = pa.float64() if typed else pa.string()
    types = {name: numeric if name in _FLOAT_COLUMNS else pa.string() for name in ctx.usecols}
    # Blocks of a few MiB parse fastest (cache-sized) and hold any row the splitter lets through. One thread: a
    # worker process is the unit of parallelism, as in the billing readers.
    block = max(_PARSE_BLOCK_BYTES, 2 * _MAX_ROW_BYTES)
    read = pacsv.ReadOptions(column_names=ctx.names, use_threads=False, block_size=block)
    parse = pacsv.ParseOptions(delimiter=",", quote_char='"', double_quote=True, newlines_in_values=b'"' in data)
    # The bytes are strict UTF-8 already (_ByteChecker): no second check.
    convert = pacsv.ConvertOptions(
        include_columns=ctx.usecols,
        column_types=types,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        check_utf8=False,
    )
    return pacsv.read_csv(io.BytesIO(data), read_options=read, parse_options=parse, convert_options=convert)


def _parse_rows(rows: _Rows, ctx: _Context) -> tuple[pa.Table, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Parse well-formed rows; returns the table, float arrays per numeric column and their bad-cell masks."""
    data = rows.payload()
    try:
        try:
            table = _read_table(data, ctx, typed=True)
            numbers, bad = _typed_numbers(table, ctx)
        except pa.ArrowInvalid as exc:
            if "conversion error" not in str(exc):
                raise
            # Some cell is not a number: re-parse as text so that every bad cell can be reported.
            table = _read_table(data, ctx, typed=False)
            numbers = {c: _coerce(table.column(c)) for c in ctx.numeric}
            bad = {c: table.column(c).is_valid().to_numpy() & ~np.isfinite(v) for c, v in numbers.items()}
    except pa.ArrowInvalid as exc:
        raise CodecarbonFormatError(f"{ctx.filename}: malformed CSV ({exc})") from None
    if table.num_rows != len(rows):
        first, last = rows.lines[0], rows.lines[-1]
        raise CodecarbonFormatError(f"{ctx.filename}: lines {first}-{last}: malformed CSV quoting")
    for column, mask in bad.items():
        numbers[column][mask] = np.nan
    return table, numbers, bad


def _typed_numbers(table: pa.Table, ctx: _Context) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    numbers, bad = {}, {}
    for column in ctx.numeric:
        values = table.column(column)
        numbers[column] = values.to_numpy().astype(np.float64, copy=True)  # nulls (empty cells) become NaN
        # Arrow reads "inf" (as pandas' C parser did) and "nan" (pandas refused it): neither is a number here.
        bad[column] = ~np.isfinite(numbers[column]) & values.is_valid().to_numpy()
    return numbers, bad


def _coerce(values: pa.ChunkedArray) -> np.ndarray:
    # The text path keeps pandas' own rules for what is a number (the reader's rules before Arrow).
    numbers = pd.to_numeric(values.to_pandas(), errors="coerce")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan).copy()


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
        # Re-split only the offending row: cheap, and exact for numbers parsed by the typed fast path.
        if index not in self._cells:
            self._cells[index] = _cells(self.rows.row(index))
        cells = self._cells[index]
        position = self.ctx.names.index(column)
        return cells[position] if position < len(cells) else ""


def _text(table: pa.Table, column: str) -> pa.StringArray:
    """A text column with empty cells as "" (an absent column reads as all empty)."""
    if column not in table.column_names:
        return _constant_text(table.num_rows, "")
    return cast(pa.StringArray, pc.fill_null(table.column(column).combine_chunks(), pa.scalar("")))


def _numpy(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False)


def _per_distinct(values: pa.Array, function: Callable[[str], Any]) -> tuple[list[Any], np.ndarray]:
    """function of each distinct value and the index of every cell's value: these columns repeat a few values, so
    Python's own str methods and re run once per value (the reader's rules exactly) at columnar speed."""
    encoded = cast(pa.DictionaryArray, pc.dictionary_encode(values))
    distinct = cast(list[str], encoded.dictionary.to_pylist())  # no nulls: see _text
    return [function(value) for value in distinct], _numpy(encoded.indices)


def _transform(values: pa.Array, method: str) -> pa.Array:
    done, index = _per_distinct(values, lambda value: getattr(value.strip(), method)())
    return pa.array(done, type=pa.string()).take(index)


def _mask(values: pa.Array, predicate: Callable[[str], bool]) -> np.ndarray:
    done, index = _per_distinct(values, predicate)
    return np.array(done, dtype=bool)[index] if len(done) else np.zeros(len(values), dtype=bool)


def _run_ids(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The stripped run ids and where they break the id grammar (an empty id passes: it is reported as missing).

    Run ids are unique per run, too many for a Python call per value: a cell that already is a clean id is left
    unchanged by strip() and passes, so only the other cells (blanks around, bad or empty ids) go through Python.
    """
    clean = _numpy(pc.match_substring_regex(values, _ID_ANCHORED))
    bad = np.zeros(len(values), dtype=bool)
    if clean.all():
        return values, bad
    index = np.flatnonzero(~clean)
    stripped = [str(value).strip() for value in values.take(index).to_pylist()]  # no nulls: see _text
    bad[index] = [bool(value) and not _ID.fullmatch(value) for value in stripped]
    out = values.to_numpy(zero_copy_only=False, writable=True)
    out[index] = stripped
    return pa.array(out, type=pa.string()), bad


def _equal(values: pa.Array, text: str) -> np.ndarray:
    return _numpy(pc.equal(values, pa.scalar(text)))


def _required_text(table: pa.Table, ctx: _Context, checks: _Checks) -> tuple[pa.Array, np.ndarray]:
    """Check the run id (and task name) columns; returns the stripped run ids and their grammar mask."""
    if ctx.kind == "task":
        checks.add(_mask(_text(table, "task_name"), lambda value: not value.strip()), "task_name", "missing_value")
    source, bad = _run_ids(_text(table, ctx.run_column))
    checks.add(_equal(source, ""), ctx.run_column, "missing_value")
    return source, bad


def _parse_timestamps(table: pa.Table, checks: _Checks) -> np.ndarray:
    raw = table.column("timestamp").to_pandas()
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


def _grammar_mask(values: pa.Array, pattern: re.Pattern[str]) -> np.ndarray:
    return _mask(values, lambda value: bool(value.strip()) and not pattern.fullmatch(value.strip()))


def _check_identifiers(table: pa.Table, ctx: _Context, run_bad: np.ndarray, checks: _Checks) -> None:
    """Grammar of the identifier columns (module docstring); an empty run id is reported as missing already."""
    for column, (pattern, code) in _GRAMMARS.items():
        if column in table.column_names and not (column == "experiment_id" and ctx.run_column == column):
            checks.add(_grammar_mask(_text(table, column), pattern), column, code)
    checks.add(run_bad, ctx.run_column, "bad_identifier")  # "None" fits
    if ctx.kind == "task":
        lengths = pc.utf8_length(_text(table, "task_name"))  # code points, as Python's len
        checks.add(_numpy(pc.greater(lengths, pa.scalar(_MAX_NAME))), "task_name", "too_long")


def _on_cloud(table: pa.Table, checks: _Checks) -> np.ndarray:
    values = _text(table, "on_cloud")
    yes = _equal(values, "Y")
    checks.add(~(yes | _equal(values, "N") | _equal(values, "")), "on_cloud", "bad_on_cloud")
    return yes


# --------------------------------------------------------------------------------------------------- records

_Column = np.ndarray | pa.Array


def _normalise(
    table: pa.Table, numbers: dict[str, np.ndarray], bad: dict[str, np.ndarray], rows: _Rows, ctx: _Context
) -> tuple[pd.DataFrame, list[RowProblem]]:
    checks = _Checks(rows, ctx)
    run_source, run_bad = _required_text(table, ctx, checks)
    timestamps = _parse_timestamps(table, checks)
    _check_numbers(numbers, bad, checks)
    on_cloud = _on_cloud(table, checks)
    _check_identifiers(table, ctx, run_bad, checks)
    valid = ~checks.invalid()
    columns: dict[str, _Column] = {"line": rows.lines, "timestamp_local": timestamps, "on_cloud": on_cloud}
    columns |= {"_run_source": run_source}
    columns |= _float_columns(numbers, table.num_rows, ctx)
    columns |= _text_columns(table, ctx)
    columns = {name: _keep(values, valid) for name, values in columns.items()}
    columns |= _keys(columns, ctx)
    records = _frame(columns, int(valid.sum()), ctx)
    return records, checks.problems()


def _keep(values: _Column, valid: np.ndarray) -> _Column:
    return values.filter(pa.array(valid)) if isinstance(values, pa.Array) else values[valid]


def _float_columns(numbers: dict[str, np.ndarray], n: int, ctx: _Context) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for source, target in _FLOAT_COLUMNS.items():
        values = numbers.get(source, np.full(n, np.nan))
        if target in _FLOAT_DEFAULTS:
            values = np.where(np.isnan(values), _FLOAT_DEFAULTS[target], values)
        out[target] = values
    if ctx.schema == "2.0-2.1":
        out["emissions_rate_kg_s"] = out["emissions_rate_kg_s"] / 1000.0  # written in g/s before 2.2.0 (#346)
    return out


def _text_columns(table: pa.Table, ctx: _Context) -> dict[str, _Column]:
    out: dict[str, _Column] = {}
    for source, (target, transform) in _TEXT_COLUMNS.items():
        values = _text(table, source)
        out[target] = _transform(values, transform) if transform else values
    out["task_name"] = _text(table, "task_name")
    experiment = _transform(_text(table, "experiment_id"), "strip")
    if ctx.schema == "1.x":
        experiment = _constant_text(table.num_rows, "")  # 1.x experiment_id is the run key
    unset = pc.equal(experiment, pa.scalar(UNSET_EXPERIMENT_ID))
    out["experiment_id"] = pc.if_else(unset, pa.scalar(""), experiment)
    return out


def _keys(columns: dict[str, _Column], ctx: _Context) -> dict[str, _Column]:
    source = columns.pop("_run_source")
    assert isinstance(source, pa.Array)
    missing = _equal(source, "None")
    if not missing.any():
        return {"run_key": source, "run_id_missing": missing}
    keys = source.to_numpy(zero_copy_only=False, writable=True)
    project = _numpy(cast(pa.Array, columns["project_name"]))
    arrays = {name: values for name, values in columns.items() if isinstance(values, np.ndarray)}
    for name in dict.fromkeys(project[missing].tolist()):
        index = np.flatnonzero(missing & (project == name))
        keys[index] = _none_keys(name, index, arrays, ctx)
    return {"run_key": pa.array(keys, type=pa.string()), "run_id_missing": missing}


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


def _frame(columns: dict[str, _Column], n: int, ctx: _Context) -> pd.DataFrame:
    columns["kind"] = _constant_text(n, ctx.kind)
    columns["schema"] = _constant_text(n, ctx.schema)
    # Arrow text columns become pandas' str columns without a Python object per cell.
    data = {name: v.to_pandas() if isinstance(v, pa.Array) else v for name, v in columns.items()}
    frame = pd.DataFrame(data, columns=list(RECORD_COLUMNS))
    if {c: str(t) for c, t in frame.dtypes.items()} == RECORD_COLUMNS:
        return frame  # astype would copy every column to change nothing
    return frame.astype(RECORD_COLUMNS)


def _constant_text(n: int, text: str) -> pa.StringArray:
    return cast(pa.StringArray, pc.fill_null(pa.nulls(n, pa.string()), pa.scalar(text)))


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
    columns = ["kind", "run_key", "task_name", "timestamp_local", "duration_s", "_seq"]
    keys = frames[0][columns] if len(frames) == 1 else pd.concat([f[columns] for f in frames], ignore_index=True)
    seq = keys["_seq"].to_numpy(dtype=np.int64)
    is_run = (keys["kind"] == "run").to_numpy(dtype=bool)
    runs = np.flatnonzero(is_run)
    # One sort by (run, duration, file order): the last row of each run's group is the longest, ties the later.
    # NaN durations sort last, as sort_values put them. Codes of the whole column: pandas hashes Arrow strings
    # in C, where a subset first would build Python strings.
    codes = pd.factorize(keys["run_key"])[0][runs]
    order = np.lexsort((seq[runs], keys["duration_s"].to_numpy(dtype=np.float64)[runs], codes))
    last = np.append(codes[order][1:] != codes[order][:-1], True) if len(order) else np.zeros(0, dtype=bool)
    winners = [seq[runs][order][last]]
    if not is_run.all():
        tasks = keys[~is_run].astype({"run_key": object, "task_name": object})
        tasks = tasks.drop_duplicates(["run_key", "task_name", "timestamp_local"], keep="last")
        winners.append(tasks["_seq"].to_numpy(dtype=np.int64))
    return np.sort(np.concatenate(winners))


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
