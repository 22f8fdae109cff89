"""Machine-readable exports of the same figures as the PDF: CSV, XLSX, JSON facts and inline XBRL.

- CSV: every table in one long file (table, ref, row, column, value, unit, concept, period, dimensions),
  formula-safe through `greenesg.lib.csv_safe.safe_csv_lines` (docs/security.md §6): numbers stay numbers.
- XLSX: one sheet per table plus the long "Facts" sheet, written with XlsxWriter with
  `strings_to_formulas` and `strings_to_urls` off *and* the same prefix rule (users re-save as CSV).
- JSON: every fact with its context (entity, period, dimensions), unit and decimals.
- iXBRL: XHTML with `ix:nonFraction` tags on the E1-5/E1-6/intensity facts, EFRAG ESRS 2023-12-22 names
  (docs/esrs.md §10), duration contexts with the LEI scheme, units utr:MWh / utr:tCO2e / xbrli:pure / ISO 4217.
  Quarterly contexts make it an internal, forward-compatible export, not a filing (docs/esrs.md §10.6).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from reports.esrs.datapoints import DATAPOINTS
from reports.esrs.facts import Fact
from reports.esrs.periods import fiscal_year_range
from reports.esrs.render import fmt

ESRS_NS = "https://xbrl.efrag.org/taxonomy/esrs/2023-12-22"
ESRS_ENTRY_POINT = "https://xbrl.efrag.org/taxonomy/esrs/2023-12-22/esrs_all.xsd"
LEI_SCHEME = "http://standards.iso.org/iso/17442"
FALLBACK_SCHEME = "urn:greenesg:organisation"
NAMESPACES = {
    "": "http://www.w3.org/1999/xhtml",
    "ix": "http://www.xbrl.org/2013/inlineXBRL",
    "ixt": "http://www.xbrl.org/inlineXBRL/transformation/2020-02-12",
    "xbrli": "http://www.xbrl.org/2003/instance",
    "link": "http://www.xbrl.org/2003/linkbase",
    "xlink": "http://www.w3.org/1999/xlink",
    "xbrldi": "http://xbrl.org/2006/xbrldi",
    "iso4217": "http://www.xbrl.org/2003/iso4217",
    "utr": "http://www.xbrl.org/2009/utr",
    "esrs": ESRS_NS,
}
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Every datapoint table is tagged (docs/esrs.md §10.5); the supplementary tables carry no facts.
TABLES_TAGGED = tuple(table.id for table in DATAPOINTS.tables)
# XBRL unit per datapoint unit (reports/esrs/datapoints.py UNITS): (unit id, measure XML), "{c}" the currency.
_DIVIDE = (
    "<xbrli:divide><xbrli:unitNumerator><xbrli:measure>utr:{n}</xbrli:measure></xbrli:unitNumerator>"
    "<xbrli:unitDenominator><xbrli:measure>iso4217:{c}</xbrli:measure></xbrli:unitDenominator></xbrli:divide>"
)
XBRL_UNITS: dict[str, tuple[str, str]] = {
    "tCO2e": ("u_tCO2e", "<xbrli:measure>utr:tCO2e</xbrli:measure>"),
    "MWh": ("u_MWh", "<xbrli:measure>utr:MWh</xbrli:measure>"),
    "percent": ("u_pure", "<xbrli:measure>xbrli:pure</xbrli:measure>"),
    "currency": ("u_{c}", "<xbrli:measure>iso4217:{c}</xbrli:measure>"),
    "tCO2e/currency": ("u_tCO2e_per_{c}", _DIVIDE.replace("{n}", "tCO2e")),
    "MWh/currency": ("u_MWh_per_{c}", _DIVIDE.replace("{n}", "MWh")),
}


# --------------------------------------------------------------------------------------------- periods


def fact_period(fact: Fact, inputs: dict[str, Any]) -> tuple[str, str]:
    """(start, end) inclusive ISO dates of a fact's window."""
    window = fact.window
    if window in inputs["windows"]:
        w = inputs["windows"][window]
        return w["start"], w["end"]
    month = int(inputs["organisation"].get("fiscal_start_month") or 1)
    if window == "base":
        year = int(inputs["base_year"]["year"])
    else:
        year = int(window.removeprefix("target"))
    start, end = fiscal_year_range(year, month)
    return start.isoformat(), end.isoformat()


# ------------------------------------------------------------------------------------------ long rows


def _supplementary(inputs: dict[str, Any], computed: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Tables that carry no tagged facts: (table id, header, rows)."""
    from reports.esrs.render import _cloud, _screening

    cloud = _cloud(inputs)
    return [
        (
            "scope3_screening",
            ["category", "status", "method", "reason", "N_tCO2e"],
            [[r["category"], r["status"], r["method"], r["reason"], r["value"]] for r in _screening(inputs, computed)],
        ),
        (
            "cloud_by_region",
            ["provider_region", "energy_kwh", "tco2e", "embodied_tco2e_memo", "spend", "records"],
            [[r["label"], r["kwh"], r["t"], r["embodied_t"], r["spend"], r["records"]] for r in cloud["regions"]],
        ),
        (
            "cloud_by_project",
            ["project", "energy_kwh", "tco2e", "spend", "records"],
            [[r["label"], r["kwh"], r["t"], r["spend"], r["records"]] for r in cloud["projects"]],
        ),
        (
            "instruments",
            [
                "type",
                "market",
                "mwh",
                "consumption_start",
                "consumption_end",
                "generation_start",
                "generation_end",
                "g_per_kwh",
                "supplier",
                "registry_ids",
                "evidence_sha256",
            ],
            [
                [
                    i["type"],
                    i["market"],
                    i["mwh"],
                    i["consumption_start"],
                    i["consumption_end"],
                    i["generation_start"],
                    i["generation_end"],
                    i["rate"],
                    i["supplier"],
                    i["registry_ids"],
                    i["evidence_sha256"],
                ]
                for i in inputs.get("instruments", [])
            ],
        ),
        (
            "emission_factors",
            ["factor_version", "zone", "vintage", "g_per_kwh", "source", "records", "kgco2e"],
            [
                [f["factor_version"], f["zone"], f["vintage"], f["g_per_kwh"], f["source"], f["records"], f["kg"]]
                for f in inputs.get("factors", [])
            ],
        ),
        (
            "source_files",
            ["kind", "name", "sha256", "records", "id"],
            [[s["kind"], s["name"], s["sha256"], s["records"], s["id"]] for s in inputs.get("sources", [])],
        ),
    ]


LONG_HEADER = ["table", "ref", "row", "column", "value", "unit", "concept", "period_start", "period_end", "dimensions"]


def long_rows(inputs: dict[str, Any], computed: dict[str, Any]) -> list[list[Any]]:
    facts = computed["facts"]
    rows: list[list[Any]] = []
    for table in computed["tables"]:
        columns = {c["id"]: c["label"] for c in table["columns"]}
        for row in table["rows"]:
            for col, label in columns.items():
                cell = row["cells"].get(col, {})
                data = facts.get(cell.get("fact") or "")
                fact = Fact.from_json(data) if data else None
                unit = cell.get("unit") or row["unit"]
                unit = {"percent": "%", "intensity": fact.unit if fact else "", "currency": _currency(inputs)}.get(
                    unit, unit
                )
                start, end = fact_period(fact, inputs) if fact else ("", "")
                dims = ";".join(f"{k}={v}" for k, v in fact.dims.items()) if fact else ""
                rows.append(
                    [
                        table["id"],
                        row["ref"],
                        row["label"],
                        label,
                        cell.get("value"),
                        unit,
                        f"esrs:{fact.concept}" if fact and fact.concept else "",
                        start,
                        end,
                        dims,
                    ]
                )
    for table_id, header, table_rows in _supplementary(inputs, computed):
        for index, values in enumerate(table_rows, start=1):
            for name, value in zip(header[1:], values[1:], strict=True):
                rows.append([table_id, str(index), values[0], name, value, "", "", "", "", ""])
    return rows


def _currency(inputs: dict[str, Any]) -> str:
    return inputs["organisation"].get("currency") or "EUR"


def document_status(meta: dict[str, Any] | None) -> str:
    """What every document says of itself: a draft must never pass for the signed version (nor share its hash)."""
    meta = meta or {}
    if meta.get("signed"):
        who, when, inputs = meta.get("signed_by"), meta.get("signed_at"), meta.get("inputs_sha256")
        return f"Signed by {who} at {when}; inputs SHA-256 {inputs}"
    return f"DRAFT, not signed: {meta.get('status_label') or 'draft'}"


def csv_bytes(inputs: dict[str, Any], computed: dict[str, Any], meta: dict[str, Any] | None = None) -> bytes:
    from greenesg.lib.csv_safe import safe_csv_lines

    status = document_status(meta)
    rows = [[*row, status] for row in long_rows(inputs, computed)]
    return "".join(safe_csv_lines([*LONG_HEADER, "document_status"], rows)).encode("utf-8")


# ------------------------------------------------------------------------------------------------ XLSX


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def xlsx_bytes(inputs: dict[str, Any], computed: dict[str, Any], meta: dict[str, Any] | None = None) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    workbook = xlsxwriter.Workbook(buffer, options)
    bold = workbook.add_format({"bold": True, "bg_color": "#E8F5E9", "text_wrap": True, "valign": "bottom"})
    number = workbook.add_format({"num_format": "#,##0.000"})
    for table in computed["tables"]:
        sheet = workbook.add_worksheet(table["id"][:31])
        sheet.write_string(0, 0, _xlsx_cell(table["title"]), bold)
        sheet.write_string(1, 0, _xlsx_cell(document_status(meta)))
        header = ["Ref", "Row", *[c["label"] for c in table["columns"]]]
        for col, name in enumerate(header):
            sheet.write_string(2, col, _xlsx_cell(name), bold)
        for r, row in enumerate(table["rows"], start=3):
            sheet.write_string(r, 0, row["ref"])
            sheet.write_string(r, 1, _xlsx_cell(row["label"]))
            for c, col in enumerate(table["columns"], start=2):
                value = row["cells"].get(col["id"], {}).get("value")
                if value is None:
                    sheet.write_blank(r, c, None)
                else:
                    sheet.write_number(r, c, float(value), number)
        sheet.set_column(0, 0, 9)
        sheet.set_column(1, 1, 60)
        sheet.set_column(2, len(header), 16)
    for table_id, header, rows in [
        ("facts", LONG_HEADER, long_rows(inputs, computed)),
        *_supplementary(inputs, computed),
    ]:
        sheet = workbook.add_worksheet(table_id[:31])
        for col, name in enumerate(header):
            sheet.write_string(0, col, name, bold)
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values):
                _write_any(sheet, r, c, value)
    workbook.close()
    return buffer.getvalue()


def _write_any(sheet: Any, row: int, col: int, value: Any) -> None:
    if value is None or value == "":
        sheet.write_blank(row, col, None)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, float(value))
    else:
        # write_string never interprets its text (no formula, no URL), whatever the workbook options.
        sheet.write_string(row, col, _xlsx_cell(str(value)))


# ------------------------------------------------------------------------------------------------ JSON


def json_document(inputs: dict[str, Any], computed: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    org = inputs["organisation"]
    facts = []
    for fact in map(Fact.from_json, computed["facts"].values()):
        start, end = fact_period(fact, inputs)
        facts.append(
            {
                "id": fact.id,
                "concept": f"esrs:{fact.concept}" if fact.concept else None,
                "label": fact.label,
                "value": fact.value,
                "unit": fact.unit,
                "decimals": fact.decimals,
                "context": {
                    "entity": {
                        "scheme": LEI_SCHEME if org.get("lei") else FALLBACK_SCHEME,
                        "identifier": org.get("lei") or org["slug"],
                    },
                    "period": {"start": start, "end": end, "window": fact.window},
                    "dimensions": {f"esrs:{k}": f"esrs:{v}" for k, v in fact.dims.items()},
                },
            }
        )
    return {
        "schema": "greenesg.esrs-e1.facts/1",
        "taxonomy": {"namespace": ESRS_NS, "entry_point": ESRS_ENTRY_POINT},
        "entity": {"name": org["legal_name"], "lei": org.get("lei") or None, "currency": _currency(inputs)},
        "filing_grade": filing_grade(org),
        "period": inputs["period"],
        "windows": inputs["windows"],
        "report": meta,
        "notes": computed["notes"],
        "facts": facts,
    }


def json_bytes(inputs: dict[str, Any], computed: dict[str, Any], meta: dict[str, Any]) -> bytes:
    return json.dumps(json_document(inputs, computed, meta), indent=2, sort_keys=True, default=str).encode("utf-8")


# ----------------------------------------------------------------------------------------------- iXBRL

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _unit_id(fact: Fact, currency: str) -> tuple[str, str]:
    """(unit id, unit XML) for a fact, from its datapoint's unit."""
    unit = DATAPOINTS[fact.datapoint_id].unit
    if unit not in XBRL_UNITS:
        raise ValueError(f"No XBRL unit for {unit!r}")
    uid, measure = XBRL_UNITS[unit]
    return uid.replace("{c}", currency), measure.replace("{c}", currency)


def _context_id(fact: Fact) -> str:
    dims = "_".join(v.replace("Member", "") for v in fact.dims.values())
    return _ID_UNSAFE.sub("_", f"c_{fact.window}" + (f"_{dims}" if dims else ""))


def _context_xml(cid: str, fact: Fact, inputs: dict[str, Any]) -> str:
    org = inputs["organisation"]
    scheme, ident = (LEI_SCHEME, org["lei"]) if org.get("lei") else (FALLBACK_SCHEME, org["slug"])
    start, end = fact_period(fact, inputs)
    segment = ""
    if fact.dims:
        members = "".join(
            f'<xbrldi:explicitMember dimension="esrs:{axis}">esrs:{member}</xbrldi:explicitMember>'
            for axis, member in sorted(fact.dims.items())
        )
        segment = f"<xbrli:segment>{members}</xbrli:segment>"
    return (
        f'<xbrli:context id="{cid}"><xbrli:entity><xbrli:identifier scheme={quoteattr(scheme)}>{escape(ident)}'
        f"</xbrli:identifier>{segment}</xbrli:entity><xbrli:period><xbrli:startDate>{start}</xbrli:startDate>"
        f"<xbrli:endDate>{end}</xbrli:endDate></xbrli:period></xbrli:context>"
    )


def _tag(fact: Fact, cid: str, uid: str, display_unit: str) -> str:
    if fact.value is None:
        raise ValueError(f"{fact.id} has no value to tag")
    value = float(fact.value)
    text = fmt(abs(value), display_unit)
    scale, decimals = "0", fact.decimals
    if display_unit == "percent":
        scale, decimals = "-2", 3  # shown as 12.3 (%), stored as the pure number 0.123
    elif display_unit == "intensity":
        scale, decimals = "-6", 9  # shown per million currency units
    elif display_unit == "currency":
        decimals = 0
    sign = ' sign="-"' if value < 0 else ""
    return (
        f'<ix:nonFraction name="esrs:{fact.concept}" contextRef="{cid}" unitRef="{uid}" '
        f'decimals="{decimals}" scale="{scale}" format="ixt:num-dot-decimal"{sign}>{escape(text)}</ix:nonFraction>'
    )


def filing_grade(org: dict[str, Any]) -> bool:
    """A filing needs the entity's LEI; without it the contexts carry GreenESG's own organisation id."""
    return bool(org.get("lei"))


def _not_for_filing_notice(org: dict[str, Any]) -> str:
    if filing_grade(org):
        return ""
    # No regulator accepts our internal identifier scheme: say so on the document instead of passing it off.
    return (
        '<p class="not-for-filing"><strong>NOT FOR FILING.</strong> No LEI has been entered in the reporting '
        "settings, so this document identifies the entity by GreenESG's internal organisation id. Enter the LEI "
        "and generate the report again to produce a package that can be filed.</p>"
    )


def ixbrl_bytes(inputs: dict[str, Any], computed: dict[str, Any], meta: dict[str, Any]) -> bytes:
    facts, currency = computed["facts"], _currency(inputs)
    contexts: dict[str, str] = {}
    units: dict[str, str] = {}
    body: list[str] = []
    for table in computed["tables"]:
        if table["id"] not in TABLES_TAGGED:
            continue
        head = "".join(f"<th>{escape(c['label'])}</th>" for c in table["columns"])
        body.append(
            f'<table id="{table["id"]}"><caption>{escape(table["title"])}</caption>'
            f"<thead><tr><th>Ref</th><th>Row</th>{head}</tr></thead><tbody>"
        )
        for row in table["rows"]:
            cells = []
            for col in table["columns"]:
                cell = row["cells"].get(col["id"], {})
                display_unit = cell.get("unit") or row["unit"]
                data = facts.get(cell.get("fact") or "")
                fact = Fact.from_json(data) if data else None
                if fact and fact.concept and fact.value is not None:
                    cid, (uid, unit_xml) = _context_id(fact), _unit_id(fact, currency)
                    contexts.setdefault(cid, _context_xml(cid, fact, inputs))
                    units.setdefault(uid, f'<xbrli:unit id="{uid}">{unit_xml}</xbrli:unit>')
                    cells.append(f'<td class="num">{_tag(fact, cid, uid, display_unit)}</td>')
                else:
                    cells.append(f'<td class="num">{escape(fmt(cell.get("value"), display_unit))}</td>')
            body.append(f"<tr><td>{escape(row['ref'])}</td><td>{escape(row['label'])}</td>{''.join(cells)}</tr>")
        body.append("</tbody></table>")
    ns = " ".join(f'xmlns{":" + p if p else ""}="{uri}"' for p, uri in NAMESPACES.items())
    org = inputs["organisation"]
    title = f"{org['legal_name']} — ESRS E1 {inputs['period']['label']}"
    header = (
        '<div style="display:none"><ix:header><ix:references>'
        f'<link:schemaRef xlink:type="simple" xlink:href="{ESRS_ENTRY_POINT}"/></ix:references>'
        f"<ix:resources>{''.join(contexts.values())}{''.join(units.values())}</ix:resources></ix:header></div>"
    )
    generated = meta.get("generated_at") or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<html {ns} xml:lang="en"><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>'
        f"<title>{escape(title)}</title>"
        '<style type="text/css">table{border-collapse:collapse;margin:1em 0}'
        "td,th{border:1px solid #ccc;padding:2px 6px}"
        "td.num{text-align:right}</style></head><body>"
        f"{header}<h1>{escape(title)}</h1>{_not_for_filing_notice(org)}"
        f"<p>{escape(inputs['period']['title'])}. Interim management information in ESRS E1 layout; "
        f"not the statutory statement. Status: {escape(str(meta.get('status_label', '')))}; generated "
        f"{escape(str(generated))}.</p>{''.join(body)}"
        "</body></html>"
    )
    return document.encode("utf-8")
