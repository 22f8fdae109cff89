"""The PDF's E1-5 and E1-6 figures equal the ledger aggregates; four quarters add up to the year."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from reports.esrs import selectors as report_selectors
from reports.esrs import services as report_services
from tests.esrs.helpers import close, expected_figures, pdf_text, row_line, row_numbers

E16_REFS = ("S1", "S2-LB", "S2-MB", "S3", "S3-C1", "S3-C1.1", "S3-C2", "S3-C6", "TOT-LB", "TOT-MB")
E15_REFS = ("EN-6", "EN-7", "EN-8", "EN-9", "EN-10", "EN-11", "EN-T")
BASE = {"S1": 1.0, "S2-LB": 20.0, "S2-MB": 25.0, "S3": 5.0, "TOT-LB": 26.0, "TOT-MB": 31.0}


def _document(org, period: str, fmt: str) -> bytes:
    built = report_services.report_build(
        organisation=org, period=report_selectors.report_period_parse(organisation=org, text=period)
    )
    built.meta = report_services.report_meta(None, built.inputs)
    return report_services.report_document(built, fmt)


def _contains_run(values: list[float], run: list[float]) -> bool:
    return any(all(close(values[i + k], run[k]) for k in range(len(run))) for i in range(len(values) - len(run) + 1))


@pytest.mark.django_db
def test_quarter_pdf_tables_equal_the_ledger(acme) -> None:
    text = pdf_text(_document(acme, "2026-Q2", "pdf"))
    n = expected_figures(acme, dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    prev = expected_figures(acme, dt.date(2025, 4, 1), dt.date(2025, 6, 30))
    ytd = expected_figures(acme, dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert n["S1"] > 0 and n["S3-C6"] > 0 and n["S3-C1.1"] > 0  # the fixture exercises every kind of row
    for ref in E16_REFS:
        numbers = row_numbers(text, ref)
        run = ([BASE[ref]] if ref in BASE else []) + [prev[ref], n[ref], ytd[ref]]
        assert _contains_run(numbers, run), (ref, numbers, run)
    for ref in E15_REFS:
        numbers = row_numbers(text, ref)
        assert _contains_run(numbers, [prev[ref], n[ref], ytd[ref]]), (ref, numbers)
    # Rows 1–5 are omitted for a software company; excluded categories say so.
    assert "EN-1" not in text.split()
    assert "excl." in row_line(text, "S3-C7")
    # The codecarbon task rows outside the inventory never count.
    assert "99,999" not in text and "99.999" not in text


@pytest.mark.django_db
def test_annual_pdf_tables_equal_the_ledger(acme) -> None:
    text = pdf_text(_document(acme, "2026", "pdf"))
    n = expected_figures(acme, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    prev = expected_figures(acme, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    for ref in (*E16_REFS, *E15_REFS):
        run = ([BASE[ref]] if ref in BASE else []) + [prev[ref], n[ref]]
        assert _contains_run(row_numbers(text, ref), run), ref
    assert "Fiscal year 2026" in text
    assert "Interim management information in ESRS E1 layout" in text


@pytest.mark.django_db
def test_four_quarters_add_up_to_the_year(acme) -> None:
    year = {f["id"]: f for f in json.loads(_document(acme, "2026", "json"))["facts"]}
    sums: dict[str, float] = {}
    for q in range(1, 5):
        for fact in json.loads(_document(acme, f"2026-Q{q}", "json"))["facts"]:
            if fact["context"]["period"]["window"] == "N" and fact["unit"] in ("tCO2e", "MWh", "EUR"):
                sums[fact["id"]] = sums.get(fact["id"], 0.0) + (fact["value"] or 0.0)
    assert len(sums) > 25
    for fid, total in sums.items():
        assert (year[fid]["value"] or 0.0) == pytest.approx(total, rel=1e-12, abs=1e-12), fid
    # And the Q4 year-to-date column equals the annual figure.
    q4 = {f["id"]: f for f in json.loads(_document(acme, "2026-Q4", "json"))["facts"]}
    assert q4["e1_6.total_market.YTD"]["value"] == pytest.approx(year["e1_6.total_market.N"]["value"])
    assert q4["e1_5.total.YTD"]["value"] == pytest.approx(year["e1_5.total.N"]["value"])


@pytest.mark.django_db
def test_pdf_has_page_numbers_contents_and_status(acme) -> None:
    text = pdf_text(_document(acme, "2026-Q2", "pdf"))
    assert "Page 1 of" in text and "Contents" in text
    assert "Data-quality and lineage annex" in text
    assert "never added to the Scope totals" in text
    # The evidence files of the other activities are listed with their SHA-256.
    assert "gas invoice.pdf" in text and "agency.csv" in text
