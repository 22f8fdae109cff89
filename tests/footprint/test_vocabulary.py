"""One vocabulary for the ledger's source and method: the enums, never their values spelled as literals."""

from __future__ import annotations

import re
from pathlib import Path

from greenesg.footprint.models import LedgerEntry
from greenesg.footprint.vocabulary import Method, Source

ROOT = Path(__file__).resolve().parent.parent.parent
CODE = ("greenesg", "ingestion", "reports", "esg", "steering", "demo")


def _alternatives(enum: type[Source] | type[Method]) -> str:
    return "|".join(re.escape(member.value) for member in enum)


def _literal_uses(field: str, enum: type[Source] | type[Method]) -> re.Pattern[str]:
    """A raw value compared with, assigned to or listed for the field (keyword, key, attribute or constant)."""
    value = rf"[\"'](?:{_alternatives(enum)})[\"']"
    name = rf"(?:\b{field}(?:__\w+)?|[\"']{field}[\"']|\b[A-Z_]*{field.upper()}S?\b)"
    annotation = r"(?::\s*[\w\[\], |.]+?\s*)?"  # "method: str = …" in a dataclass
    return re.compile(rf"{name}\s*{annotation}(?:==|!=|=|:|\bin\b|\bnot in\b)\s*[\(\[\{{]?\s*{value}")


PATTERNS = {"source": _literal_uses("source", Source), "method": _literal_uses("method", Method)}


def _offences(text: str) -> list[str]:
    return [f"{field}: {line.strip()}" for line in text.splitlines() for field, p in PATTERNS.items() if p.search(line)]


def test_the_guard_catches_each_way_of_spelling_a_value() -> None:
    caught = [
        'LedgerEntry.objects.filter(project=project, source="billing")',
        "rows.filter(source__in=['codecarbon', 'codecarbon_task'])",
        '        "source": "other",',
        'if est.method != "modelled" or value <= 0:',
        'counted = [g for g in groups if g.estimate.method in ("modelled", "extrapolated")]',
        'LEDGER_METHODS = ("modelled", "extrapolated")',
        'RUN_SOURCE = "codecarbon"',
        '    method: str = "supplier-specific"',
    ]
    allowed = [
        "LedgerEntry.objects.filter(project=project, source=Source.BILLING)",
        'EmissionFactorSet(name="grid", source="Ember")',  # a factor set's source is a citation, not a Source
        'method = models.CharField(max_length=12, default="location")',
        'if options["source"] == "billing":',  # a CLI sub-command, not a ledger source
        'flags = [*carried_flags, "extrapolated"]',  # a flag of the same name
    ]
    assert [line for line in caught if not _offences(line)] == []
    assert [line for line in allowed if _offences(line)] == []


def test_non_test_code_uses_the_enums_for_source_and_method() -> None:
    offences = []
    for top in CODE:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # migrations freeze the values as they were
            offences += [f"{path.relative_to(ROOT)}: {o}" for o in _offences(path.read_text(encoding="utf-8"))]
    assert offences == []


def test_the_enums_are_the_fields_choices() -> None:
    assert LedgerEntry._meta.get_field("source").choices == Source.choices
    assert LedgerEntry._meta.get_field("method").choices == Method.choices
    assert Method.SUPPLIER_SPECIFIC == "supplier-specific" and Method.SUPPLIER_SPECIFIC.label == "Supplier-specific"
