"""The ledger's controlled vocabulary: where a row comes from (Source) and how its figure was obtained (Method).

Plain ``str`` enums with labels, no Django: the pure methodology and the readers name a method without importing
the ORM (import-linter contract "pure-readers"), and the models take their field choices from the same classes.
Members are strings, so ``Method.MODELLED == "modelled"`` and stored values never change.
"""

from __future__ import annotations

from enum import EnumMeta, StrEnum
from typing import Any


class _LabelledMeta(EnumMeta):
    @property
    def choices(cls) -> list[tuple[str, str]]:
        """(value, label) pairs in declaration order, the shape Django's ``choices=`` takes."""
        members: list[LabelledChoices] = list(cls)  # the metaclass of LabelledChoices only
        return [(member.value, member.label) for member in members]


class LabelledChoices(StrEnum, metaclass=_LabelledMeta):
    """A ``StrEnum`` whose members are declared as ``NAME = value, label``."""

    label: str

    def __new__(cls, value: str, label: str) -> Any:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class Source(LabelledChoices):
    CODECARBON = "codecarbon", "codecarbon run"
    CODECARBON_TASK = "codecarbon_task", "codecarbon task"
    BILLING = "billing", "Cloud billing"
    PROVIDER = "provider", "Provider carbon export"
    OTHER = "other", "Other activity"


class Method(LabelledChoices):
    MEASURED = "measured", "Measured"
    MODELLED = "modelled", "Modelled"
    EXTRAPOLATED = "extrapolated", "Extrapolated"
    SPEND_BASED = "spend-based", "Spend-based"
    SUPPLIER_SPECIFIC = "supplier-specific", "Supplier-specific"


# codecarbon's per-run measurements, kept as typed ledger columns named as codecarbon names them (LedgerEntry).
RUN_MEASUREMENTS = (
    "cpu_energy_kwh",
    "gpu_energy_kwh",
    "ram_energy_kwh",
    "cpu_utilization_percent",
    "gpu_utilization_percent",
    "ram_utilization_percent",
    "ram_used_gb",
)
