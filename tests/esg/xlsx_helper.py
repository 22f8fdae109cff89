"""Builds small XLSX files the way Excel lays them out (shared strings, numbers, an inline string)."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def xlsx_bytes(rows: list[list[object]], *, sheet_part: str = "worksheets/data.xml", extra: str = "") -> bytes:
    strings: list[str] = []
    xml_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{_column(c)}{r}"
            if value is None or value == "":
                continue
            if isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            elif str(value).startswith("inline:"):
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value)[7:])}</t></is></c>')
            else:
                strings.append(str(value))
                cells.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
        xml_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    body = "".join(xml_rows)
    sheet = f'<?xml version="1.0" encoding="UTF-8"?>{extra}<worksheet xmlns="{MAIN}"><sheetData>{body}</sheetData>'
    sheet += "</worksheet>"
    shared = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{len(strings)}">'
        + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
        + "</sst>"
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        '<sheet name="ESG" sheetId="1" r:id="rId7"/></sheets></workbook>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId7" Type="{REL}/worksheet" Target="{sheet_part}"/></Relationships>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", rels)
        archive.writestr(f"xl/{sheet_part}", sheet)
        archive.writestr("xl/sharedStrings.xml", shared)
    return buffer.getvalue()
