"""The catalogue is data: it loads, covers the quantitative S1/G1 datapoints and the ledger figures, and a
broken entry fails loudly."""

from __future__ import annotations

import pytest

from esg.catalogue import CatalogueError, catalogue, catalogue_parse

REQUIRED_CODES = [
    "S1-6.headcount",
    "S1-6.headcount_female",
    "S1-6.leavers",
    "S1-6.turnover_rate",
    "S1-8.collective_bargaining_coverage",
    "S1-9.top_management_female",
    "S1-13.training_hours_avg",
    "S1-14.recordable_accidents",
    "S1-14.hours_worked",
    "S1-14.accident_rate",
    "S1-16.gender_pay_gap",
    "S1-16.remuneration_ratio",
    "S1-17.discrimination_incidents",
    "G1-3.anti_corruption_training_coverage",
    "G1-4.corruption_convictions",
    "G1-4.corruption_fines_eur",
    "G1-5.political_contributions_eur",
    "G1-6.avg_days_to_pay",
    "E1-6.scope2_location_t",
    "E1-6.scope3_cat1_1_t",
    "E1-5.total_energy_mwh",
]


def test_it_lists_every_required_datapoint_with_unit_type_and_reference() -> None:
    cat = catalogue()
    for code in REQUIRED_CODES:
        metric = cat.metrics[code]
        assert metric.unit and metric.type and metric.reference and metric.definition


def test_computed_metrics_name_their_formula_and_inputs() -> None:
    rate = catalogue().metrics["S1-14.accident_rate"]
    assert rate.is_computed and rate.formula == "accident_rate"
    assert rate.inputs == ("S1-14.recordable_accidents", "S1-14.hours_worked")


def test_a_metric_with_an_unknown_input_is_refused() -> None:
    raw = {
        "metrics": [
            {
                "code": "X.rate",
                "pillar": "S",
                "level": "organisation",
                "name": "x",
                "unit": "%",
                "type": "percent",
                "source": "computed",
                "formula": "share",
                "inputs": ["X.nope"],
                "definition": "d",
                "reference": "r",
            }
        ]
    }
    with pytest.raises(CatalogueError, match="unknown inputs"):
        catalogue_parse(raw)


def test_an_unknown_formula_is_refused() -> None:
    raw = {
        "metrics": [
            {
                "code": "X.rate",
                "pillar": "S",
                "level": "organisation",
                "name": "x",
                "unit": "%",
                "type": "percent",
                "source": "computed",
                "formula": "magic",
                "inputs": ["X.rate"],
                "definition": "d",
                "reference": "r",
            }
        ]
    }
    with pytest.raises(CatalogueError, match="unknown formula"):
        catalogue_parse(raw)
