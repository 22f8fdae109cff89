"""Writes on ESG data. Every write leaves an audit-log entry with before → after (and a reason where
the control asks for one), so an auditor can rebuild who entered, approved, rejected, closed, reopened
and imported what.

Controls enforced here, not only in views, so the API, the importer, the command line and the demo
cannot bypass them: officers enter, approve and close; a submitter never approves their own value
(four-eyes, also a database constraint); a closed period accepts no change until reopened with a reason.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from esg import accessibility, importer
from esg.models import (
    AccessibilityReport,
    ChangeStatus,
    EsgSettings,
    FactorSetChangeRequest,
    MetricValue,
    ModelReview,
    PeriodStatus,
    ReportingPeriod,
    ValueStatus,
)
from esg.periods import Period, period_parse
from esg.selectors import (
    VALUE_OBJECT_TYPE,
    existing_floats,
    locked_period_keys,
    period_lock_row,
    value_object_id,
)
from esg.validation import CellError, values_validate
from greenesg.accounts.access import Capability, member_can
from greenesg.accounts.models import Organisation, Project
from greenesg.accounts.services import audit_log_write
from greenesg.footprint.models import EmissionFactorSet, FactorSetStatus
from greenesg.footprint.services import factor_set_version_create

MIN_REASON = 5


class EsgConflict(Exception):
    """The write is not possible in the current state (closed period, already decided, …)."""


class InvalidValues(Exception):
    def __init__(self, errors: list[CellError]) -> None:
        super().__init__(f"{len(errors)} invalid cell(s)")
        self.errors = errors


def _require(organisation: Organisation, actor: User | None, needed: Capability, doing: str) -> None:
    # Checked here as well as in the views: the API, imports and commands reach these services directly.
    if not member_can(organisation=organisation, user=actor, capability=needed):
        raise PermissionDenied(f"Only officers can {doing}.")


def _periods_lock(organisation: Organisation, keys: Iterable[str]) -> list[ReportingPeriod]:
    """Create-then-lock the rows of these periods, in key order; returns them as locked (fresh).

    No row means open, and a missing row cannot be locked: two transactions that both saw "no row" both went
    ahead (a value submitted into a period being closed, a period closed twice). So each row is created
    first (get_or_create: the unique constraint settles a concurrent insert), then locked with SELECT … FOR
    UPDATE, and what is checked after that holds until commit. Sorted keys ("2026" < "2026-Q3" < "2027")
    give every transaction the same lock order, so two of them cannot deadlock. SQLite runs one write
    transaction at a time, which serialises the same way.
    """
    now = timezone.now()
    rows = []
    for key in sorted(set(keys)):
        row, _ = ReportingPeriod.objects.get_or_create(
            organisation=organisation, period=key, defaults={"changed_at": now}
        )
        rows.append(ReportingPeriod.objects.select_for_update().get(pk=row.pk))
    return rows


def _lock_keys(period: Period) -> set[str]:
    # A closed year locks its quarters, so a quarter's writes lock the year's row as well.
    return {period.key, period.year_period.key}


def _require_open(organisation: Organisation, period: Period) -> ReportingPeriod:
    """Lock the period (and its year) and check, inside the lock, that neither is closed; returns its row."""
    rows = _periods_lock(organisation, _lock_keys(period))
    closed = next((row for row in rows if row.status == PeriodStatus.CLOSED), None)
    if closed is not None:
        raise EsgConflict(f"Period {closed.period} is closed; an officer must reopen it with a reason first.")
    return next(row for row in rows if row.period == period.key)


def _require_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise EsgConflict(f"{what} needs a reason of at least {MIN_REASON} characters.")
    return reason


def _audit(
    organisation: Organisation,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: str,
    before: Any = None,
    after: Any = None,
    reason: str = "",
    label: str = "",
) -> None:
    audit_log_write(
        organisation=organisation,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        reason=reason,
        actor_label=label,
    )


# ------------------------------------------------------------------------------------------- values


def _value_write(
    organisation: Organisation,
    actor: User,
    period: str,
    code: str,
    value: Decimal,
    source: str,
    evidence: str,
    comment: str,
) -> MetricValue | None:
    """Create or update one value as submitted; None when nothing changed (re-import of the same file)."""
    now = timezone.now()
    record = (
        MetricValue.objects.select_for_update()
        .filter(organisation=organisation, metric_code=code, period=period)
        .first()
    )
    if record is not None and record.value == value and record.status != ValueStatus.REJECTED:
        return None
    before = record.snapshot() if record else None
    if record is None:
        record = MetricValue(organisation=organisation, metric_code=code, period=period)
    # A changed value needs a fresh approval, whoever approved the old one.
    record.value, record.status, record.source = value, ValueStatus.SUBMITTED, source
    record.evidence, record.comment, record.rejection_reason = evidence, comment, ""
    record.submitted_by, record.submitted_at, record.approved_by, record.approved_at = actor, now, None, None
    record.save()
    _audit(
        organisation,
        actor,
        "esg.value.update" if before else "esg.value.create",
        VALUE_OBJECT_TYPE,
        value_object_id(period, code),
        before,
        record.snapshot(),
        comment,
    )
    return record


@transaction.atomic
def metric_values_submit(
    *,
    organisation: Organisation,
    actor: User,
    period: Period,
    cells: Mapping[str, Any],
    source: str,
    evidence: str = "",
    comment: str = "",
    decimal_comma: bool = False,
) -> list[MetricValue]:
    """Validate a period's cells (all or nothing) and store the changed ones as submitted."""
    _require(organisation, actor, Capability.MANAGE_ESG, "enter ESG values")
    _require_open(organisation, period)
    result = values_validate(
        cells, existing=existing_floats(organisation, [period.key]).get(period.key, {}), decimal_comma=decimal_comma
    )
    if not result.ok:
        raise InvalidValues(result.errors)
    written = [
        _value_write(organisation, actor, period.key, code, value, source, evidence, comment)
        for code, value in result.values.items()
    ]
    return [record for record in written if record is not None]


def _decide(value: MetricValue, actor: User, status: str, reason: str) -> MetricValue:
    """Decide only the exact submission the officer looked at: a resubmission in between (new
    submitted_at) or another officer's decision makes this one stale."""
    current = MetricValue.objects.select_for_update().filter(pk=value.pk).first()
    if (
        current is None
        or current.status != ValueStatus.SUBMITTED
        or current.submitted_at != value.submitted_at
        or current.submitted_by_id != value.submitted_by_id
    ):
        raise EsgConflict("The value changed or was decided since you opened it; reload and check again.")
    before = current.snapshot()
    current.status = status
    if status == ValueStatus.APPROVED:
        current.approved_by, current.approved_at = actor, timezone.now()
    else:
        current.rejection_reason = reason
    current.save(update_fields=["status", "approved_by", "approved_at", "rejection_reason"])
    action = "esg.value.approve" if status == ValueStatus.APPROVED else "esg.value.reject"
    _audit(
        current.organisation,
        actor,
        action,
        VALUE_OBJECT_TYPE,
        value_object_id(current.period, current.metric_code),
        before,
        current.snapshot(),
        reason,
    )
    return current


@transaction.atomic
def metric_value_approve(*, value: MetricValue, actor: User) -> MetricValue:
    _require(value.organisation, actor, Capability.APPROVE_VALUES, "approve ESG values")
    if value.submitted_by_id == actor.pk:
        raise PermissionDenied("You submitted this value; another officer must approve it (four-eyes).")
    _require_open(value.organisation, period_parse(value.period))
    if value.status != ValueStatus.SUBMITTED:
        raise EsgConflict(f"Only submitted values can be approved; this one is {value.status}.")
    return _decide(value, actor, ValueStatus.APPROVED, "")


@transaction.atomic
def metric_value_reject(*, value: MetricValue, actor: User, reason: str) -> MetricValue:
    _require(value.organisation, actor, Capability.APPROVE_VALUES, "reject ESG values")
    reason = _require_reason(reason, "A rejection")
    _require_open(value.organisation, period_parse(value.period))
    if value.status != ValueStatus.SUBMITTED:
        raise EsgConflict(f"Only submitted values can be rejected; this one is {value.status}.")
    return _decide(value, actor, ValueStatus.REJECTED, reason)


@dataclass
class BulkApproval:
    """What a bulk approval did with each selected value, so the page can say it rather than fail on one."""

    approved: list[MetricValue] = field(default_factory=list)
    skipped_own: list[MetricValue] = field(default_factory=list)  # four-eyes: the actor submitted these
    conflicts: list[tuple[MetricValue, str]] = field(default_factory=list)  # decided or changed meanwhile, closed


@transaction.atomic
def metric_values_approve_bulk(*, values: Iterable[MetricValue], actor: User) -> BulkApproval:
    """Approve several submitted values; the actor's own submissions are skipped, not an error.

    Each approval runs in a savepoint of its own (metric_value_approve is atomic), so a value that was decided
    or resubmitted meanwhile, or whose period was closed, is reported and leaves the others approved.
    """
    outcome = BulkApproval()
    for value in values:
        if value.submitted_by_id == actor.pk:
            outcome.skipped_own.append(value)
            continue
        try:
            outcome.approved.append(metric_value_approve(value=value, actor=actor))
        except EsgConflict as exc:
            outcome.conflicts.append((value, str(exc)))
    return outcome


@transaction.atomic
def metric_value_delete(*, value: MetricValue, actor: User, reason: str) -> None:
    _require(value.organisation, actor, Capability.MANAGE_ESG, "delete ESG values")
    reason = _require_reason(reason, "A deletion")
    _require_open(value.organisation, period_parse(value.period))
    before = value.snapshot()
    value.delete()
    _audit(
        value.organisation,
        actor,
        "esg.value.delete",
        VALUE_OBJECT_TYPE,
        value_object_id(value.period, value.metric_code),
        before,
        None,
        reason,
    )


# ------------------------------------------------------------------------------------------ periods


def _pending_count(organisation: Organisation, period: Period) -> int:
    keys = [period.key] + ([f"{period.year}-Q{q}" for q in range(1, 5)] if period.is_year else [])
    return MetricValue.objects.filter(organisation=organisation, period__in=keys, status=ValueStatus.SUBMITTED).count()


@transaction.atomic
def period_close(*, organisation: Organisation, period: Period, actor: User, reason: str = "") -> ReportingPeriod:
    """Close a period (a year also locks its quarters). Values awaiting approval block the close."""
    _require(organisation, actor, Capability.MANAGE_ESG, "close periods")
    # Locked first, counted after: a submission holding the lock has committed before the count reads, and
    # one that comes later waits for this close and then finds the period closed.
    row = _require_open(organisation, period)
    pending = _pending_count(organisation, period)
    if pending:
        raise EsgConflict(f"{pending} value(s) of {period.key} still await approval or rejection.")
    row.status, row.changed_by, row.changed_at, row.reason = PeriodStatus.CLOSED, actor, timezone.now(), reason
    row.save()
    _audit(
        organisation,
        actor,
        "esg.period.close",
        "esg_period",
        period.key,
        {"status": "open"},
        {"status": "closed"},
        reason,
    )
    return row


@transaction.atomic
def period_reopen(*, organisation: Organisation, period: Period, actor: User, reason: str) -> ReportingPeriod:
    _require(organisation, actor, Capability.MANAGE_ESG, "reopen periods")
    reason = _require_reason(reason, "Reopening a period")
    row = (
        ReportingPeriod.objects.select_for_update()
        .filter(organisation=organisation, period=period.key, status=PeriodStatus.CLOSED)
        .first()
    )
    if row is None:
        lock = period_lock_row(organisation, period)
        hint = f" (the year {lock.period} is closed: reopen the year)" if lock else ""
        raise EsgConflict(f"Period {period.key} is not closed{hint}.")
    row.status, row.changed_by, row.changed_at, row.reason = PeriodStatus.OPEN, actor, timezone.now(), reason
    row.save()
    _audit(
        organisation,
        actor,
        "esg.period.reopen",
        "esg_period",
        period.key,
        {"status": "closed"},
        {"status": "open"},
        reason,
    )
    return row


# ------------------------------------------------------------------------------------------ imports


@dataclass
class ImportOutcome:
    kind: str
    sha256: str
    written: int = 0
    unchanged: int = 0
    errors: list[CellError] = field(default_factory=list)
    summary: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


def _import_plan(
    organisation: Organisation, kind: str, name: str, data: bytes, period: Period | None
) -> tuple[dict[str, dict[str, Decimal]], dict[str, str], list[CellError], str]:
    """Parse the file; returns (period → values, period → evidence, errors, summary)."""
    table = importer.table_read(name, io.BytesIO(data))
    if kind == "ap_ledger":
        if period is None:
            return {}, {}, [CellError("period", "is required for an AP-ledger import")], ""
        if period_lock_row(organisation, period):
            return {}, {}, [CellError("period", f"{period.key} is closed; reopen it first")], ""
        ap = importer.ap_ledger_parse(table, period=period)
        summary = f"{ap.invoices} invoices; amount-weighted mean {ap.weighted_days or 0:.1f} days (context only)"
        return {period.key: ap.values}, {}, ap.errors, summary
    existing = existing_floats(organisation, importer.table_periods(table))
    plan = importer.metrics_import_parse(table, existing=existing, locked=locked_period_keys(organisation))
    return plan.values, plan.evidence, plan.errors, f"{len(plan.values)} period row(s)"


def _import_write(
    organisation: Organisation,
    actor: User,
    outcome: ImportOutcome,
    values: dict[str, dict[str, Decimal]],
    evidence: dict[str, str],
    display: str,
) -> None:
    base = f"{outcome.kind} import of {display} (sha256 {outcome.sha256[:16]}…)"
    source = "ap_ledger" if outcome.kind == "ap_ledger" else "import"
    for period_key, period_values in values.items():
        note = "; ".join(filter(None, [base, outcome.summary, evidence.get(period_key, "")]))
        for code, value in period_values.items():
            record = _value_write(organisation, actor, period_key, code, value, source, note, "")
            outcome.written += record is not None
            outcome.unchanged += record is None
    after = {
        "file": display,
        "kind": outcome.kind,
        "written": outcome.written,
        "unchanged": outcome.unchanged,
        "summary": outcome.summary,
    }
    _audit(organisation, actor, "esg.import", "esg_import", outcome.sha256[:16], None, after)


@transaction.atomic
def metric_values_import(
    *,
    organisation: Organisation,
    actor: User,
    name: str,
    file: IO[bytes],
    kind: str = "metrics",
    period: Period | None = None,
) -> ImportOutcome:
    """Import an HR (metrics) or AP-ledger file, all or nothing. A refused file is audited too."""
    _require(organisation, actor, Capability.MANAGE_ESG, "import ESG values")
    data = file.read(importer.MAX_IMPORT_BYTES + 1)
    outcome = ImportOutcome(kind=kind, sha256=hashlib.sha256(data).hexdigest())
    try:
        values, evidence, outcome.errors, outcome.summary = _import_plan(organisation, kind, name, data, period)
    except importer.ImportFileError as exc:
        outcome.errors = [CellError("file", str(exc))]
    if not outcome.errors:
        # The plan read the period locks without holding them: lock and check again before writing.
        keys = set().union(*(_lock_keys(period_parse(key)) for key in values)) if values else set()
        closed = sorted(row.period for row in _periods_lock(organisation, keys) if row.status == PeriodStatus.CLOSED)
        outcome.errors = [CellError("period", f"{key} is closed; reopen it first") for key in closed]
    display = name[:120]
    if outcome.errors:
        _audit(
            organisation,
            actor,
            "esg.import.refuse",
            "esg_import",
            outcome.sha256[:16],
            None,
            {"file": display, "kind": kind, "errors": len(outcome.errors)},
        )
        return outcome
    _import_write(organisation, actor, outcome, values, evidence, display)
    return outcome


# ----------------------------------------------------------------------------- settings and projects


@transaction.atomic
def esg_settings_update(*, organisation: Organisation, actor: User, approved_regions: list[str]) -> EsgSettings:
    _require(organisation, actor, Capability.MANAGE_ESG, "change ESG settings")
    row, _ = EsgSettings.objects.select_for_update().get_or_create(organisation=organisation)
    cleaned = sorted({region.strip() for region in approved_regions if region.strip()})
    before = {"approved_regions": list(row.approved_regions)}
    row.approved_regions = cleaned
    row.save()
    _audit(
        organisation,
        actor,
        "esg.settings.update",
        "esg_settings",
        str(organisation.pk),
        before,
        {"approved_regions": cleaned},
    )
    return row


def _body_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise accessibility.ReportError(f"The report is not valid JSON: {exc}") from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _report_fields(project: Project, summary: accessibility.AccessibilitySummary, label: str) -> dict[str, Any]:
    impacts = summary.impacts
    return {
        "organisation": project.organisation,
        "tool": summary.tool,
        "tool_version": summary.tool_version,
        "url": summary.url,
        "tested_at": summary.tested_at,
        "score": summary.score,
        "critical": impacts["critical"],
        "serious": impacts["serious"],
        "moderate": impacts["moderate"],
        "minor": impacts["minor"],
        "unknown_impact": impacts["unknown"],
        "violation_nodes": summary.violation_nodes,
        "passes": summary.passes,
        "failing_rules": summary.failing_rules,
        "posted_by": label[:200],
    }


@transaction.atomic
def accessibility_report_record(
    *, project: Project, body: bytes, actor: User | None, actor_label: str
) -> tuple[list[AccessibilityReport], int]:
    """Store the summary of an axe-core or Lighthouse report; (reports, how many were new)."""
    summaries = accessibility.report_parse(_body_json(body))
    digest = hashlib.sha256(body).hexdigest()
    reports, created_count = [], 0
    for index, summary in enumerate(summaries):
        # The axe CLI posts one body for several pages: each page gets its own idempotency key.
        key = digest if len(summaries) == 1 else hashlib.sha256(f"{digest}:{index}".encode()).hexdigest()
        report, created = AccessibilityReport.objects.get_or_create(
            project=project, sha256=key, defaults=_report_fields(project, summary, actor_label)
        )
        reports.append(report)
        if created:
            created_count += 1
            after = {
                "project": str(project),
                "tool": report.tool,
                "url": report.url,
                "score": report.score,
                "violations": report.violations,
            }
            _audit(
                project.organisation,
                actor,
                "esg.accessibility.create",
                "accessibility_report",
                str(report.pk),
                None,
                after,
                label=actor_label,
            )
    return reports, created_count


@transaction.atomic
def model_review_record(
    *,
    project: Project,
    actor: User | None,
    actor_label: str,
    subject: str,
    reviewed: bool,
    reviewed_on: Any = None,
    model_card_url: str = "",
    notes: str = "",
) -> ModelReview:
    if reviewed and reviewed_on is None:
        raise EsgConflict("A completed review needs its date.")
    review = ModelReview.objects.create(
        organisation=project.organisation,
        project=project,
        subject=subject,
        reviewed=reviewed,
        reviewed_on=reviewed_on,
        model_card_url=model_card_url,
        notes=notes,
        recorded_by=actor_label[:200],
    )
    _audit(
        project.organisation,
        actor,
        "esg.review.create",
        "model_review",
        str(review.pk),
        None,
        {
            "project": str(project),
            "subject": subject,
            "reviewed": reviewed,
            "reviewed_on": reviewed_on.isoformat() if reviewed_on else None,
            "model_card_url": model_card_url,
        },
        label=actor_label,
    )
    return review


# ------------------------------------------------------------------------------- factor-set changes


def _set_state(factor_set: EmissionFactorSet) -> dict[str, Any]:
    return {"set": factor_set.label, "status": factor_set.status}


@transaction.atomic
def factor_set_change_submit(
    *,
    organisation: Organisation,
    actor: User,
    name: str,
    kind: str,
    source: str,
    factors: list[dict[str, Any]],
    reason: str,
    source_url: str = "",
    notes: str = "",
) -> FactorSetChangeRequest:
    """Load a new version of the organisation's own factor set as *pending*: factor lookups use active sets only,
    so nothing changes until a second officer approves, and then only for this organisation (its set overrides
    the global factors of the same zone and year; global sets change only by `manage.py factor_set_global`)."""
    _require(organisation, actor, Capability.MANAGE_FACTORS, "propose factor-set changes")
    reason = _require_reason(reason, "A factor-set change")
    if not factors:
        raise EsgConflict("A factor-set version needs at least one factor.")
    latest = EmissionFactorSet.objects.filter(organisation=organisation, name=name).order_by("-version").first()
    factor_set = factor_set_version_create(
        organisation=organisation,
        name=name,
        kind=kind,
        source=source,
        factors=factors,
        status=FactorSetStatus.PENDING,
        source_url=source_url,
        notes=notes,
    )
    request = FactorSetChangeRequest.objects.create(
        organisation=organisation, factor_set=factor_set, reason=reason, requested_by=actor
    )
    _audit(
        organisation,
        actor,
        "factor_set.change.submit",
        "factor_set",
        factor_set.label,
        _set_state(latest) if latest else None,
        {**_set_state(factor_set), "factors": len(factors)},
        reason,
    )
    return request


def _decision_check(request: FactorSetChangeRequest, actor: User, doing: str) -> None:
    _require(request.organisation, actor, Capability.MANAGE_FACTORS, doing)
    if request.status != ChangeStatus.PENDING:
        raise EsgConflict(f"This change request is already {request.status}.")


@transaction.atomic
def factor_set_change_approve(
    *, request: FactorSetChangeRequest, actor: User, reason: str = ""
) -> FactorSetChangeRequest:
    _decision_check(request, actor, "approve factor-set changes")
    if request.requested_by_id == actor.pk:
        raise PermissionDenied("You proposed this change; another officer must approve it (four-eyes).")
    new = request.factor_set
    # Only this organisation's own earlier versions are superseded: global sets and other tenants' are untouched.
    previous = list(
        EmissionFactorSet.objects.select_for_update().filter(
            organisation=request.organisation, name=new.name, status=FactorSetStatus.ACTIVE
        )
    )
    EmissionFactorSet.objects.filter(pk__in=[p.pk for p in previous]).update(status=FactorSetStatus.SUPERSEDED)
    before = [_set_state(p) for p in previous] + [_set_state(new)]
    new.status = FactorSetStatus.ACTIVE
    new.save(update_fields=["status"])
    request.status, request.decided_by, request.decided_at = ChangeStatus.APPROVED, actor, timezone.now()
    request.decision_reason = reason
    request.save()
    after = [{"set": p.label, "status": FactorSetStatus.SUPERSEDED} for p in previous] + [_set_state(new)]
    _audit(
        request.organisation,
        actor,
        "factor_set.change.approve",
        "factor_set",
        new.label,
        {"sets": before},
        {"sets": after},
        reason,
    )
    return request


@transaction.atomic
def factor_set_change_reject(*, request: FactorSetChangeRequest, actor: User, reason: str) -> FactorSetChangeRequest:
    _decision_check(request, actor, "reject factor-set changes")
    reason = _require_reason(reason, "A rejection")
    # The set keeps its pending status (the registry has no 'rejected'): lookups use active sets only.
    request.status, request.decided_by, request.decided_at = ChangeStatus.REJECTED, actor, timezone.now()
    request.decision_reason = reason
    request.save()
    _audit(
        request.organisation,
        actor,
        "factor_set.change.reject",
        "factor_set",
        request.factor_set.label,
        {"request": ChangeStatus.PENDING},
        {"request": ChangeStatus.REJECTED},
        reason,
    )
    return request
