"""`manage.py esg --org ORG --period P --json`."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from esg import services
from esg.models import MetricValue
from esg.periods import period_parse

pytestmark = pytest.mark.django_db


def test_it_prints_every_metric_with_value_unit_status_and_source(org, officer, second_officer) -> None:
    services.metric_values_submit(
        organisation=org,
        actor=officer,
        period=period_parse("2026-Q3"),
        source="form",
        cells={"S1-6.leavers": "3", "S1-6.headcount": "60", "S1-6.headcount_female": "20", "S1-6.headcount_male": "40"},
    )
    services.metric_value_approve(value=MetricValue.objects.get(metric_code="S1-6.leavers"), actor=second_officer)
    out = io.StringIO()
    call_command("esg", "--org", "acme", "--period", "2026-Q3", "--json", stdout=out)
    result = json.loads(out.getvalue())
    rows = {row["code"]: row for row in result["metrics"]}
    assert result["period"] == "2026-Q3" and result["closed"] is False
    assert {k: rows["S1-6.leavers"][k] for k in ("value", "unit", "status", "source")} == {
        "value": 3.0,
        "unit": "employees",
        "status": "approved",
        "source": "form",
    }
    assert rows["S1-6.headcount"]["status"] == "submitted"
    assert (rows["S1-6.turnover_rate"]["value"], rows["S1-6.turnover_rate"]["status"]) == (5.0, "submitted")
    assert rows["S1-8.collective_bargaining_coverage"]["status"] == "missing"
    assert rows["E1-6.scope2_location_t"]["source"] == "ledger"
    assert "S1-8.collective_bargaining_coverage" in result["completeness"]["missing"]
    assert len(result["metrics"]) == len([r for r in result["metrics"] if r["level"] == "organisation"])


def test_it_refuses_unknown_organisations_and_bad_periods(org) -> None:
    with pytest.raises(CommandError, match="No organisation"):
        call_command("esg", "--org", "nope", "--period", "2026")
    with pytest.raises(CommandError, match="2026 or 2026-Q3"):
        call_command("esg", "--org", "acme", "--period", "Q3")


def test_the_text_output_and_project_scorecards(org, project) -> None:
    out = io.StringIO()
    call_command("esg", "--org", "acme", "--period", "2026", stdout=out)
    assert "S1-6.headcount" in out.getvalue()
    out = io.StringIO()
    call_command("esg", "--org", "acme", "--period", "2026", "--json", "--projects", stdout=out)
    assert "SW.measurement_coverage" in {row["code"] for row in json.loads(out.getvalue())["projects"]["ml"]}
