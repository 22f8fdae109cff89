"""One period, one figure: `manage.py footprint --json`, the organisation summary API, the overview page's
KPI cards and the ESRS report (its facts and the printed PDF) give the same location- and market-based totals.

The data is the demo organisation, loaded through the real import pipeline, with the contractual instruments
and residual-mix factors the demo loader enters, so market-based Scope 2 differs from the ledger's own figure.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client

from greenesg.accounts.models import Organisation
from greenesg.footprint.models import LedgerEntry
from reports.esrs import facts
from reports.esrs.selectors import report_inputs, report_period_parse
from reports.models import ContractualInstrument, ResidualMixFactor
from tests.demo_db import demo_loaded_once
from tests.esrs.helpers import pdf_text, row_numbers

pytestmark = pytest.mark.django_db

# The demo covers the twelve months before the first of `today`'s month: January to December 2026.
TODAY = dt.date(2027, 1, 10)
PERIODS = [
    ("2026-Q2", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
    ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
]
KPI = re.compile(r'<data id="kpi-(kgco2e_location|kgco2e_market)" value="([^"]*)"')


@pytest.fixture(scope="module")
def demo(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Organisation]:
    # One load for the module (tests/demo_db.py); each test starts with an empty cache (tests/conftest.py).
    with demo_loaded_once(django_db_blocker, tmp_path_factory.mktemp("media"), TODAY) as organisation:
        yield organisation


def _cli(start: dt.date, end: dt.date) -> dict[str, Any]:
    out = StringIO()
    call_command(
        "footprint", "--org", "demo", "--start", start.isoformat(), "--end", end.isoformat(), "--json", stdout=out
    )
    return json.loads(out.getvalue())


def _officer() -> Client:
    client = Client()
    client.force_login(User.objects.get(username="officer"))
    return client


def _kpis(client: Client, start: dt.date, end: dt.date) -> dict[str, float]:
    response = client.get(f"/o/demo/?start={start.isoformat()}&end={end.isoformat()}")
    assert response.status_code == 200
    return {name: float(value) for name, value in KPI.findall(response.content.decode())}


def _report(organisation: Organisation, label: str) -> dict[str, Any]:
    period = report_period_parse(organisation=organisation, text=label)
    return facts.compute(report_inputs(organisation=organisation, period=period))["figures"]["N"]


def test_demo_has_instruments_that_change_market_based_scope2(demo: Organisation) -> None:
    assert ContractualInstrument.objects.filter(organisation=demo).exists()
    assert ResidualMixFactor.objects.filter(organisation=demo).exists()
    year = _report(demo, "2026")
    ledger_market = LedgerEntry.objects.filter(organisation=demo, in_inventory=True, scope=2, day__year=2026).aggregate(
        kg=Sum("kgco2e_market")
    )["kg"]
    # The instruments (0 g/kWh) and residual mix move market-based Scope 2 away from the ledger's grid average.
    assert year["scope2_market"] * 1000 < ledger_market * 0.9
    # Sweden fully covered by its PPA, Germany partly (residual mix for the rest), France grid average.
    assert set(year["market_basis_mwh"]) == {"instrument", "residual_mix", "grid_average_fallback"}


@pytest.mark.parametrize(("label", "start", "end"), PERIODS)
def test_cli_api_overview_and_report_agree(demo: Organisation, label: str, start: dt.date, end: dt.date) -> None:
    cli = _cli(start, end)
    client = _officer()
    api = client.get(f"/api/v1/orgs/demo/summary?start={start.isoformat()}&end={end.isoformat()}")
    assert api.status_code == 200
    assert api.json() == cli

    kpis = _kpis(client, start, end)
    assert kpis["kgco2e_location"] == pytest.approx(cli["kgco2e_location"], rel=1e-9)
    assert kpis["kgco2e_market"] == pytest.approx(cli["kgco2e_market"], rel=1e-9)

    report = _report(demo, label)
    assert report["total_location"] * 1000 == pytest.approx(cli["kgco2e_location"], rel=1e-9)
    assert report["total_market"] * 1000 == pytest.approx(cli["kgco2e_market"], rel=1e-9)
    assert report["scope2_market"] * 1000 == pytest.approx(cli["by_scope"]["scope2"]["kgco2e_market"], rel=1e-9)
    assert report["scope2_location"] * 1000 == pytest.approx(cli["by_scope"]["scope2"]["kgco2e_location"], rel=1e-9)
    assert report["total_market"] < report["total_location"]  # the instruments show in every figure


@pytest.mark.parametrize(("label", "start", "end"), PERIODS)
def test_the_pdf_prints_the_same_rounded_totals(
    demo: Organisation, tmp_path: Path, label: str, start: dt.date, end: dt.date
) -> None:
    cli = _cli(start, end)
    out = tmp_path / "report.pdf"
    call_command("report", org="demo", period=label, format="pdf", out=str(out))
    text = pdf_text(out.read_bytes())
    for ref, kg in (
        ("TOT-LB", cli["kgco2e_location"]),
        ("TOT-MB", cli["kgco2e_market"]),
        ("S2-MB", cli["by_scope"]["scope2"]["kgco2e_market"]),
    ):
        assert round(kg / 1000, 3) in row_numbers(text, ref), (ref, kg)
