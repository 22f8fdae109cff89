"""Proof of reduction: the same measure before and after a change, with its uncertainty."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

Z_95 = 1.96  # normal approximation of the 95 % interval; with fewer than ~30 units a side it is optimistic


@dataclass(frozen=True)
class Realised:
    unit: str  # "run" or "day"
    n_before: int
    n_after: int
    mean_before: float
    mean_after: float
    reduction: float  # per unit: before − after (positive = less after)
    ci_low: float
    ci_high: float

    @property
    def reduction_percent(self) -> float | None:
        return 100 * self.reduction / self.mean_before if self.mean_before else None

    @property
    def significant(self) -> bool:
        """The 95 % interval excludes zero."""
        return self.ci_low > 0 or self.ci_high < 0


def realised_reduction(before: list[float], after: list[float], *, unit: str) -> Realised | None:
    """Welch's difference of means with a 95 % interval; None without two values on each side."""
    if len(before) < 2 or len(after) < 2:
        return None
    mean_before, mean_after = statistics.fmean(before), statistics.fmean(after)
    error = math.sqrt(statistics.variance(before) / len(before) + statistics.variance(after) / len(after))
    reduction = mean_before - mean_after
    return Realised(
        unit=unit,
        n_before=len(before),
        n_after=len(after),
        mean_before=mean_before,
        mean_after=mean_after,
        reduction=reduction,
        ci_low=reduction - Z_95 * error,
        ci_high=reduction + Z_95 * error,
    )
