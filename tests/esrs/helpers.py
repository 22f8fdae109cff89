"""PDF text extraction and independent ledger sums for the ESRS report tests."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from typing import Any

from django.db.models import Sum

from greenesg.accounts.models import Organisation
from greenesg.footprint.models import LedgerEntry

NUMBER = re.compile(r"(?<![\d.,])-?\d{1,3}(?:,\d{3})*\.\d{3}(?![\d])")


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def row_line(text: str, ref: str) -> str:
    lines = [line for line in text.splitlines() if line.split()[:1] == [ref]]
    assert lines, f"row {ref} not found in the PDF text"
    return lines[0]


def row_numbers(text: str, ref: str) -> list[float]:
    """The 3-decimal figures (tCO2e, MWh) printed on a table row's first line."""
    line = row_line(text, ref)
    return [float(m.replace(",", "")) for m in NUMBER.findall(line)]


def ledger_sum(
    org: Organisation, start: dt.date, end: dt.date, column: str = "kgco2e_location", **filters: Any
) -> float:
    rows = LedgerEntry.objects.filter(organisation=org, in_inventory=True, day__gte=start, day__lte=end, **filters)
    return float(rows.aggregate(v=Sum(column))["v"] or 0.0)


def expected_figures(org: Organisation, start: dt.date, end: dt.date) -> dict[str, float]:
    """E1-5 / E1-6 straight from the ledger (t and MWh), for an organisation without instruments or residual mix."""
    s1 = ledger_sum(org, start, end, scope=1) / 1000
    s2l = ledger_sum(org, start, end, scope=2) / 1000
    s2m = ledger_sum(org, start, end, "kgco2e_market", scope=2) / 1000
    s3 = ledger_sum(org, start, end, scope=3) / 1000
    fuel = LedgerEntry.objects.filter(
        organisation=org,
        in_inventory=True,
        day__gte=start,
        day__lte=end,
        scope=1,
        resource_category__startswith="fuel:",
    ).exclude(resource_category="fuel:renewable")
    fossil_fuel = float(fuel.aggregate(v=Sum("energy_facility_kwh"))["v"] or 0.0)
    electricity = ledger_sum(org, start, end, "energy_facility_kwh", scope=2)
    energy = (fossil_fuel + electricity) / 1000
    return {
        "S1": s1,
        "S2-LB": s2l,
        "S2-MB": s2m,
        "S3": s3,
        "S3-C1": (
            ledger_sum(org, start, end, scope=3, category="1") + ledger_sum(org, start, end, scope=3, category="1.1")
        )
        / 1000,
        "S3-C1.1": ledger_sum(org, start, end, scope=3, category="1.1") / 1000,
        "S3-C2": ledger_sum(org, start, end, scope=3, category="2") / 1000,
        "S3-C6": ledger_sum(org, start, end, scope=3, category="6") / 1000,
        "TOT-LB": s1 + s2l + s3,
        "TOT-MB": s1 + s2m + s3,
        "EN-6": energy,
        "EN-7": 0.0,
        "EN-8": 0.0,
        "EN-9": 0.0,
        "EN-10": 0.0,
        "EN-11": 0.0,
        "EN-T": energy,
    }


def close(a: float, b: float, decimals: int = 3) -> bool:
    return abs(a - b) <= 0.5 * 10**-decimals + 1e-9
