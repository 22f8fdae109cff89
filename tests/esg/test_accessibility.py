"""axe-core and Lighthouse reports as CI posts them (fixtures follow the tools' real JSON shapes)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from esg.accessibility import ReportError, report_parse


def _load(fixtures_dir: Path, name: str) -> object:
    return json.loads((fixtures_dir / name).read_text())


def test_an_axe_result_counts_violated_rules_by_impact(fixtures_dir: Path) -> None:
    [summary] = report_parse(_load(fixtures_dir, "axe_result.json"))
    assert summary.tool == "axe" and summary.tool_version == "4.10.2"
    assert summary.url == "https://shop.example.test/checkout"
    assert summary.tested_at == dt.datetime(2026, 7, 14, 9, 21, 37, 412000, tzinfo=dt.UTC)
    assert summary.impacts == {"critical": 1, "serious": 1, "moderate": 2, "minor": 0, "unknown": 0}
    assert summary.violation_nodes == 2 + 1 + 1 + 3
    assert summary.passes == 6
    # 6 passed of 6 + 4 checked rules; "incomplete" needs review and counts neither way
    assert summary.score == pytest.approx(60.0)
    assert summary.failing_rules == ["button-name", "link-name", "heading-order", "region"]


def test_the_axe_cli_list_gives_one_summary_per_page(fixtures_dir: Path) -> None:
    doc = _load(fixtures_dir, "axe_result.json")
    other = dict(doc, url="https://shop.example.test/", violations=[])
    summaries = report_parse([doc, other])
    assert [s.url for s in summaries] == ["https://shop.example.test/checkout", "https://shop.example.test/"]
    assert summaries[1].score == 100.0


def test_a_lighthouse_report_gives_score_and_failing_audits(fixtures_dir: Path) -> None:
    [summary] = report_parse(_load(fixtures_dir, "lighthouse_report.json"))
    assert summary.tool == "lighthouse" and summary.tool_version == "12.4.0"
    assert summary.url == "https://ml.example.test/dashboard"
    assert summary.score == pytest.approx(87.0)
    assert summary.impacts == {"critical": 1, "serious": 1, "moderate": 0, "minor": 0, "unknown": 0}
    assert summary.violation_nodes == 3
    assert summary.passes == 4  # manual and not-applicable audits and performance audits are not counted
    assert summary.failing_rules == ["color-contrast", "button-name"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"hello": 1}, "Neither an axe-core result"),
        ([], "empty"),
        ("text", "must be a JSON object"),
        ({"violations": [], "passes": [], "url": "https://x.test/"}, "no timestamp"),
        ({"violations": [], "passes": [], "timestamp": "2026-01-01T00:00:00Z"}, "no tested URL"),
        ({"categories": {}, "audits": {}}, "categories.accessibility"),
        ({"violations": "many", "passes": []}, "`violations` and `passes` lists"),
    ],
)
def test_malformed_reports_are_refused_with_a_reason(doc: object, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        report_parse(doc)
