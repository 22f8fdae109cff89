"""Opening billing files safely: .csv, .csv.gz (multi-member) and .zip, with decompression-bomb limits.

Upload rules (docs/security.md §5): never extract, read members as streams, count the real decompressed bytes
and abort past a byte cap or a ratio cap (the sizes an archive declares prove nothing), strict decoding.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from ingestion.billing.readers.common import BillingFileError
from ingestion.billing.readers.parquet import is_parquet_name, parquet_columns

DEFAULT_MAX_BYTES = 4 * 2**30  # 4 GiB decompressed
DEFAULT_MAX_RATIO = 200.0  # decompressed bytes per byte of input file
RATIO_GRACE_BYTES = 1 * 2**20  # tiny files may compress well; the ratio rule starts after 1 MiB
MAX_ZIP_MEMBERS = 4
SNIFF_BYTES = 64 * 1024
ALLOWED_NAMES = (".csv", ".csv.gz", ".gz", ".zip", ".parquet")
MEMBER_NAMES = (".csv", ".csv.gz")
DELIMITERS = (",", ";", "\t", "|")


# One CSV block, as codecarbon's row limit: no billing row comes near it (a CUR row is ~2 KB), and the block size
# sets the reader's working memory (a 1M-row GCP import peaked at ~400 MB RSS with 4 MiB blocks, ~265 MB with 1 MiB).
DEFAULT_MAX_ROW_BYTES = 2**20
# Settings that change the limits (greenesg/settings.py), named in the errors so an operator knows what to raise.
MAX_BYTES_SETTING = "BILLING_MAX_DECOMPRESSED_BYTES"
MAX_RATIO_SETTING = "BILLING_MAX_COMPRESSION_RATIO"


@dataclass(frozen=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_ratio: float = DEFAULT_MAX_RATIO
    max_members: int = MAX_ZIP_MEMBERS
    ratio_grace_bytes: int = RATIO_GRACE_BYTES
    max_row_bytes: int = DEFAULT_MAX_ROW_BYTES


@dataclass(frozen=True)
class CsvLayout:
    member: str  # zip member name, or "" for the file itself
    encoding: str
    delimiter: str
    columns: tuple[str, ...]
    parquet: bool = False  # read with pyarrow batch by batch instead of pandas.read_csv


class _Budget:
    """Counts decompressed bytes across all members of one input file."""

    def __init__(self, name: str, input_size: int, limits: Limits) -> None:
        self.name, self.input_size, self.limits, self.total = name, max(input_size, 1), limits, 0

    def add(self, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_bytes:
            raise BillingFileError(self.name, bytes_limit_reason(self.limits))
        ratio = self.total / self.input_size
        if self.total > self.limits.ratio_grace_bytes and ratio > self.limits.max_ratio:
            raise BillingFileError(
                self.name,
                f"compression ratio above {self.limits.max_ratio:.0f}:1 (possible decompression bomb; "
                f"{self.input_size:,} bytes inflated past {self.total:,}); file rejected before it was read further. "
                f"The limit is the setting {MAX_RATIO_SETTING}",
            )


def bytes_limit_reason(limits: Limits) -> str:
    return (
        f"decompressed data exceeds the limit of {limits.max_bytes} bytes (possible decompression bomb); "
        f"the limit is the setting {MAX_BYTES_SETTING}"
    )


class _CountingStream(io.RawIOBase):
    """Byte stream that charges every decompressed byte to the budget and maps codec errors to file errors."""

    def __init__(self, inner: IO[bytes] | gzip.GzipFile, budget: _Budget) -> None:
        self._inner, self._budget = inner, budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except EOFError as exc:
            raise BillingFileError(
                self._budget.name, "the compressed file is truncated (incomplete download?)"
            ) from exc
        except (gzip.BadGzipFile, zlib.error, zipfile.BadZipFile) as exc:
            raise BillingFileError(self._budget.name, f"the compressed data is corrupt ({exc})") from exc
        n = len(data)
        buffer[:n] = data
        self._budget.add(n)
        return n


def check_name(name: str) -> None:
    lower = name.lower()
    if "\x00" in name or not lower.endswith(ALLOWED_NAMES):
        raise BillingFileError(name, "unsupported file type; expected .csv, .csv.gz, .zip or .parquet")


def _magic(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(4)


def _check_member(display: str, info: zipfile.ZipInfo) -> None:
    """Zip member rules (docs/security.md §5): plain *.csv / *.csv.gz files only, no paths that could escape."""
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if info.is_dir():
        raise BillingFileError(display, f"zip member '{name}' is a directory")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise BillingFileError(display, f"zip member '{name}' has an absolute or '..' path")
    if info.flag_bits & 0x1:
        raise BillingFileError(display, f"zip member '{name}' is encrypted")
    if not name.lower().endswith(MEMBER_NAMES):
        raise BillingFileError(display, f"zip member '{name}' is not a .csv or .csv.gz file (nested archives refused)")


def zip_members(path: Path, display: str, limits: Limits) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise BillingFileError(display, f"not a readable zip archive ({exc})") from exc
    if not infos:
        raise BillingFileError(display, "the zip archive is empty")
    if len(infos) > limits.max_members:
        raise BillingFileError(display, f"the zip archive has {len(infos)} members; at most {limits.max_members}")
    for info in infos:
        _check_member(display, info)
    return [info.filename for info in infos]


def list_sources(path: Path, display: str, limits: Limits) -> list[str]:
    """Members to read in order: [""] for a plain or gzip file, member names for a zip."""
    check_name(display)
    if is_parquet_name(display):
        return [""]  # a Parquet file is one source; its own checks follow in sniff_layout
    if _magic(path).startswith(b"PK\x03\x04"):
        return zip_members(path, display, limits)
    return [""]


@contextmanager
def open_stream(path: Path, display: str, member: str, budget: _Budget) -> Iterator[io.BufferedReader]:
    """Decompressed, counted byte stream of the file or one zip member (content sniffed, name not trusted)."""
    with path.open("rb") as raw:
        if member:
            with zipfile.ZipFile(raw) as archive, archive.open(member) as inner:
                yield from _maybe_gunzip(inner, member, budget)
        else:
            yield from _maybe_gunzip(raw, display, budget)


def _maybe_gunzip(inner: IO[bytes], name: str, budget: _Budget) -> Iterator[io.BufferedReader]:
    head = inner.peek(2)[:2] if hasattr(inner, "peek") else b""
    if head == b"\x1f\x8b" or name.lower().endswith(".gz"):
        # gzip.GzipFile reads multi-member streams (CUR writes one member per partition).
        with gzip.GzipFile(fileobj=inner, mode="rb") as gz:
            yield io.BufferedReader(_CountingStream(gz, budget), buffer_size=256 * 1024)
    else:
        yield io.BufferedReader(_CountingStream(inner, budget), buffer_size=256 * 1024)


def new_budget(path: Path, display: str, limits: Limits) -> _Budget:
    return _Budget(display, os.path.getsize(path), limits)


def sniff_layout(path: Path, display: str, member: str, limits: Limits) -> CsvLayout:
    """Encoding from the BOM, delimiter and header from the first 64 KiB (docs/security.md §5); Parquet: its schema."""
    if not member and is_parquet_name(display):
        return CsvLayout("", "", "", parquet_columns(path, display, limits), parquet=True)
    with open_stream(path, display, member, new_budget(path, display, limits)) as stream:
        head = stream.read(SNIFF_BYTES)
    label = f"{display}:{member}" if member else display
    if not head.strip():
        raise BillingFileError(label, "the file is empty")
    encoding = _encoding(head)
    try:
        text = codecs.getincrementaldecoder(encoding)(errors="strict").decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise BillingFileError(label, _decode_reason(exc)) from exc
    header_line = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    delimiter = max(DELIMITERS, key=header_line.count)
    columns = tuple(next(csv.reader([header_line], delimiter=delimiter)))
    if len(columns) < 2:
        raise BillingFileError(label, "no header row with several columns was found")
    return CsvLayout(member, encoding, delimiter, columns)


def _encoding(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel "Unicode text"
    return "utf-8-sig"  # tolerates the UTF-8 BOM Excel writes


def _decode_reason(exc: UnicodeDecodeError) -> str:
    return (
        f"the file is not valid UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
        "export it again as UTF-8"
    )
