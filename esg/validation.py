"""Validation of entered ESG values: per-cell messages, then consistency across cells. Pure, no ORM.

A form post, one CSV/XLSX row and an API body all go through `values_validate`, so the same input
gets the same message wherever it is typed. Consistency checks (catalogue "checks") run on the new
values merged over what the period already holds, so entering the female head count alone is still
checked against the stored total.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from esg.catalogue import Catalogue, Check, Metric, catalogue
from esg.formulas import FORMULAS

# A reported rate is accepted if it matches the recomputation within 0.05 points or 0.5 %:
# HR exports round rates to one decimal, and a rounding difference is not an inconsistency.
ABS_TOLERANCE = 0.05
REL_TOLERANCE = 0.005
# MetricValue stores 6 decimals in 24 digits: quantise on input so a re-import compares equal.
STORED_DECIMALS = Decimal("0.000001")
MAX_ABS = Decimal("1e17")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_BOOLEANS = {"yes": 1, "true": 1, "1": 1, "y": 1, "no": 0, "false": 0, "0": 0, "n": 0}


@dataclass(frozen=True)
class CellError:
    code: str
    message: str
    row: int | None = None
    value: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.code, "value": self.value, "message": self.message}


@dataclass
class ValidationResult:
    values: dict[str, Decimal] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _fmt(value: float | Decimal) -> str:
    return f"{float(value):.6g}"


def number_parse(raw: Any, *, decimal_comma: bool = False) -> Decimal:
    """A plain number; raises ValueError with the user-facing message."""
    if isinstance(raw, bool):
        return Decimal(int(raw))
    if isinstance(raw, int | float | Decimal):
        number = Decimal(str(raw))
    else:
        text = str(raw).strip().removesuffix("%").strip().replace("\u00a0", "").replace(" ", "")
        if decimal_comma and "," in text and "." not in text:
            # European exports (";" separated) write 12,5; only then is a comma a decimal point.
            text = text.replace(",", ".")
        if not _NUMBER.match(text):
            raise ValueError(f"must be a number such as 1234.5 (no thousands separators), not {str(raw)!r}")
        number = Decimal(text)
    if not number.is_finite() or abs(number) >= MAX_ABS:
        raise ValueError("must be a finite number below 10^17")
    return number


def value_parse(metric: Metric, raw: Any, *, decimal_comma: bool = False) -> Decimal:
    """Parse and apply the metric's rules (type, integer, min, max); ValueError carries the message."""
    if metric.type == "boolean" and not isinstance(raw, int | float | Decimal):
        key = str(raw).strip().lower()
        if key not in _BOOLEANS:
            raise ValueError(f"must be yes or no, not {str(raw)!r}")
        return Decimal(_BOOLEANS[key])
    try:
        number = number_parse(raw, decimal_comma=decimal_comma)
    except InvalidOperation as exc:
        raise ValueError(f"must be a number, not {str(raw)!r}") from exc
    rules = metric.rules
    if rules.get("integer") and number != number.to_integral_value():
        raise ValueError(f"must be a whole number of {metric.unit}, not {_fmt(number)}")
    if "min" in rules and number < Decimal(str(rules["min"])):
        raise ValueError(f"must be at least {rules['min']} {metric.unit}, not {_fmt(number)}")
    if "max" in rules and number > Decimal(str(rules["max"])):
        raise ValueError(f"must be at most {rules['max']} {metric.unit}, not {_fmt(number)}")
    return number.quantize(STORED_DECIMALS)


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def _cells_parse(
    cells: Mapping[str, Any], cat: Catalogue, row: int | None, decimal_comma: bool
) -> tuple[dict[str, Decimal], dict[str, Decimal], list[CellError]]:
    """Entered values, reported computed values (kept only for cross-checks) and per-cell errors."""
    values: dict[str, Decimal] = {}
    reported: dict[str, Decimal] = {}
    errors: list[CellError] = []
    for code, raw in cells.items():
        if _blank(raw):
            continue
        metric = cat.get(code)
        shown = "" if raw is None else str(raw)
        if metric is None or metric.level != "organisation":
            errors.append(CellError(code, "is not a metric of the catalogue that can be entered", row, shown))
        elif metric.source in {"ledger", "scorecard"}:
            errors.append(CellError(code, "comes from the footprint ledger and cannot be entered", row, shown))
        else:
            try:
                parsed = value_parse(metric, raw, decimal_comma=decimal_comma)
            except ValueError as exc:
                errors.append(CellError(code, str(exc), row, shown))
                continue
            (values if metric.is_entered else reported)[code] = parsed
    return values, reported, errors


def _check(check: Check, merged: Mapping[str, float], cat: Catalogue) -> tuple[str, str] | None:
    """(cell code, message) when the consistency check fails, None when it holds or cannot run yet."""
    spec = check.spec
    if check.kind == "sum_equals":
        parts = spec["parts"]
        required_missing = any(p not in merged and cat.metrics[p].required for p in parts)
        if spec["total"] not in merged or required_missing:
            return None
        total = sum(merged.get(p, 0.0) for p in parts)
        if abs(total - merged[spec["total"]]) > 1e-9:
            terms = " + ".join(_fmt(merged.get(p, 0.0)) for p in parts)
            return spec["total"], (
                f"{check.message} {terms} = {_fmt(total)}, but {spec['total']} is {_fmt(merged[spec['total']])}."
            )
    elif check.kind == "not_greater":
        part, whole = spec["part"], spec["whole"]
        if part in merged and whole in merged and merged[part] > merged[whole]:
            return part, f"{check.message} {_fmt(merged[part])} > {whole} {_fmt(merged[whole])}."
    elif check.kind == "positive_if":
        when, then = spec["when"], spec["then"]
        if merged.get(when, 0.0) > 0 and then in merged and merged[then] <= 0:
            return then, f"{check.message} {when} is {_fmt(merged[when])}."
    return None


def _recompute(metric: Metric, given: Decimal, merged: Mapping[str, float]) -> str | None:
    """Message when a reported rate disagrees with the catalogue formula over its inputs."""
    missing = [code for code in metric.inputs if code not in merged]
    if missing:
        return (
            f"is computed from {' and '.join(metric.inputs)}; provide {' and '.join(missing)} too "
            "(a reported rate alone is not stored)"
        )
    args = [merged[code] for code in metric.inputs]
    computed = FORMULAS[metric.formula](*args)
    inputs = ", ".join(f"{code} = {_fmt(value)}" for code, value in zip(metric.inputs, args, strict=True))
    if computed is None:
        return f"cannot be computed: the denominator is 0 ({inputs})"
    if abs(float(given) - computed) > max(ABS_TOLERANCE, REL_TOLERANCE * abs(computed)):
        return (
            f"is {_fmt(given)}, but {metric.definition.rstrip('.')} gives {_fmt(computed)} from {inputs}; "
            "check the inputs or the rate"
        )
    return None


def values_validate(
    cells: Mapping[str, Any],
    *,
    existing: Mapping[str, float] | None = None,
    row: int | None = None,
    decimal_comma: bool = False,
    cat: Catalogue | None = None,
) -> ValidationResult:
    """Validate one period's cells (metric code → raw value). Blank cells mean "not given"."""
    cat = cat or catalogue()
    values, reported, errors = _cells_parse(cells, cat, row, decimal_comma)
    merged = {**(existing or {}), **{code: float(v) for code, v in values.items()}}
    failed = {e.code for e in errors}
    for check in cat.checks:
        # Only checks touching this submission: an old inconsistency elsewhere must not block new input.
        if failed.intersection(check.codes) or not set(values).intersection(check.codes):
            continue
        problem = _check(check, merged, cat)
        if problem:
            errors.append(CellError(problem[0], problem[1], row, str(cells.get(problem[0], ""))))
    for code, given in reported.items():
        message = _recompute(cat.metrics[code], given, merged)
        if message:
            errors.append(CellError(code, message, row, str(cells.get(code, ""))))
    return ValidationResult(values=values if not errors else {}, errors=errors)
