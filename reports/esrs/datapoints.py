"""The ESRS E1 datapoints of the report, read from `datapoints.json` (data, not code branches).

Every fact the report emits is one datapoint (its id + "." + window), and every row of the E1-5, E1-6, intensity
and revenue tables is one datapoint: label, XBRL concept, unit, decimals, ESRS reference, dimensions and how the
value aggregates. `facts.compute`, `facts.build_tables` and the exporters iterate these instead of lists in code.

The file is parsed and checked on the first import of this module (which `reports.esrs.facts` does, so at
start-up of the web and worker processes): an unknown key, a duplicate id or ref, a unit we cannot express in
XBRL, a missing concept or a total adding a datapoint that does not exist fails loudly there, not as a silently
missing or mislabelled figure in a signed report. Pure: no Django.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATAPOINTS_PATH = Path(__file__).resolve().parent / "datapoints.json"

# Units a datapoint may carry; "currency" is the organisation's reporting currency (ISO 4217), so the fact's unit
# becomes e.g. "EUR" or "tCO2e/EUR". Each has an XBRL measure in reports/esrs/exports.py (docs/esrs.md §10.5).
UNITS = ("tCO2e", "MWh", "percent", "currency", "tCO2e/currency", "MWh/currency")
# How a figure behaves over time: additive figures of four quarters add up to the year (docs/esrs.md §1);
# ratios (shares, intensities) are recomputed for each window and never added.
AGGREGATIONS = ("additive", "ratio")
# When a window's fact exists at all (docs/esrs.md §4, §5): rows 1–5 of E1-5 for high climate impact sectors
# only, "other Scope 3" only when not zero, revenue facts only when every quarter of the window has revenue.
WHEN = ("always", "high_impact", "nonzero", "revenue", "high_impact_revenue")
BASES = ("location", "market")
SCOPES = (1, 2, 3)
MAX_DECIMALS = 12
# ESRS element and member names are UpperCamelCase local names (the "esrs:" prefix is added on output).
_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_REFERENCE = re.compile(r"^E1-\d+ ")

TOP_KEYS = {"version", "notes", "tables", "datapoints"}
TABLE_KEYS = {"id", "title"}
REQUIRED_KEYS = {"id", "label", "concept", "unit", "decimals", "reference", "aggregation", "source", "definition"}
TABLE_ROW_KEYS = {"table", "row", "ref", "level"}
OPTIONAL_KEYS = {
    "untagged",
    "total",
    "scope",
    "basis",
    "category",
    "dimensions",
    "sum_of",
    "baseline",
    "when",
    "blank_unless",
}
KNOWN_KEYS = REQUIRED_KEYS | TABLE_ROW_KEYS | OPTIONAL_KEYS


class DatapointError(ValueError):
    pass


@dataclass(frozen=True)
class Table:
    id: str
    title: str

    def title_for(self, currency: str) -> str:
        return self.title.replace("{currency}", currency)


@dataclass(frozen=True)
class Datapoint:
    """One reported figure. `id` + "." + window is its fact id (e.g. "e1_6.scope2_market.N")."""

    id: str
    label: str
    concept: str  # "" only for an untagged figure (then `untagged` says why)
    unit: str
    decimals: int
    reference: str
    aggregation: str
    source: str
    definition: str
    table: str = ""
    row: str = ""
    ref: str = ""
    level: int = 0
    total: bool = False
    untagged: str = ""
    scope: int | None = None
    basis: str = ""
    category: str = ""
    dimensions: dict[str, str] = field(default_factory=dict)
    sum_of: tuple[str, ...] = ()
    baseline: bool = False
    when: str = "always"
    blank_unless: str = ""

    def fact_id(self, window: str) -> str:
        return f"{self.id}.{window}"

    def fact_unit(self, currency: str) -> str:
        """The unit as the facts carry it: the reporting currency in place of "currency"."""
        return self.unit.replace("currency", currency)

    @property
    def display_unit(self) -> str:
        """How a table cell is formatted (reports.esrs.render.fmt): intensities per million, currency whole."""
        if self.unit.startswith("tCO2e/"):
            return "intensity"
        return self.unit


@dataclass(frozen=True)
class Datapoints:
    tables: tuple[Table, ...]
    datapoints: tuple[Datapoint, ...]
    by_id: dict[str, Datapoint] = field(repr=False)

    def __iter__(self) -> Iterator[Datapoint]:
        return iter(self.datapoints)

    def __getitem__(self, datapoint_id: str) -> Datapoint:
        return self.by_id[datapoint_id]

    def table(self, table_id: str) -> Table:
        return next(t for t in self.tables if t.id == table_id)

    def rows(self, table_id: str) -> tuple[Datapoint, ...]:
        """The datapoints of one table, in table order."""
        return tuple(d for d in self.datapoints if d.table == table_id)

    def baseline(self) -> tuple[Datapoint, ...]:
        """The E1-6 rows with base-year and target columns (AR 48), in table order."""
        return tuple(d for d in self.datapoints if d.baseline)

    def scope3_categories(self) -> tuple[Datapoint, ...]:
        return tuple(d for d in self.datapoints if d.category)


# ------------------------------------------------------------------------------------------------ parsing


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise DatapointError(f"{where}: {message}")


def _datapoint(raw: Any, index: int) -> Datapoint:
    where = f"datapoints.json datapoint #{index + 1}"
    _require(isinstance(raw, dict), where, "must be an object")
    where = f"datapoints.json datapoint {raw.get('id') or f'#{index + 1}'}"
    unknown = sorted(set(raw) - KNOWN_KEYS)
    _require(not unknown, where, f"unknown keys {unknown}")
    missing = sorted(REQUIRED_KEYS - set(raw))
    _require(not missing, where, f"missing keys {missing}")
    if raw.get("table"):
        missing = sorted(TABLE_ROW_KEYS - set(raw))
        _require(not missing, where, f"a table row needs {missing}")
    for key in ("id", "label", "reference", "source", "definition"):
        _require(isinstance(raw[key], str) and bool(raw[key].strip()), where, f"{key} must be a non-empty string")
    _require(isinstance(raw.get("dimensions", {}), dict), where, "dimensions must be an object (axis: member)")
    _require(isinstance(raw.get("sum_of", []), list), where, "sum_of must be a list of datapoint ids")
    return Datapoint(
        id=raw["id"],
        label=raw["label"],
        concept=raw["concept"] or "",
        unit=raw["unit"],
        decimals=raw["decimals"],
        reference=raw["reference"],
        aggregation=raw["aggregation"],
        source=raw["source"],
        definition=raw["definition"],
        table=raw.get("table") or "",
        row=raw.get("row", ""),
        ref=raw.get("ref", ""),
        level=raw.get("level", 0),
        total=raw.get("total", False),
        untagged=raw.get("untagged", ""),
        scope=raw.get("scope"),
        basis=raw.get("basis", ""),
        category=raw.get("category", ""),
        dimensions=dict(raw.get("dimensions", {})),
        sum_of=tuple(raw.get("sum_of", ())),
        baseline=raw.get("baseline", False),
        when=raw.get("when", "always"),
        blank_unless=raw.get("blank_unless", ""),
    )


def _check_values(dp: Datapoint, tables: set[str]) -> None:
    where = f"datapoints.json datapoint {dp.id}"
    _require(dp.unit in UNITS, where, f"unit {dp.unit!r} is not one of {list(UNITS)}")
    _require(
        isinstance(dp.decimals, int) and not isinstance(dp.decimals, bool) and 0 <= dp.decimals <= MAX_DECIMALS,
        where,
        f"decimals must be an integer from 0 to {MAX_DECIMALS}",
    )
    if dp.untagged:
        _require(not dp.concept, where, "an untagged datapoint has no concept")
    else:
        _require(bool(dp.concept), where, "concept missing (give the ESRS element, or say why it is untagged)")
        _require(bool(_NAME.match(dp.concept)), where, f"concept {dp.concept!r} is not an element name")
    _require(bool(_REFERENCE.match(dp.reference)), where, f"reference {dp.reference!r} must read like 'E1-6 §44'")
    _require(dp.aggregation in AGGREGATIONS, where, f"aggregation must be one of {list(AGGREGATIONS)}")
    _require(dp.when in WHEN, where, f"when must be one of {list(WHEN)}")
    _require(dp.scope is None or dp.scope in SCOPES, where, f"scope must be one of {list(SCOPES)}")
    _require(not dp.basis or dp.basis in BASES, where, f"basis must be one of {list(BASES)}")
    for flag in ("total", "baseline"):
        _require(isinstance(getattr(dp, flag), bool), where, f"{flag} must be true or false")
    for axis, member in dp.dimensions.items():
        _require(
            bool(_NAME.match(axis)) and axis.endswith("Axis") and isinstance(member, str),
            where,
            f"dimension {axis!r} is not an axis name",
        )
        _require(bool(_NAME.match(member)) and member.endswith("Member"), where, f"{member!r} is not a member name")
    if dp.table:
        _require(dp.table in tables, where, f"table {dp.table!r} is not declared in tables")
        _require(bool(dp.row) and bool(dp.ref), where, "a table row needs a row id and a ref")
        _require(isinstance(dp.level, int) and 0 <= dp.level <= 2, where, "level must be 0, 1 or 2")
    if dp.baseline:
        _require(dp.table == "e1_6" and dp.unit == "tCO2e", where, "only E1-6 rows in tCO2e have a base year")


def _check_sums(dp: Datapoint, seen: dict[str, Datapoint]) -> None:
    """A total adds datapoints listed before it, of its unit: the order of the sum is the order of the list,
    which keeps every figure bit-for-bit equal to the figures the report printed before (float addition is not
    associative)."""
    where = f"datapoints.json datapoint {dp.id}"
    for part_id in dp.sum_of:
        part = seen.get(part_id)
        if part is None:
            raise DatapointError(f"{where}: sum_of names {part_id!r}, which is not a datapoint listed before it")
        _require(part.unit == dp.unit, where, f"sum_of part {part_id} is in {part.unit}, not {dp.unit}")
        _require(not dp.baseline or part.baseline, where, f"a base-year total needs a base year for {part_id}")
    if dp.sum_of:
        _require(dp.aggregation == "additive", where, "a sum is additive")


def datapoints_parse(data: Any) -> Datapoints:
    """Check and type the content of datapoints.json; raises DatapointError naming the entry and the problem."""
    _require(isinstance(data, dict), "datapoints.json", "must be an object")
    unknown = sorted(set(data) - TOP_KEYS)
    _require(not unknown, "datapoints.json", f"unknown keys {unknown}")
    _require(data.get("version") == 1, "datapoints.json", "version must be 1")
    tables: list[Table] = []
    for raw in data.get("tables", []):
        _require(isinstance(raw, dict) and set(raw) == TABLE_KEYS, "datapoints.json tables", f"need {TABLE_KEYS}")
        _require(raw["id"] not in {t.id for t in tables}, "datapoints.json tables", f"{raw['id']} listed twice")
        tables.append(Table(id=raw["id"], title=raw["title"]))
    seen: dict[str, Datapoint] = {}
    rows: dict[tuple[str, str], str] = {}
    refs: dict[str, str] = {}
    for index, raw in enumerate(data.get("datapoints", [])):
        dp = _datapoint(raw, index)
        _require(dp.id not in seen, f"datapoints.json datapoint {dp.id}", "id is listed twice")
        _check_values(dp, {t.id for t in tables})
        _check_sums(dp, seen)
        if dp.table:
            where = f"datapoints.json datapoint {dp.id}"
            _require((dp.table, dp.row) not in rows, where, f"row {dp.row!r} is also {rows.get((dp.table, dp.row))}")
            _require(dp.ref not in refs, where, f"ref {dp.ref!r} is also used by {refs.get(dp.ref)}")
            rows[(dp.table, dp.row)] = refs[dp.ref] = dp.id
        seen[dp.id] = dp
    _require(bool(seen), "datapoints.json", "no datapoints")
    empty = [t.id for t in tables if not any(d.table == t.id for d in seen.values())]
    _require(not empty, "datapoints.json tables", f"tables without datapoints {empty}")
    return Datapoints(tables=tuple(tables), datapoints=tuple(seen.values()), by_id=seen)


# ---------------------------------------------------------------------------------------------- docs

_SHOWN = {
    "always": "always",
    "high_impact": "high-impact only",
    "nonzero": "when not zero",
    "revenue": "with revenue",
    "high_impact_revenue": "high-impact only, with revenue",
}


def datapoints_markdown(loaded: Datapoints | None = None) -> str:
    """The datapoint table of docs/esrs.md, generated from datapoints.json (a test keeps the two equal)."""
    lines = [
        "| datapoint | ref | figure | computed as | unit | decimals | XBRL concept [member] | ESRS | shown |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for dp in loaded or datapoints():
        concept = f"`{dp.concept}`" if dp.concept else f"none: {dp.untagged}"
        members = ", ".join(f"`{m}`" for m in dp.dimensions.values())
        cells = [
            f"`{dp.id}`",
            dp.ref or "–",
            dp.label,
            dp.definition,
            dp.unit,
            str(dp.decimals),
            concept + (f" [{members}]" if members else ""),
            dp.reference,
            _SHOWN[dp.when],
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


@cache
def datapoints() -> Datapoints:
    return datapoints_parse(json.loads(DATAPOINTS_PATH.read_text(encoding="utf-8")))


# Checked on first import (see the module docstring): a broken datapoints.json stops the process at start-up.
DATAPOINTS = datapoints()


if __name__ == "__main__":  # python -m reports.esrs.datapoints: the table for docs/esrs.md
    print(datapoints_markdown(), end="")
