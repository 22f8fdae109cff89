"""CSV / XLSX / JSON / iXBRL exports: same figures as the PDF, formula-safe, iXBRL consistent."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from xml.etree import ElementTree as ET

import pytest

from greenesg.accounts.models import Project
from reports.esrs import selectors as report_selectors
from reports.esrs import services as report_services
from reports.esrs.exports import ESRS_ENTRY_POINT, ESRS_NS, LEI_SCHEME
from tests.esrs.conftest import LEI

NS = {
    "x": "http://www.w3.org/1999/xhtml",
    "ix": "http://www.xbrl.org/2013/inlineXBRL",
    "xbrli": "http://www.xbrl.org/2003/instance",
    "xbrldi": "http://xbrl.org/2006/xbrldi",
    "link": "http://www.xbrl.org/2003/linkbase",
    "xlink": "http://www.w3.org/1999/xlink",
}
ALLOWED_MEASURES = {"utr:tCO2e", "utr:MWh", "xbrli:pure", "iso4217:EUR"}


def _built(org, period: str = "2026-Q2") -> report_services.Built:
    built = report_services.report_build(
        organisation=org, period=report_selectors.report_period_parse(organisation=org, text=period)
    )
    built.meta = report_services.report_meta(None, built.inputs)
    return built


@pytest.mark.django_db
@pytest.mark.parametrize("period", ["2026-Q2", "2026"])
def test_ixbrl_is_well_formed_with_consistent_contexts_and_units(acme, period: str) -> None:
    built = _built(acme, period)
    root = ET.fromstring(report_services.report_document(built, "ixbrl"))  # noqa: S314 - our own output
    assert root.find("x:body", NS) is not None
    refs = root.findall(".//ix:references/link:schemaRef", NS)
    assert [r.get(f"{{{NS['xlink']}}}href") for r in refs] == [ESRS_ENTRY_POINT]
    contexts = {c.get("id"): c for c in root.findall(".//ix:resources/xbrli:context", NS)}
    units = {u.get("id"): u for u in root.findall(".//ix:resources/xbrli:unit", NS)}
    facts = root.findall(".//ix:nonFraction", NS)
    assert len(facts) > 40
    used_contexts = {f.get("contextRef") for f in facts}
    used_units = {f.get("unitRef") for f in facts}
    assert used_contexts == set(contexts), "every contextRef defined, no unused context"
    assert used_units == set(units), "every unitRef defined, no unused unit"
    for context in contexts.values():
        identifier = context.find("xbrli:entity/xbrli:identifier", NS)
        assert identifier.get("scheme") == LEI_SCHEME and identifier.text == LEI
        assert (
            context.find("xbrli:period/xbrli:startDate", NS).text <= context.find("xbrli:period/xbrli:endDate", NS).text
        )
        for member in context.findall(".//xbrldi:explicitMember", NS):
            assert member.get("dimension").startswith("esrs:") and member.text.startswith("esrs:")
    measures = {m.text for m in root.iter("{http://www.xbrl.org/2003/instance}measure")}
    assert measures <= ALLOWED_MEASURES and {"utr:tCO2e", "utr:MWh"} <= measures
    names = {f.get("name") for f in facts}
    assert "esrs:GrossScope1GreenhouseGasEmissions" in names
    assert "esrs:MarketBasedGreenhouseGasEmissions" in names and "esrs:LocationBasedGreenhouseGasEmissions" in names
    assert "esrs:EnergyConsumptionRelatedToOwnOperations" in names
    assert "esrs:GrossGreenhouseGasEmissions" not in names  # not in the EFRAG E1-6 linkbases (docs/esrs.md §10.3)
    assert root.get("{http://www.w3.org/2000/xmlns/}esrs") is None  # ElementTree drops xmlns attributes …
    assert ESRS_NS.encode() in report_services.report_document(built, "ixbrl")  # … so check the bytes
    # Each tagged value, read back through its scale, equals the JSON fact (to the stated decimals).
    by_key = {}
    for fact in json.loads(report_services.report_document(built, "json"))["facts"]:
        if fact["concept"] and fact["value"] is not None:
            by_key[
                (
                    fact["concept"],
                    fact["context"]["period"]["start"],
                    fact["context"]["period"]["end"],
                    tuple(sorted(fact["context"]["dimensions"].values())),
                )
            ] = fact
    for tag in facts:
        context = contexts[tag.get("contextRef")]
        key = (
            tag.get("name"),
            context.find("xbrli:period/xbrli:startDate", NS).text,
            context.find("xbrli:period/xbrli:endDate", NS).text,
            tuple(sorted(m.text for m in context.findall(".//xbrldi:explicitMember", NS))),
        )
        assert key in by_key, key
        value = float(tag.text.replace(",", "")) * 10 ** int(tag.get("scale")) * (-1 if tag.get("sign") else 1)
        expected = by_key[key]["value"] * (1 if by_key[key]["unit"] != "percent" else 0.01)
        assert value == pytest.approx(expected, abs=10 ** -int(tag.get("decimals"))), key


@pytest.mark.django_db
def test_csv_has_every_table_and_neutralises_formulas(acme, project: Project) -> None:
    project.name = '=HYPERLINK("http://evil.example","x")'
    project.save()
    data = report_services.report_document(_built(acme), "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    tables = {r["table"] for r in rows}
    assert {"e1_5", "e1_6", "intensity", "revenue", "scope3_screening", "cloud_by_project", "source_files"} <= tables
    s1 = [r for r in rows if r["table"] == "e1_6" and r["ref"] == "S1" and r["column"].endswith("(N)")]
    assert float(s1[0]["value"]) == pytest.approx(0.1717)
    assert s1[0]["concept"] == "esrs:GrossScope1GreenhouseGasEmissions"
    labels = [r["row"] for r in rows if r["table"] == "cloud_by_project"]
    assert labels and all(label.startswith("'=") for label in labels)
    assert "\n=HYPERLINK" not in data and ',"=HYPERLINK' not in data


@pytest.mark.django_db
def test_xlsx_writes_every_table_without_formulas(acme, project: Project) -> None:
    pytest.importorskip("xlsxwriter")
    project.name = "=1+2"
    project.save()
    data = report_services.report_document(_built(acme), "xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = b"".join(archive.read(n) for n in sheets)
        shared = archive.read("xl/sharedStrings.xml").decode()
        workbook = archive.read("xl/workbook.xml").decode()
    assert len(sheets) >= 10
    assert b"<f>" not in xml and b"<f " not in xml
    assert "&apos;=1+2" in shared or "'=1+2" in shared
    for name in ("e1_5", "e1_6", "intensity", "revenue", "facts", "cloud_by_project", "source_files"):
        assert f'name="{name}"' in workbook
    assert re.search(r"GrossScope1GreenhouseGasEmissions", shared)


@pytest.mark.django_db
def test_without_an_lei_the_ixbrl_says_it_is_not_for_filing(acme) -> None:
    from reports.models import ReportingSettings

    ReportingSettings.objects.filter(organisation=acme).update(lei="")
    built = _built(acme)

    document = report_services.report_document(built, "ixbrl").decode("utf-8")
    assert "NOT FOR FILING" in document
    assert json.loads(report_services.report_document(built, "json"))["filing_grade"] is False


@pytest.mark.django_db
def test_with_an_lei_the_ixbrl_is_filing_grade(acme) -> None:
    built = _built(acme)

    assert "NOT FOR FILING" not in report_services.report_document(built, "ixbrl").decode("utf-8")
    assert json.loads(report_services.report_document(built, "json"))["filing_grade"] is True


@pytest.mark.django_db
def test_the_report_annex_explains_each_flag_it_counts(acme) -> None:
    from greenesg.footprint.flags import GLOSSARY

    built = _built(acme)
    built.inputs["flags"] = {"region_unmapped": 2, "proxy_vintage": 1}

    html = report_services.report_document(built, "html").decode("utf-8")

    from django.utils.html import escape

    assert escape(GLOSSARY["region_unmapped"].meaning) in html and escape(GLOSSARY["proxy_vintage"].title) in html


@pytest.mark.django_db
def test_the_report_marks_unapproved_s_and_g_values(acme) -> None:
    built = _built(acme)
    built.inputs["esg"] = [
        {
            "code": "S1-6.headcount",
            "name": "Employees",
            "pillar": "S",
            "unit": "employees",
            "value": 10.0,
            "status": "submitted",
        },
        {
            "code": "S1-6.leavers",
            "name": "Leavers",
            "pillar": "S",
            "unit": "employees",
            "value": 1.0,
            "status": "approved",
        },
    ]

    html = report_services.report_document(built, "html").decode("utf-8")

    assert html.count("not approved") == 1
