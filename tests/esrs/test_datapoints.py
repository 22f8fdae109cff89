"""reports/esrs/datapoints.json: the loader rejects bad data, and the report emits exactly its datapoints."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from reports.esrs import exports, facts
from reports.esrs import selectors as report_selectors
from reports.esrs.datapoints import (
    DATAPOINTS,
    DATAPOINTS_PATH,
    UNITS,
    DatapointError,
    datapoints_markdown,
    datapoints_parse,
)

DOCS = Path(__file__).resolve().parents[2] / "docs/esrs.md"
IX = "{http://www.xbrl.org/2013/inlineXBRL}"
META = {"status": "live", "signed": False, "status_label": "Live", "generated_at": "2027-01-01T00:00:00+00:00"}


def _ledger_row(month: str, scope: int, category: str, kg: float, kwh: float = 0.0) -> dict[str, Any]:
    """One row of a report snapshot's ledger aggregates (reports.esrs.selectors.report_inputs)."""
    return {
        "month": month,
        "scope": scope,
        "category": category,
        "country": "FRA",
        "energy_kwh": kwh,
        "kg_location": kg,
        "kg_market": kg,
        "records": 1,
        "method": "measured",
    }


def _raw() -> dict[str, Any]:
    return json.loads(DATAPOINTS_PATH.read_text(encoding="utf-8"))


def _dp(data: dict[str, Any], datapoint_id: str) -> dict[str, Any]:
    return next(d for d in data["datapoints"] if d["id"] == datapoint_id)


# ----------------------------------------------------------------------------------------------- loader


def test_it_loads_the_shipped_file_as_frozen_typed_datapoints() -> None:
    loaded = datapoints_parse(_raw())
    assert loaded.datapoints == DATAPOINTS.datapoints
    scope2 = DATAPOINTS["e1_6.scope2_market"]
    assert (scope2.ref, scope2.unit, scope2.decimals, scope2.scope, scope2.basis) == ("S2-MB", "tCO2e", 3, 2, "market")
    assert scope2.concept == "GrossMarketBasedScope2GreenhouseGasEmissions" and scope2.reference.startswith("E1-6 §49")
    with pytest.raises(dataclasses.FrozenInstanceError):
        scope2.label = "changed"  # type: ignore[misc]


def _set(datapoint_id: str, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        _dp(data, datapoint_id).update(changes)

    return change


def _drop(datapoint_id: str, key: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: _dp(data, datapoint_id).pop(key)


def _duplicate(data: dict[str, Any]) -> None:
    data["datapoints"].append(copy.deepcopy(_dp(data, "e1_6.scope1")))


BAD_DATA: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown key", _set("e1_6.scope1", colour="green"), r"e1_6\.scope1: unknown keys \['colour'\]"),
    ("unknown top-level key", lambda d: d.update(extra=1), r"unknown keys \['extra'\]"),
    ("duplicate id", _duplicate, r"e1_6\.scope1: id is listed twice"),
    ("duplicate ref", _set("e1_6.scope1_ets", ref="S1"), r"ref 'S1' is also used by e1_6\.scope1"),
    ("duplicate table row", _set("e1_6.scope1_ets", row="scope1"), r"row 'scope1' is also e1_6\.scope1"),
    ("bad unit", _set("e1_5.total", unit="GWh"), r"e1_5\.total: unit 'GWh' is not one of"),
    ("missing concept key", _drop("e1_6.scope3", "concept"), r"e1_6\.scope3: missing keys \['concept'\]"),
    ("empty concept", _set("e1_6.scope3", concept=None), r"e1_6\.scope3: concept missing"),
    ("concept with a prefix", _set("e1_6.scope3", concept="esrs:GrossScope3"), r"is not an element name"),
    ("untagged with a concept", _set("other.instrument_share", concept="Foo"), r"untagged datapoint has no concept"),
    ("decimals as text", _set("e1_6.scope1", decimals="3"), r"decimals must be an integer"),
    ("negative decimals", _set("e1_6.scope1", decimals=-1), r"decimals must be an integer"),
    ("boolean decimals", _set("e1_6.scope1", decimals=True), r"decimals must be an integer"),
    ("no reference", _set("e1_6.scope1", reference=""), r"reference must be a non-empty string"),
    ("reference not ESRS", _set("e1_6.scope1", reference="para 44"), r"must read like 'E1-6 §44'"),
    ("bad aggregation", _set("e1_6.scope1", aggregation="mean"), r"aggregation must be one of"),
    ("bad when", _set("e1_5.coal", when="sometimes"), r"when must be one of"),
    ("bad scope", _set("e1_6.scope1", scope=4), r"scope must be one of"),
    ("bad basis", _set("e1_6.scope2_market", basis="residual"), r"basis must be one of"),
    ("undeclared table", _set("e1_6.scope1", table="e1_7"), r"table 'e1_7' is not declared"),
    ("table row without ref", _drop("e1_6.scope1", "ref"), r"a table row needs \['ref'\]"),
    ("bad level", _set("e1_6.scope1", level=5), r"level must be 0, 1 or 2"),
    (
        "bad member",
        _set("e1_6.scope3.cat6", dimensions={"Scope3GHGEmissionsCategoryGHGProtocolAxis": "Cat6"}),
        "member",
    ),
    ("dimensions not an object", _set("e1_6.scope3.cat6", dimensions=["x"]), r"dimensions must be an object"),
    ("sum of an unknown datapoint", _set("e1_5.fossil", sum_of=["e1_5.coal", "e1_5.peat"]), r"'e1_5\.peat'"),
    ("sum of a later datapoint", _set("e1_6.scope3", sum_of=["e1_6.total_location"]), r"not a datapoint listed before"),
    ("sum of another unit", _set("e1_5.total", sum_of=["e1_5.fossil", "e1_5.fossil_share"]), r"is in percent"),
    ("sum of a ratio total", _set("e1_5.fossil_share", sum_of=["e1_5.coal"], unit="MWh"), r"a sum is additive"),
    ("base year on an energy row", _set("e1_5.total", baseline=True), r"only E1-6 rows in tCO2e have a base year"),
    ("base-year total of a row without one", _set("e1_6.scope2_market", baseline=False), r"needs a base year"),
    ("a table without rows", lambda d: d["tables"].append({"id": "e1_9", "title": "x"}), r"without datapoints"),
    ("wrong version", lambda d: d.update(version=2), r"version must be 1"),
]


@pytest.mark.parametrize(("case", "mutate", "message"), BAD_DATA, ids=[case for case, _, _ in BAD_DATA])
def test_it_rejects_bad_datapoints(case: str, mutate: Callable[[dict[str, Any]], None], message: str) -> None:
    data = _raw()
    mutate(data)
    with pytest.raises(DatapointError, match=message):
        datapoints_parse(data)


def test_every_unit_has_an_xbrl_unit() -> None:
    assert set(UNITS) == set(exports.XBRL_UNITS)


# ------------------------------------------------------------------------------------ emitted fact set


def _full_inputs(acme: Any, period: str) -> dict[str, Any]:
    """acme's snapshot where every datapoint applies: a high climate impact sector and uncategorised Scope 3."""
    inputs = report_selectors.report_inputs(
        organisation=acme, period=report_selectors.report_period_parse(organisation=acme, text=period)
    )
    inputs["organisation"]["high_impact"] = True
    months = sorted({row["month"] for row in inputs["ledger"]})
    inputs["ledger"] += [_ledger_row(month, 3, "", 12.5) for month in months]
    return inputs


@pytest.mark.django_db
@pytest.mark.parametrize("period", ["2026-Q2", "2026"])
def test_the_json_facts_are_exactly_the_datapoints(acme: Any, period: str) -> None:
    inputs = _full_inputs(acme, period)
    document = json.loads(exports.json_bytes(inputs, facts.compute(inputs), META))
    windows = set(inputs["windows"])
    by_window: dict[str, set[str]] = {w: set() for w in windows}
    for fact in document["facts"]:
        window = fact["context"]["period"]["window"]
        datapoint = DATAPOINTS[fact["id"].removesuffix("." + window)]  # KeyError: a fact that is no datapoint
        assert fact["label"] == datapoint.label or window not in windows
        assert fact["concept"] == (f"esrs:{datapoint.concept}" if datapoint.concept else None)
        assert fact["decimals"] == datapoint.decimals
        assert fact["unit"] == datapoint.unit.replace("currency", "EUR")
        if window in windows:
            by_window[window].add(datapoint.id)
    every = {dp.id for dp in DATAPOINTS}
    assert by_window == {w: every for w in windows}, "each window emits every datapoint once"


@pytest.mark.django_db
def test_the_ixbrl_tags_exactly_the_tagged_table_datapoints(acme: Any) -> None:
    inputs = _full_inputs(acme, "2026")
    computed = facts.compute(inputs)
    root = ET.fromstring(exports.ixbrl_bytes(inputs, computed, META))  # noqa: S314 - our own output
    tagged = {(f.get("name"), f.get("contextRef")) for f in root.iter(f"{IX}nonFraction")}
    expected = {f"esrs:{dp.concept}" for dp in DATAPOINTS if dp.table and dp.concept}
    assert {name for name, _ in tagged} == expected
    # Row by row, each table prints its datapoints in datapoints.json order, with their refs.
    for table in computed["tables"]:
        assert [row["ref"] for row in table["rows"]] == [dp.ref for dp in DATAPOINTS.rows(table["id"])]


@pytest.mark.django_db
def test_additive_datapoints_of_four_quarters_add_up_to_the_year(acme: Any) -> None:
    year = facts.compute(_full_inputs(acme, "2026"))["facts"]
    quarters = [facts.compute(_full_inputs(acme, f"2026-Q{q}"))["facts"] for q in range(1, 5)]
    for dp in DATAPOINTS:
        if dp.aggregation != "additive":
            continue
        values, total = [q[dp.fact_id("N")]["value"] for q in quarters], year[dp.fact_id("N")]["value"]
        if total is None:  # a Scope 3 category excluded by the screening, without data: "excl." in every window
            assert values == [None] * 4, dp.id
        else:
            assert sum(values) == pytest.approx(total, rel=1e-12, abs=1e-9), dp.id


def test_a_report_with_other_scope3_in_n_only_has_an_empty_change() -> None:
    # Regression: the E1-6 change column read the N-1 fact of every row printed for N; "other Scope 3" exists only in
    # windows where it is not zero, so a report with it in N and not in N-1 raised KeyError.
    inputs = {
        "organisation": {"high_impact": False, "currency": "EUR"},
        "windows": {
            "N": {"start": "2026-01-01", "end": "2026-03-31", "title": "N", "quarters": [[2026, 1]]},
            "N-1": {"start": "2025-01-01", "end": "2025-03-31", "title": "N-1", "quarters": [[2025, 1]]},
        },
        "ledger": [_ledger_row("2026-01-01", 2, "", 50.0, 1000.0), _ledger_row("2026-01-01", 3, "", 500.0)],
    }
    computed = facts.compute(inputs)
    rows = {row["ref"]: row for row in next(t for t in computed["tables"] if t["id"] == "e1_6")["rows"]}
    assert rows["S3-OTH"]["cells"]["N"]["value"] == pytest.approx(0.5)
    assert rows["S3-OTH"]["cells"]["N-1"] == {"value": None, "fact": None}
    assert rows["S3-OTH"]["cells"]["change"]["value"] is None


# ------------------------------------------------------------------------------------- base year


def test_base_year_totals_need_every_part() -> None:
    values = facts.base_year_values({"scope1": 1.0, "scope2_location": 20.0, "scope2_market": None, "scope3": 5.0})
    assert values["total_location"] == 26.0  # 1 + 20 + 5
    assert values["total_market"] is None  # market-based Scope 2 not entered


# ------------------------------------------------------------------------------------------ docs


def test_docs_list_every_datapoint_as_generated() -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"<!-- datapoints:start -->\n(.*?)<!-- datapoints:end -->", text, re.S)
    assert block, "docs/esrs.md has no generated datapoint table"
    assert block.group(1) == datapoints_markdown(), "regenerate: python -m reports.esrs.datapoints"
    for dp in DATAPOINTS:
        assert f"`{dp.id}`" in block.group(1)
