"""Experiment comparison against a baseline: pure, no Django, no ORM.

The first experiment chosen is the baseline; every other column shows its difference from it, absolute (in the
figure's unit) and relative. A relative change from a zero or missing baseline is undefined and stays None
rather than an infinite or made-up percentage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    key: str  # the row key of `reports.dashboards.engineer.experiment_compare`
    label: str
    unit: str  # "runs", "kWh", "kgCO2e" or "s" (durations are shown with the `duration` filter)


FIGURES: tuple[Figure, ...] = (
    Figure("runs", "Runs", "runs"),
    Figure("energy_kwh_facility", "Energy facility, total", "kWh"),
    Figure("kgco2e_location", "Emissions location-based, total", "kgCO2e"),
    Figure("kgco2e_market", "Emissions market-based, total", "kgCO2e"),
    Figure("mean_kwh", "Energy facility per run", "kWh"),
    Figure("mean_kg", "Emissions location-based per run", "kgCO2e"),
    Figure("mean_duration_s", "Duration per run", "s"),
)


@dataclass(frozen=True)
class Cell:
    value: float | None
    delta: float | None  # value − baseline, None in the baseline column or when either is missing
    delta_pct: float | None  # 100 × delta / baseline, None when the baseline is zero or missing
    is_baseline: bool


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def difference(value: Any, baseline: Any) -> tuple[float | None, float | None]:
    """(value − baseline, percentage of the baseline); None where it is not defined."""
    current, base = _number(value), _number(baseline)
    if current is None or base is None:
        return None, None
    delta = current - base
    return delta, (100.0 * delta / base if base != 0 else None)


def compare_table(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per figure: its label, unit and a Cell per experiment, the first experiment as baseline."""
    if not rows:
        return []
    baseline = rows[0]
    table = []
    for figure in FIGURES:
        cells = []
        for index, row in enumerate(rows):
            value = _number(row.get(figure.key))
            if index == 0:
                cells.append(Cell(value, None, None, True))
                continue
            delta, pct = difference(value, baseline.get(figure.key))
            cells.append(Cell(value, delta, pct, False))
        table.append({"key": figure.key, "label": figure.label, "unit": figure.unit, "cells": cells})
    return table
