"""The metric catalogue, read from `catalogue.json` (data, not code branches).

Loaded once per process and checked on load, so a typo in the JSON (an unknown formula, an input
that does not exist) fails at start-up in tests rather than as a silently missing metric.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from esg.formulas import FORMULAS

CATALOGUE_PATH = Path(__file__).resolve().parent / "catalogue.json"
PILLARS = {"E": "Environment", "S": "Social", "G": "Governance"}
TYPES = {"count", "percent", "amount", "ratio", "boolean", "days", "hours"}
SOURCES = {"entered", "computed", "ledger", "scorecard"}
LEVELS = {"organisation", "project"}
# How an entered metric's quarters make a year or a year-to-date (see the catalogue's notes).
AGGREGATES = {"sum", "end", "mean"}


class CatalogueError(ValueError):
    pass


@dataclass(frozen=True)
class Metric:
    code: str
    pillar: str
    level: str
    name: str
    unit: str
    type: str
    source: str
    definition: str
    reference: str
    required: bool = False
    rules: dict[str, Any] = field(default_factory=dict)
    formula: str = ""
    inputs: tuple[str, ...] = ()
    ledger: str = ""
    import_kind: str = ""
    aggregate: str = ""

    @property
    def is_entered(self) -> bool:
        return self.source == "entered"

    @property
    def is_computed(self) -> bool:
        return self.source == "computed"


@dataclass(frozen=True)
class Check:
    kind: str
    message: str
    spec: dict[str, Any]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(
            code
            for key in ("parts", "total", "part", "whole", "when", "then")
            for code in ([self.spec[key]] if isinstance(self.spec.get(key), str) else self.spec.get(key, []))
        )


@dataclass(frozen=True)
class Catalogue:
    metrics: dict[str, Metric]
    checks: tuple[Check, ...]

    def entered(self) -> list[Metric]:
        return [m for m in self.metrics.values() if m.is_entered]

    def organisation_metrics(self) -> list[Metric]:
        return [m for m in self.metrics.values() if m.level == "organisation"]

    def by_pillar(self, pillar: str, level: str = "organisation") -> list[Metric]:
        return [m for m in self.metrics.values() if m.pillar == pillar and m.level == level]

    def get(self, code: str) -> Metric | None:
        return self.metrics.get(code)


def _metric(raw: dict[str, Any]) -> Metric:
    return Metric(
        code=raw["code"],
        pillar=raw["pillar"],
        level=raw["level"],
        name=raw["name"],
        unit=raw["unit"],
        type=raw["type"],
        source=raw["source"],
        definition=raw["definition"],
        reference=raw["reference"],
        required=bool(raw.get("required", False)),
        rules=dict(raw.get("rules", {})),
        formula=raw.get("formula", ""),
        inputs=tuple(raw.get("inputs", ())),
        ledger=raw.get("ledger", ""),
        import_kind=raw.get("import", ""),
        aggregate=raw.get("aggregate", ""),
    )


def _check_metric(metric: Metric, codes: set[str]) -> None:
    where = f"catalogue metric {metric.code}"
    if metric.pillar not in PILLARS or metric.level not in LEVELS:
        raise CatalogueError(f"{where}: bad pillar or level")
    if metric.type not in TYPES or metric.source not in SOURCES:
        raise CatalogueError(f"{where}: bad type or source")
    if metric.is_computed and (metric.formula not in FORMULAS or not metric.inputs):
        raise CatalogueError(f"{where}: unknown formula {metric.formula!r} or no inputs")
    if metric.is_entered and metric.level == "organisation" and metric.aggregate not in AGGREGATES:
        raise CatalogueError(f"{where}: an entered metric must say how quarters aggregate ({sorted(AGGREGATES)})")
    if metric.aggregate and not metric.is_entered:
        raise CatalogueError(f"{where}: only entered metrics aggregate; computed and ledger ones are recomputed")
    missing = [code for code in metric.inputs if code not in codes]
    if missing:
        raise CatalogueError(f"{where}: unknown inputs {missing}")


def catalogue_parse(data: dict[str, Any]) -> Catalogue:
    metrics: dict[str, Metric] = {}
    for raw in data["metrics"]:
        metric = _metric(raw)
        if metric.code in metrics:
            raise CatalogueError(f"catalogue metric {metric.code} is listed twice")
        metrics[metric.code] = metric
    for metric in metrics.values():
        _check_metric(metric, set(metrics))
    checks = tuple(Check(kind=raw["kind"], message=raw["message"], spec=raw) for raw in data.get("checks", []))
    for check in checks:
        unknown = [code for code in check.codes if code not in metrics]
        if unknown or check.kind not in {"sum_equals", "not_greater", "positive_if"}:
            raise CatalogueError(f"catalogue check {check.kind}: unknown kind or codes {unknown}")
    return Catalogue(metrics=metrics, checks=checks)


@cache
def catalogue() -> Catalogue:
    return catalogue_parse(json.loads(CATALOGUE_PATH.read_text(encoding="utf-8")))
