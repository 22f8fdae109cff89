"""axe-core in the browser tests (issue 14 item 18): the rules, the wait for a page to settle, the findings.

axe-core comes from the axe-playwright-python package (requirements-dev.txt), which bundles axe.min.js: nothing
is fetched at run time. No rule and no part of a page is excluded, Plotly's markup included: a chart's container
is role="figure" (not "img", whose children are hidden from assistive technology while Plotly's mode-bar
buttons stay focusable, axe's nested-interactive).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPORTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "accessibility"
BLOCKING = ("serious", "critical")
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
# Every chart container is drawn by its page script; a page is read once each one holds Plotly's SVG.
CHARTS_DRAWN = "() => [...document.querySelectorAll('.chart[data-figure]')].every(el => el.querySelector('svg'))"


def axe_load() -> Any:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        reason = "axe-playwright-python is not installed (pip install -r requirements-dev.txt)"
        if os.environ.get("GREENESG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"accessibility checks required on CI: {reason}")  # as the browser fixture does
        pytest.skip(reason)
    return Axe()


def _settle(page: Any) -> None:
    """Wait for the page's scripts: network quiet, every chart drawn, fonts laid out."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(CHARTS_DRAWN, timeout=15_000)
    page.evaluate("document.fonts.ready.then(() => true)")


def axe_violations(axe: Any, page: Any, name: str) -> list[dict[str, Any]]:
    """axe's violations on the open page, each reduced to what a person needs to find and fix it."""
    _settle(page)
    found = axe.run(page, options=AXE_OPTIONS).response["violations"]
    return [
        {
            "page": name,
            "url": page.url,
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [" ".join(map(str, node["target"])) for node in violation["nodes"]],
            "why": sorted({node.get("failureSummary", "") for node in violation["nodes"]}),
        }
        for violation in found
    ]


def axe_report(name: str, checked: list[str], found: list[dict[str, Any]], reports: Path = REPORTS) -> list[str]:
    """Write what was checked and found for a person to read (every impact, in <reports>/<name>.json); return the
    serious and critical findings, one line each, for the test to fail on."""
    reports.mkdir(parents=True, exist_ok=True)
    report = {"pages": checked, "violations": found}
    (reports / f"{name}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return [
        f"{v['page']} ({v['url']}): {v['rule']} [{v['impact']}] {v['help']} → {v['targets']}"
        for v in found
        if v["impact"] in BLOCKING
    ]
