"""Code comments cite documents that are in the repository, and the sections they cite exist.

Comments used to point at reference documents that never shipped with the code (a reliability reference, an
outside methodology and ESRS reference); a reader of the code could not follow them. Every citation now names a
file under docs/, and a numbered citation ("docs/methodology.md §4.8") must match a numbered heading there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SCANNED = ("greenesg", "esg", "steering", "demo", "ingestion", "reports", "tests", "bench", "tools")
SUFFIXES = {".py", ".sh", ".json", ".html", ".js", ".toml"}

# A document cited by name; "docs/" may or may not precede it.
CITED_DOC = re.compile(r"(?<![\w/.-])((?:docs/)?(?:methodology|esrs|operations|security|reliability|style)\.md)")
# A numbered section of an in-repo document: "docs/esrs.md §10.4" or "docs/methodology.md §1, §2.8, §4.6".
NUMBERED = re.compile(r"docs/(methodology|esrs|operations|security)\.md((?:[ ,;]*(?:and )?§\d+(?:\.\d+)*)+)")
SECTION = re.compile(r"§(\d+(?:\.\d+)*)")
HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)*)\.? ", re.MULTILINE)


def _sources() -> list[Path]:
    files: list[Path] = []
    for top in SCANNED:
        files += [p for p in (ROOT / top).rglob("*") if p.suffix in SUFFIXES and "migrations" not in p.parts]
    return sorted(files)


def _headings(name: str) -> set[str]:
    return set(HEADING.findall((DOCS / f"{name}.md").read_text(encoding="utf-8")))


def test_docs_number_their_sections_for_citation() -> None:
    assert {"1.6", "2.4", "4.6", "4.8", "4.9", "4.10", "5.3", "7.2", "8.1", "9"} <= _headings("methodology")
    assert {"1", "4", "5.1", "8", "10.3", "10.4", "10.6", "12"} <= _headings("esrs")
    assert {"4.2", "4.5", "5", "7", "11"} <= _headings("operations")


def test_every_cited_document_is_in_the_repository() -> None:
    outside = []
    for path in _sources():
        if path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            outside += [
                f"{path.relative_to(ROOT)}:{number}: {cited}"
                for cited in CITED_DOC.findall(line)
                if not cited.startswith("docs/") or not (ROOT / cited).is_file()
            ]
    assert outside == []


@pytest.mark.parametrize("name", ["methodology", "esrs", "operations", "security"])
def test_every_cited_section_exists(name: str) -> None:
    headings = _headings(name)
    missing = []
    for path in _sources():
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for doc, sections in NUMBERED.findall(line):
                missing += [
                    f"{path.relative_to(ROOT)}:{number}: §{s}"
                    for s in SECTION.findall(sections)
                    if doc == name and s not in headings
                ]
    assert missing == []
