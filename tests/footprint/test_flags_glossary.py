"""Every flag code the code can write has a plain-language explanation in the glossary."""

from __future__ import annotations

import re
from pathlib import Path

from greenesg.footprint.flags import GLOSSARY, flag_explain

REPO = Path(__file__).resolve().parents[2]
PATTERNS = (
    re.compile(r'FLAG_[A-Z_]+ = "([a-z_0-9]+)"'),
    re.compile(r'flags?\.(?:append|add|insert)\((?:0, )?"([a-z_0-9]+)"\)'),
    re.compile(r'\[\*?(?:carried_flags|flags), "([a-z_0-9]+)"\]'),
    re.compile(r'\["(unknown_usage|unit_unknown|unsupported)"'),
    re.compile(r'\("([a-z_0-9]+)", (?:missing|out_of_range|short|assumed_tz)\)'),
    re.compile(r'MB_BASIS_GRID = "([a-z_0-9]+)"'),
)


def emitted_codes() -> set[str]:
    codes: set[str] = set()
    for folder in ("greenesg", "ingestion", "reports"):
        for path in (REPO / folder).rglob("*.py"):
            if "migrations" in path.parts or path.name == "flags.py":
                continue
            text = path.read_text(encoding="utf-8")
            for pattern in PATTERNS:
                codes.update(pattern.findall(text))
    return codes


def test_every_emitted_flag_is_explained() -> None:
    codes = emitted_codes()
    assert len(codes) > 20, "the scan must find the flags; a broken pattern would make this test pass vacuously"
    assert sorted(codes - set(GLOSSARY)) == []


def test_an_unknown_code_is_explained_as_such() -> None:
    assert flag_explain("made_up").meaning.startswith("No explanation")
    assert flag_explain("region_unmapped").title == "Region not mapped"
