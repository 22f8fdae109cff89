"""The iXBRL document validated by Arelle, the reference XBRL processor.

The EFRAG ESRS taxonomy cannot be fetched here (no internet), so Arelle runs offline: the errors it must give are
the ones about loading that taxonomy (and what follows from not having it: undefined concepts and dimensions).
Any other error — malformed Inline XBRL, an XHTML schema violation, a bad context or unit — fails the test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reports.esrs import services as report_services
from tests.esrs.test_exports import _built

ARELLE = Path(sys.executable).with_name("arelleCmdLine")
# Codes Arelle gives because the taxonomy is not there; everything else is a real defect of our document.
TAXONOMY_UNAVAILABLE = re.compile(
    r"^(IOerror|FileNotLoadable|arelle:(?:onlineAccessDisabled|fileNotLoadable|noTaxonomy)|webCache:.*"
    r"|xbrl\.5\.1\.1:.*|xmlSchema:.*(?:missing|notFound).*|xbrl\.3\.5\.1\.1:.*|xbrldie:.*|xbrl:schemaImportMissing"
    r"|xbrl\.4\.6\.2:.*|ix11\.10\.1\.2:invalidConcept|ix\.10\.1\.2:invalidConcept|xbrl\.4\.9:.*"
    r"|ix11\.12\.1\.2:missingReferences)$"
)


def _arelle_messages(path: Path, tmp_path: Path) -> list[tuple[str, str, str]]:
    log = tmp_path / "arelle.log"
    subprocess.run(
        [
            str(ARELLE),
            "--file",
            str(path),
            "--validate",
            "--workOffline",
            "--logFile",
            str(log),
            "--logFormat",
            "[%(messageCode)s] [%(levelname)s] %(message)s",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path)},
    )
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        match = re.match(r"^\[([^\]]*)\] \[([A-Z]+)\] (.*)$", line)
        if match:
            found.append((match.group(1), match.group(2), match.group(3)))
    return found


@pytest.mark.django_db
def test_arelle_finds_no_error_but_the_unavailable_taxonomy(acme, tmp_path: Path) -> None:
    if not ARELLE.exists() and shutil.which("arelleCmdLine") is None:
        pytest.fail("arelle-release is a test dependency (requirements-dev.txt): install it")
    document = tmp_path / "report.xhtml"
    document.write_bytes(report_services.report_document(_built(acme), "ixbrl"))

    messages = _arelle_messages(document, tmp_path)

    assert messages, "Arelle wrote no log: it did not run"
    errors = [m for m in messages if m[1] in ("ERROR", "CRITICAL", "FATAL")]
    other = [m for m in errors if not TAXONOMY_UNAVAILABLE.match(m[0])]
    assert other == [], "\n".join(sorted({f"{code}: {text[:160]}" for code, _, text in other}))
