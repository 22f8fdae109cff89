"""Green model choice: quality against kgCO2e, the Pareto front and dominated runs. Pure, no ORM.

A run is dominated when another run emits no more and scores no worse, and is strictly better on one of the
two. Dominated runs are never the right pick: a team chooses the smallest sufficient model on the front.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# codecarbon's project_name (or experiment) naming convention: "model=<name>;<metric>=<value>[;…]".
_PAIR = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*=\s*(.*?)\s*$")


@dataclass(frozen=True)
class Point:
    key: str  # the run id
    kg: float
    quality: float


@dataclass(frozen=True)
class RankedPoint:
    point: Point
    on_front: bool
    dominated_by: str | None  # the key of one run that dominates it


def pareto_front(points: list[Point], higher_is_better: bool = True) -> list[RankedPoint]:
    """Flag each point as on the front or dominated, in the input order.

    One sweep after sorting by kg (ascending) then quality (best first): O(n log n), so an experiment with
    thousands of runs is cheap. Exact duplicates do not dominate each other (neither is strictly better).
    Points with a non-finite kg or quality cannot be compared and are left out by the caller.
    """
    sign = 1.0 if higher_is_better else -1.0
    order = sorted(points, key=lambda p: (p.kg, -sign * p.quality))
    best: Point | None = None
    verdicts: dict[int, RankedPoint] = {}
    for point in order:
        if best is None or sign * point.quality > sign * best.quality:
            verdicts[id(point)] = RankedPoint(point, True, None)
            best = point
            continue
        same = sign * point.quality == sign * best.quality and point.kg == best.kg
        verdicts[id(point)] = RankedPoint(point, same, None if same else best.key)
    return [verdicts[id(point)] for point in points]


@dataclass(frozen=True)
class ModelTag:
    model: str
    metric_name: str
    metric_value: float


def parse_model_tag(text: str) -> ModelTag | None:
    """Read "model=<name>;<metric>=<value>" from a codecarbon project name; None when it does not follow it.

    The first pair must be `model`; the first other pair with a finite number is the metric. Anything else in
    the name (more pairs, free text) is ignored so teams can keep their own tags.
    """
    if not text or "model=" not in text:
        return None
    pairs = [m.groups() for part in text.split(";") if (m := _PAIR.match(part))]
    if not pairs or pairs[0][0].lower() != "model" or not pairs[0][1]:
        return None
    for name, raw in pairs[1:]:
        try:
            value = float(raw)
        except ValueError:
            continue
        if math.isfinite(value):
            return ModelTag(pairs[0][1][:200], name[:100], value)
    return None
