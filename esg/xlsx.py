"""A minimal, read-only XLSX reader for the ESG import templates (standard library only).

Why not openpyxl: it is not a dependency, and the templates need only the first sheet's cell
values. Why this is safe enough (docs/security.md §5): members are read as capped streams (the
declared `file_size` proves nothing), archives with too many members or encrypted/odd paths are
refused, and any part with a DOCTYPE is refused before parsing, so no entity can be declared or
expanded (expat ≥ 2.4 also limits amplification). Formulas are never evaluated: a formula cell yields
its cached value, as a CSV export would.
"""

from __future__ import annotations

import re
import zipfile
from typing import IO
from xml.etree import ElementTree as ET  # noqa: S405 - DOCTYPE refused before parsing (see module doc)

MAX_MEMBERS = 200
MAX_PART_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


class XlsxError(ValueError):
    pass


def _read_part(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.flag_bits & 0x1:
        raise XlsxError("Encrypted workbooks are not supported.")
    with archive.open(info) as stream:
        data = stream.read(MAX_PART_BYTES + 1)
    if len(data) > MAX_PART_BYTES:
        raise XlsxError(f"Workbook part {name} is larger than {MAX_PART_BYTES // 2**20} MB uncompressed.")
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise XlsxError("Workbook parts with a DOCTYPE or entities are refused.")
    return data


def _xml(archive: zipfile.ZipFile, name: str) -> ET.Element | None:
    data = _read_part(archive, name)
    if data is None:
        return None
    try:
        return ET.fromstring(data)  # noqa: S314 - see module docstring
    except ET.ParseError as exc:
        raise XlsxError(f"Workbook part {name} is not valid XML: {exc}") from exc


def _first_sheet_path(archive: zipfile.ZipFile) -> str:
    workbook, rels = _xml(archive, "xl/workbook.xml"), _xml(archive, "xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None:
        raise XlsxError("Not an XLSX workbook (xl/workbook.xml missing).")
    sheet = workbook.find("m:sheets/m:sheet", _NS)
    if sheet is None:
        raise XlsxError("The workbook has no sheet.")
    rel_id = sheet.get(f"{{{_NS['r']}}}id")
    for rel in rels.findall("rel:Relationship", _NS):
        if rel.get("Id") == rel_id:
            target = (rel.get("Target") or "").lstrip("/")
            path = target if target.startswith("xl/") else "xl/" + target
            if ".." in path.split("/"):
                raise XlsxError("Sheet path escapes the workbook.")
            return path
    raise XlsxError("The first sheet's relationship is missing.")


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    root = _xml(archive, "xl/sharedStrings.xml")
    if root is None:
        return []
    # Rich text splits one string over several <r><t> runs: join every <t> under the <si>.
    return ["".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t")) for si in root.findall("m:si", _NS)]


def _column_index(ref: str) -> int:
    match = _CELL_REF.match(ref)
    if match is None:
        raise XlsxError(f"Bad cell reference {ref!r}.")
    index = 0
    for char in match.group(1):
        index = index * 26 + ord(char) - 64
    return index - 1


def _cell_text(cell: ET.Element, strings: list[str]) -> str:
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{{{_NS['m']}}}t"))
    value = cell.find("m:v", _NS)
    text = value.text if value is not None and value.text is not None else ""
    if kind == "s":
        try:
            return strings[int(text)]
        except (ValueError, IndexError) as exc:
            raise XlsxError(f"Cell {cell.get('r')} points at a missing shared string.") from exc
    if kind == "b":
        return "yes" if text == "1" else "no"
    return text


def xlsx_rows(file: IO[bytes]) -> list[list[str]]:
    """The first sheet as rows of cell texts (blank cells as ""). Dates stay Excel serial numbers."""
    try:
        with zipfile.ZipFile(file) as archive:
            if len(archive.infolist()) > MAX_MEMBERS:
                raise XlsxError("The workbook has too many parts.")
            strings = _shared_strings(archive)
            sheet = _xml(archive, _first_sheet_path(archive))
    except zipfile.BadZipFile as exc:
        raise XlsxError("Not an XLSX workbook (not a zip archive).") from exc
    if sheet is None:
        raise XlsxError("The first sheet is missing.")
    rows: list[list[str]] = []
    for row in sheet.iterfind("m:sheetData/m:row", _NS):
        if len(rows) >= MAX_ROWS:
            raise XlsxError(f"More than {MAX_ROWS} rows.")
        number = int(row.get("r") or len(rows) + 1)
        while len(rows) < number - 1:
            rows.append([])  # Excel omits empty rows; keep row numbers true for messages
        cells: list[str] = []
        for cell in row.findall("m:c", _NS):
            index = _column_index(cell.get("r") or "") if cell.get("r") else len(cells)
            cells.extend([""] * (index - len(cells) + 1))
            cells[index] = _cell_text(cell, strings)
        rows.append(cells)
    return rows
