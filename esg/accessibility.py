"""axe-core and Lighthouse JSON reports → one accessibility summary. Pure, no ORM.

axe-core (`axe.run()` result, or the axe CLI's list of them): `violations[]` each with `impact` and
`nodes[]`, `passes[]`, `url`, `timestamp`, `testEngine.version`.
Lighthouse (LHR): `categories.accessibility.score` (0–1) and `auditRefs`, `audits{id: {score,
scoreDisplayMode, details.debugData.impact}}`, `finalDisplayedUrl`/`finalUrl`/`requestedUrl`,
`fetchTime`, `lighthouseVersion`. A Lighthouse audit fails when its binary score is 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

IMPACTS = ("critical", "serious", "moderate", "minor")
MAX_FAILING_RULES = 50


class ReportError(ValueError):
    pass


@dataclass
class AccessibilitySummary:
    tool: str
    tool_version: str
    url: str
    tested_at: dt.datetime
    score: float | None
    impacts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*IMPACTS, "unknown"), 0))
    violation_nodes: int = 0
    passes: int = 0
    failing_rules: list[str] = field(default_factory=list)


def _timestamp(value: Any) -> dt.datetime:
    if not isinstance(value, str) or not value:
        raise ReportError("The report has no timestamp (axe `timestamp`, Lighthouse `fetchTime`).")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ReportError(f"Unreadable timestamp {value[:40]!r}.") from exc
    # A naive timestamp is taken as UTC: both tools write UTC ISO strings.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ReportError("The report has no tested URL.")
    return value.strip()[:500]


def _impact(value: Any) -> str:
    return value if value in IMPACTS else "unknown"


def axe_parse(doc: dict[str, Any]) -> AccessibilitySummary:
    violations, passes = doc.get("violations"), doc.get("passes", [])
    if not isinstance(violations, list) or not isinstance(passes, list):
        raise ReportError("An axe-core report needs `violations` and `passes` lists.")
    engine = raw_engine if isinstance(raw_engine := doc.get("testEngine"), dict) else {}
    summary = AccessibilitySummary(
        tool="axe",
        tool_version=str(engine.get("version", ""))[:40],
        url=_url(doc.get("url")),
        tested_at=_timestamp(doc.get("timestamp")),
        score=None,
    )
    for rule in violations:
        if not isinstance(rule, dict):
            raise ReportError("Each axe-core violation must be an object.")
        summary.impacts[_impact(rule.get("impact"))] += 1
        summary.violation_nodes += len(rule.get("nodes") or [])
        summary.failing_rules.append(str(rule.get("id", "?"))[:80])
    summary.passes = len(passes)
    # axe has no score; passed ÷ (passed + violated) rules is a comparable 0–100 figure.
    checked = summary.passes + len(violations)
    summary.score = summary.passes / checked * 100 if checked else None
    summary.failing_rules = summary.failing_rules[:MAX_FAILING_RULES]
    return summary


def lighthouse_parse(doc: dict[str, Any]) -> AccessibilitySummary:
    category = (doc.get("categories") or {}).get("accessibility")
    audits = doc.get("audits")
    if not isinstance(category, dict) or not isinstance(audits, dict):
        raise ReportError("A Lighthouse report needs `categories.accessibility` and `audits`.")
    score = category.get("score")
    url = doc.get("finalDisplayedUrl") or doc.get("finalUrl") or doc.get("requestedUrl")
    summary = AccessibilitySummary(
        tool="lighthouse",
        tool_version=str(doc.get("lighthouseVersion", ""))[:40],
        url=_url(url),
        tested_at=_timestamp(doc.get("fetchTime")),
        score=float(score) * 100 if isinstance(score, int | float) else None,
    )
    for ref in category.get("auditRefs") or []:
        audit = audits.get(ref.get("id")) if isinstance(ref, dict) else None
        # Manual, informative and not-applicable audits carry no verdict.
        if not isinstance(audit, dict) or audit.get("scoreDisplayMode") != "binary":
            continue
        if audit.get("score") == 1:
            summary.passes += 1
            continue
        details = audit.get("details") or {}
        summary.impacts[_impact((details.get("debugData") or {}).get("impact"))] += 1
        summary.violation_nodes += len(details.get("items") or [])
        summary.failing_rules.append(str(ref.get("id"))[:80])
    summary.failing_rules = summary.failing_rules[:MAX_FAILING_RULES]
    return summary


def report_parse(doc: Any) -> list[AccessibilitySummary]:
    """One summary per tested page; the axe CLI writes a list of results, one per URL."""
    if isinstance(doc, list):
        if not doc:
            raise ReportError("The report list is empty.")
        return [summary for item in doc for summary in report_parse(item)]
    if not isinstance(doc, dict):
        raise ReportError("The report must be a JSON object (or a list of axe-core results).")
    if "categories" in doc and "audits" in doc:
        return [lighthouse_parse(doc)]
    if "violations" in doc:
        return [axe_parse(doc)]
    raise ReportError("Neither an axe-core result (`violations`) nor a Lighthouse report (`categories`).")
