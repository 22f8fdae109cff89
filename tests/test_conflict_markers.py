"""No merge-conflict marker left in a stylesheet, script or template.

Python has ruff to catch one; CSS, JS and HTML have no parser in `make test`. A "=======" line left in app.css by
a merge went unnoticed: the browser read it as part of the next selector and dropped that rule.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^(<{7}|={7}|>{7})( |$)", re.MULTILINE)


def _own_front_end_files() -> list[Path]:
    files = [*ROOT.glob("static/css/*.css"), *ROOT.glob("static/js/*.js"), *ROOT.glob("templates/**/*.html")]
    # Vendored bundles are copied as shipped, not merged.
    return [f for f in files if not f.name.endswith((".min.js", ".standalone.js"))]


def test_no_front_end_file_keeps_a_merge_conflict_marker() -> None:
    files = _own_front_end_files()
    assert any(f.name == "app.css" for f in files) and any(f.name == "base.html" for f in files)
    found = [
        f"{f.relative_to(ROOT)}:{f.read_text(encoding='utf-8')[: m.start()].count(chr(10)) + 1}: {m.group(0)!r}"
        for f in files
        for m in MARKER.finditer(f.read_text(encoding="utf-8"))
    ]
    assert found == []
