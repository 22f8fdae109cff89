"""Writes for the ESRS E1 report: generation, signing, restatement, other activities, settings.

Generation (`report_generate`, run by the `reports` Celery queue):
  1. claim the row DRAFT → GENERATING with a conditional update (a second delivery is a no-op);
  2. snapshot the inputs (`report_inputs`) and hash their canonical JSON;
  3. compute the facts (pure), render the PDF and every export;
  4. store each document under MEDIA_ROOT/reports/<org>/<report>/v<version>/ with its SHA-256;
  5. mark READY. Any error marks FAILED with the message.
Signing freezes a READY report: it is never regenerated again, its files are verified against their
hashes on every download, and a later report for the same period is a restated draft that carries the
signed facts as "previously stated" with the reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.forms.models import model_to_dict
from django.utils import timezone

from greenesg.accounts.models import Organisation
from greenesg.accounts.nav_badges import nav_badges_changed
from greenesg.accounts.services import audit_log_write
from greenesg.footprint.ledger import LedgerRow
from greenesg.footprint.other_activity import (
    ActivityFactor,
    ActivityUnpriced,
    OtherActivityValues,
    other_activity_ledger_row,
)
from ingestion import storage
from ingestion.errors import RETRYABLE_ERRORS
from ingestion.jobs import job_error_reason
from ingestion.models import JobStatus
from reports.esrs import exports, facts, periods, preview, render
from reports.esrs import selectors as report_selectors
from reports.models import (
    ArtifactFormat,
    OtherActivity,
    OtherActivityImport,
    Report,
    ReportArtifact,
    ReportStatus,
)

logger = logging.getLogger(__name__)
DOCUMENT_NAMES = {
    ArtifactFormat.PDF: "report.pdf",
    ArtifactFormat.XLSX: "report.xlsx",
    ArtifactFormat.CSV: "tables.csv",
    ArtifactFormat.JSON: "facts.json",
    ArtifactFormat.IXBRL: "report.xhtml",
    ArtifactFormat.LINEAGE: "lineage.csv",
    ArtifactFormat.INPUTS: "inputs.json",
    ArtifactFormat.PREVIEW: "preview.png",
}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ixbrl": "application/xhtml+xml",
    "lineage": "text/csv; charset=utf-8",
    "inputs": "application/json",
    "preview": "image/png",
}


class ReportError(ValueError):
    """A request the report workflow refuses (wrong state, missing reason, bad period)."""


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------------ documents


@dataclass
class Built:
    inputs: dict[str, Any]
    computed: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)


def report_build(
    *, organisation: Organisation, period: periods.Period, restates: Report | None = None, reason: str = ""
) -> Built:
    inputs = report_selectors.report_inputs(organisation=organisation, period=period, restates=restates, reason=reason)
    return Built(inputs=inputs, computed=facts.compute(inputs))


def report_meta(report: Report | None, inputs: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now().isoformat(timespec="seconds")
    if report is None:
        return {
            "status": "live",
            "signed": False,
            "status_label": "Live extract (not stored, not signed)",
            "version": "–",
            "generated_at": now,
            "inputs_sha256": sha256_bytes(canonical_json(inputs)),
        }
    label = "Restated draft" if report.restates_id else "Draft for sign-off"
    return {
        "status": report.status,
        "signed": report.is_signed,
        "status_label": "Signed" if report.is_signed else label,
        "version": report.version,
        "restates": report.restates.version if report.restates else None,
        "generated_at": now,
        "signed_by": report.signed_by.get_username() if report.signed_by else "",
        "signed_at": report.signed_at.isoformat(timespec="seconds") if report.signed_at else "",
        "manifest_sha256": report.manifest_sha256,
        "inputs_sha256": report.inputs_sha256 or sha256_bytes(canonical_json(inputs)),
    }


def lineage_bytes(inputs: dict[str, Any]) -> bytes:
    from greenesg.lib.csv_safe import safe_csv_lines

    header = ["kind", "name", "sha256", "records", "id", "created"]
    rows = [[s[h] for h in header] for s in inputs.get("sources", [])]
    return "".join(safe_csv_lines(header, rows)).encode("utf-8")


def report_document(built: Built, fmt: str) -> bytes:
    """One document of a report, the same bytes for the UI, the CLI and the stored package."""
    if fmt == "pdf":
        context = render.report_context(built.inputs, built.computed, built.meta)
        return render.render_pdf(render.render_html(context))
    if fmt == "html":
        return render.render_html(render.report_context(built.inputs, built.computed, built.meta)).encode("utf-8")
    if fmt == "csv":
        return exports.csv_bytes(built.inputs, built.computed, built.meta)
    if fmt == "xlsx":
        return exports.xlsx_bytes(built.inputs, built.computed, built.meta)
    if fmt == "json":
        return exports.json_bytes(built.inputs, built.computed, built.meta)
    if fmt == "ixbrl":
        return exports.ixbrl_bytes(built.inputs, built.computed, built.meta)
    if fmt == "lineage":
        return lineage_bytes(built.inputs)
    if fmt == "inputs":
        return json.dumps(built.inputs, indent=1, sort_keys=True, default=str).encode("utf-8")
    raise ReportError(f"Unknown format {fmt!r}.")


def _stored_inputs(report: Report) -> dict[str, Any]:
    """The inputs snapshot of a generated report (a queued report has none yet; callers check its status)."""
    if report.inputs is None:
        raise ReportError("This report has not been generated yet.")
    return report.inputs


def report_web_html(*, report: Report, records_url: str) -> str:
    """The stored report as a web page (same inputs, same figures, same status as its documents)."""
    inputs = _stored_inputs(report)
    built = Built(inputs=inputs, computed=facts.compute(inputs), meta=report_meta(report, inputs))
    if report.generated_at:
        built.meta["generated_at"] = report.generated_at.isoformat(timespec="seconds")
    context = render.report_context(built.inputs, built.computed, built.meta, records_url=records_url)
    return render.render_html({**context, "web": True})


def xlsx_available() -> bool:
    try:
        import xlsxwriter  # noqa: F401
    except ImportError:
        return False
    return True


# ----------------------------------------------------------------------------------------- workflow


@transaction.atomic
def report_create(*, organisation: Organisation, period_text: str, user: User | None, reason: str = "") -> Report:
    """A new report row for a period, queued for generation on commit.

    When a signed report exists for the period, the new one is a restated draft and needs a reason.
    """
    try:
        period = report_selectors.report_period_parse(organisation=organisation, text=period_text)
    except periods.InvalidPeriod as exc:
        raise ReportError(str(exc)) from exc
    signed = report_selectors.latest_signed_report(organisation=organisation, period_label=period.label)
    reason = (reason or "").strip()
    if signed is not None and not reason:
        raise ReportError(f"{period.label} has a signed report: a restated draft needs a reason.")
    version = Report.objects.filter(organisation=organisation, period=period.label).count() + 1
    report = Report.objects.create(
        organisation=organisation,
        period=period.label,
        created_by=user,
        version=version,
        restates=signed,
        restatement_reason=reason if signed is not None else "",
        stage="queued",
    )
    audit_log_write(
        organisation=organisation,
        actor=user,
        action="report.create",
        object_type="esrs_report",
        object_id=str(report.pk),
        after={"period": report.period, "version": version, "restates": signed.pk if signed else None},
        reason=reason,
    )
    from reports.tasks import report_generate as report_generate_task

    # robust: the report row is committed whatever happens here; if the broker refuses the message (Redis down),
    # report_queue_reconcile publishes it again, so the officer gets the report page, not a 500.
    transaction.on_commit(lambda: report_generate_task.delay(report.pk), robust=True)
    return report


def report_queue_reconcile() -> list[int]:
    """Re-publish reports still queued a while after they were created (their message was lost).

    Generation claims the row (DRAFT → GENERATING) before doing anything, so a duplicate message does nothing.
    """
    from reports.tasks import report_generate as report_generate_task

    stale = timezone.now() - dt.timedelta(seconds=settings.IMPORT_STALE_PENDING_SECONDS)
    ids = list(
        Report.objects.filter(status=ReportStatus.DRAFT, stage="queued", created_at__lt=stale).values_list(
            "pk", flat=True
        )[:100]
    )
    for report_id in ids:
        report_generate_task.delay(report_id)
    return ids


def _progress(report_id: int, progress: int, stage: str) -> None:
    Report.objects.filter(pk=report_id).update(progress=progress, stage=stage)


def _artifact_dir(report: Report) -> Path:
    return Path(settings.MEDIA_ROOT) / "reports" / str(report.organisation_id) / str(report.pk) / f"v{report.version}"


def report_generate(*, report_id: int) -> None:
    """Generate a queued report (see module docstring). Safe to run twice: only one run claims the row."""
    claimed = Report.objects.filter(pk=report_id, status=ReportStatus.DRAFT).update(
        status=ReportStatus.GENERATING, progress=5, stage="reading the ledger"
    )
    if claimed != 1:
        return
    try:
        report = Report.objects.select_related("organisation", "restates", "restates__signed_by").get(pk=report_id)
        _generate(report)
    except RETRYABLE_ERRORS:
        # A database restart or a lost connection is no fault of the report (bench/soak.py restarts PostgreSQL
        # under load): marking it failed would make the officer ask again. Hand the claim back and let the
        # task's retry (or report_queue_reconcile) generate it.
        _report_claim_return(report_id)
        raise
    except Exception as exc:
        logger.exception("report %s failed", report_id)
        Report.objects.filter(pk=report_id).update(
            status=ReportStatus.FAILED, stage="failed", error_message=str(exc)[:2000]
        )


def _report_claim_return(report_id: int, pauses_s: tuple[float, ...] = (1, 2, 4, 8, 16)) -> None:
    """GENERATING → DRAFT/queued after a transient error, retried while the database is still coming back.

    Only this run holds the claim, so nothing else would ever release it: a row left GENERATING is stuck.
    """
    from django.db import connection

    for pause in (*pauses_s, None):
        try:
            if not connection.in_atomic_block:
                connection.close()  # the failed connection may be unusable; the update opens a new one
            Report.objects.filter(pk=report_id, status=ReportStatus.GENERATING).update(
                status=ReportStatus.DRAFT, progress=0, stage="queued"
            )
            return
        except RETRYABLE_ERRORS:
            if pause is None:
                logger.exception("report %s: could not hand its claim back", report_id)
                return
            time.sleep(pause)


def _generate(report: Report) -> None:
    organisation = report.organisation
    period = report_selectors.report_period_parse(organisation=organisation, text=report.period)
    built = report_build(
        organisation=organisation, period=period, restates=report.restates, reason=report.restatement_reason
    )
    inputs_json = canonical_json(built.inputs)
    report.inputs_sha256 = sha256_bytes(inputs_json)
    built.meta = report_meta(report, built.inputs)
    _progress(report.pk, 30, "rendering the PDF")
    formats = [
        ArtifactFormat.PDF,
        ArtifactFormat.CSV,
        ArtifactFormat.JSON,
        ArtifactFormat.IXBRL,
        ArtifactFormat.LINEAGE,
        ArtifactFormat.INPUTS,
    ]
    if xlsx_available():
        formats.insert(1, ArtifactFormat.XLSX)
    folder = _artifact_dir(report)
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for index, fmt in enumerate(formats):
        data = report_document(built, fmt)
        path = folder / DOCUMENT_NAMES[fmt]
        path.write_bytes(data)
        stored.append((fmt, path, sha256_bytes(data), len(data)))
        if fmt == ArtifactFormat.PDF:
            stored += _preview_write(folder, data)
        _progress(report.pk, 30 + int(65 * (index + 1) / len(formats)), f"wrote {fmt}")
    with transaction.atomic():
        ReportArtifact.objects.filter(report=report).delete()
        for fmt, path, digest, size in stored:
            ReportArtifact.objects.create(
                report=report, format=fmt, path=str(path.relative_to(settings.MEDIA_ROOT)), sha256=digest, size=size
            )
        Report.objects.filter(pk=report.pk, status=ReportStatus.GENERATING).update(
            status=ReportStatus.READY,
            progress=100,
            stage="ready",
            generated_at=timezone.now(),
            inputs=built.inputs,
            inputs_sha256=report.inputs_sha256,
            facts={"facts": built.computed["facts"], "notes": built.computed["notes"]},
            factor_versions=sorted(
                {f["factor_version"] for f in built.inputs.get("factors", []) if f["factor_version"]}
            ),
        )
        # READY puts the report in the officers' sign-off queue, which the approvals badge counts; an update()
        # sends no post_save, so the cached counts are invalidated here (the other update()s of this module
        # move reports between states the badge does not count).
        nav_badges_changed(report.organisation_id)


def _preview_write(folder: Path, pdf: bytes) -> list[tuple[ArtifactFormat, Path, str, int]]:
    """The first page of the PDF as a PNG beside it: one stored artifact, none when poppler is missing."""
    png = preview.pdf_first_page_png(pdf)
    if png is None:
        return []
    path = folder / DOCUMENT_NAMES[ArtifactFormat.PREVIEW]
    path.write_bytes(png)
    return [(ArtifactFormat.PREVIEW, path, sha256_bytes(png), len(png))]


def manifest_sha256(report: Report) -> str:
    lines = [f"inputs {report.inputs_sha256}"]
    lines += [f"{a.format} {a.sha256}" for a in report.artifacts.order_by("format")]
    return sha256_bytes("\n".join(lines).encode("utf-8"))


# Documents that state the report's status. The inputs snapshot and the lineage list are evidence: their bytes
# are the same before and after signing, and the signature covers them through the manifest.
STATUS_FORMATS = (
    ArtifactFormat.PDF,
    ArtifactFormat.XLSX,
    ArtifactFormat.CSV,
    ArtifactFormat.JSON,
    ArtifactFormat.IXBRL,
)


@transaction.atomic
def report_sign(*, report: Report, user: User, acknowledged: Iterable[str] = ()) -> Report:
    """Freeze a READY report under a signature that its documents carry.

    1. lock the row, check it is ready, verify every stored document against its SHA-256;
    2. recompute the facts from the stored inputs snapshot: they must be the draft's facts exactly;
    3. re-render every status-bearing document with the signature block (who, when, the inputs' SHA-256) into a
       folder of its own, so the draft's files stay intact if anything below fails; a signed document never
       shares a hash with its draft, which carries a DRAFT watermark;
    4. point the artifacts at the signed files and sign the manifest of all of them; the open items the officer
       acknowledged (signoff.open_items) go into the audit trail with the signature.
    """
    locked = Report.objects.select_for_update(of=("self",)).select_related("restates").get(pk=report.pk)
    if locked.status != ReportStatus.READY:
        raise ReportError(
            f"Only a report ready for sign-off can be signed (this one is {locked.get_status_display()})."
        )
    artifacts = {a.format: a for a in locked.artifacts.all()}
    for artifact in artifacts.values():
        artifact_verify(artifact)
    inputs = _stored_inputs(locked)
    computed = facts.compute(inputs)
    if computed["facts"] != (locked.facts or {}).get("facts"):
        raise ReportError("The stored inputs no longer reproduce the draft's figures: generate the report again.")
    locked.status, locked.signed_by, locked.signed_at = ReportStatus.SIGNED, user, timezone.now()
    built = Built(inputs=inputs, computed=computed, meta=report_meta(locked, inputs))
    if locked.generated_at:
        built.meta["generated_at"] = locked.generated_at.isoformat(timespec="seconds")
    folder = _artifact_dir(locked).with_name(f"v{locked.version}-signed")
    folder.mkdir(parents=True, exist_ok=True)
    for fmt in STATUS_FORMATS:
        if fmt not in artifacts:
            continue
        data = report_document(built, fmt)
        path = folder / DOCUMENT_NAMES[fmt]
        path.write_bytes(data)
        ReportArtifact.objects.filter(pk=artifacts[fmt].pk).update(
            path=str(path.relative_to(settings.MEDIA_ROOT)), sha256=sha256_bytes(data), size=len(data)
        )
        if fmt == ArtifactFormat.PDF:
            _preview_resign(locked, folder, data)
    locked.manifest_sha256 = manifest_sha256(locked)
    locked.save(update_fields=["manifest_sha256", "status", "signed_by", "signed_at"])
    audit_log_write(
        organisation=locked.organisation,
        actor=user,
        action="report.sign",
        object_type="esrs_report",
        object_id=str(locked.pk),
        after={
            "period": locked.period,
            "version": locked.version,
            "manifest_sha256": locked.manifest_sha256,
            "open_items_acknowledged": list(acknowledged),
        },
    )
    return locked


def _preview_resign(report: Report, folder: Path, pdf: bytes) -> None:
    """The preview shows the signed first page (signature block, no DRAFT mark), or none at all: a draft's
    picture must not stand for a signed report."""
    ReportArtifact.objects.filter(report=report, format=ArtifactFormat.PREVIEW).delete()
    for fmt, path, digest, size in _preview_write(folder, pdf):
        ReportArtifact.objects.create(
            report=report, format=fmt, path=str(path.relative_to(settings.MEDIA_ROOT)), sha256=digest, size=size
        )


class ArtifactTampered(RuntimeError):
    pass


def artifact_verify(artifact: ReportArtifact) -> bytes:
    """The stored bytes, after checking them against the recorded SHA-256."""
    path = (Path(settings.MEDIA_ROOT) / artifact.path).resolve()
    if not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve()):
        raise ArtifactTampered("artifact path escapes the media root")
    data = path.read_bytes()
    if sha256_bytes(data) != artifact.sha256:
        raise ArtifactTampered(f"{artifact.format} of report {artifact.report_id} does not match its SHA-256")
    return data


def quarter_close_drafts(*, today: dt.date | None = None) -> list[int]:
    """Queue a draft for each organisation's last closed fiscal quarter if it has no report yet."""
    from reports.models import ReportingSettings

    today = today or timezone.now().date()
    created = []
    for item in ReportingSettings.objects.select_related("organisation"):
        year, quarter = periods.last_closed_quarter(today, item.fiscal_year_start_month)
        label = f"{year}-Q{quarter}"
        if Report.objects.filter(organisation=item.organisation, period=label).exists():
            continue
        report = report_create(organisation=item.organisation, period_text=label, user=None)
        created.append(report.pk)
    return created


# ------------------------------------------------------------------------------------ other activities


def _file_sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _other_ledger_row(activity: OtherActivity) -> LedgerRow:
    """The activity's ledger row (greenesg.footprint.other_activity), refused as a ReportError if unpriced."""
    factor = activity.factor
    values = OtherActivityValues(
        activity_id=activity.pk,
        organisation_id=activity.organisation_id,
        project_id=activity.project_id,
        natural_key=activity.natural_key,
        description=activity.description,
        scope=activity.scope,
        category=activity.category,
        quantity=activity.quantity,
        unit=activity.unit,
        energy_kwh=activity.energy_kwh,
        fuel_type=activity.fuel_type,
        country_iso=activity.country_iso,
        factor=None if factor is None else ActivityFactor(factor.pk, factor.g_co2e_per_kwh, factor.factor_set.label),
        stated_kgco2e=activity.stated_kgco2e,
        stated_source=activity.stated_source,
        evidence_name=activity.evidence_name,
        evidence_sha256=activity.evidence_sha256,
        period_start=activity.period_start,
        period_end=activity.period_end,
        import_name=activity.import_name,
        import_sha256=activity.import_sha256,
        import_row=activity.import_row,
    )
    try:
        return other_activity_ledger_row(values)
    except ActivityUnpriced as exc:
        raise ReportError(str(exc)) from exc


def _ledger_replace(organisation_id: int, natural_key: str, row: LedgerRow | None) -> None:
    from greenesg.footprint.ledger import dashboard_generation_bump, ledger_frame, ledger_write, rollup_refresh
    from greenesg.footprint.models import LedgerEntry

    old = list(
        LedgerEntry.objects.filter(organisation_id=organisation_id, natural_key=natural_key).values_list(
            "project_id", "day"
        )
    )
    LedgerEntry.objects.filter(organisation_id=organisation_id, natural_key=natural_key).delete()
    if row is not None:
        ledger_write(ledger_frame([row]))
    touched = old + ([(row["project_id"], row["day"])] if row is not None else [])
    for project_id, day in touched:
        rollup_refresh(organisation_id=organisation_id, project_ids=[project_id], first_day=day, last_day=day)
    dashboard_generation_bump(organisation_id)


@transaction.atomic
def other_activity_save(
    *,
    activity: OtherActivity,
    user: User | None,
    evidence: UploadedFile | None = None,
) -> OtherActivity:
    """Create or update an activity and its ledger row (natural key other:<id>) in one transaction."""
    creating = activity.pk is None
    before = None if creating else model_to_dict(OtherActivity.objects.get(pk=activity.pk))
    if evidence is not None:
        activity.evidence_sha256 = _file_sha256(evidence)
        activity.evidence_name = (evidence.name or "")[:255]
        activity.evidence.save("evidence", evidence, save=False)
    if activity.created_by_id is None:
        activity.created_by = user
    activity.save()
    _ledger_replace(activity.organisation_id, activity.natural_key, _other_ledger_row(activity))
    after = model_to_dict(activity, exclude=["evidence"])
    audit_log_write(
        organisation=activity.organisation,
        actor=user,
        action="other_activity.create" if creating else "other_activity.update",
        object_type="other_activity",
        object_id=str(activity.pk),
        before=_jsonable(before),
        after=_jsonable(after),
    )
    return activity


LEDGER_BATCH_ROWS = 1000


@transaction.atomic
def other_activities_create(
    *, organisation: Organisation, activities: Iterable[OtherActivity], user: User | None
) -> int:
    """Create new activities (no evidence yet) with their ledger rows; return how many.

    The bulk counterpart of `other_activity_save` for CSV imports: ledger rows are written in batches and
    the rollups are refreshed and the dashboard cache bumped once at the end, not once per row (per-row
    refreshes regrouped a day's growing ledger thousands of times).
    """
    from greenesg.footprint.ledger import dashboard_generation_bump, ledger_frame, ledger_write, rollup_refresh

    rows: list[LedgerRow] = []
    days: set[dt.date] = set()
    projects: set[int | None] = set()
    created = 0
    for activity in activities:
        activity.organisation = organisation
        activity.created_by = activity.created_by or user
        activity.save()
        row = _other_ledger_row(activity)
        rows.append(row)
        days.add(row["day"])
        projects.add(row["project_id"])
        audit_log_write(
            organisation=organisation,
            actor=user,
            action="other_activity.create",
            object_type="other_activity",
            object_id=str(activity.pk),
            after=_jsonable(model_to_dict(activity, exclude=["evidence"])),
        )
        created += 1
        if len(rows) >= LEDGER_BATCH_ROWS:
            ledger_write(ledger_frame(rows))
            rows = []
    if rows:
        ledger_write(ledger_frame(rows))
    if created:
        rollup_refresh(organisation_id=organisation.pk, project_ids=projects, first_day=min(days), last_day=max(days))
        dashboard_generation_bump(organisation.pk)
    return created


@transaction.atomic
def other_activity_delete(*, activity: OtherActivity, user: User | None) -> None:
    _ledger_replace(activity.organisation_id, activity.natural_key, None)
    audit_log_write(
        organisation=activity.organisation,
        actor=user,
        action="other_activity.delete",
        object_type="other_activity",
        object_id=str(activity.pk),
        before=_jsonable(model_to_dict(activity, exclude=["evidence"])),
    )
    activity.delete()


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return json.loads(json.dumps(data, default=str))


# --------------------------------------------------------------------------------------- CSV import

OTHER_CSV_COLUMNS = (
    "description",
    "scope",
    "category",
    "quantity",
    "unit",
    "period_start",
    "period_end",
    "country_iso",
    "factor_zone",
    "stated_kgco2e",
    "stated_source",
    "energy_kwh",
    "fuel_type",
)
MAX_CSV_ROWS = 5000
# A hand-made activity list never has lines or records this long; stopping at them keeps the worker's
# memory bounded whatever the upload contains (a quoted field may span lines, hence the record cap).
MAX_LINE_BYTES = 64 * 1024
MAX_RECORD_BYTES = 256 * 1024
MAX_STORED_ERRORS = 1000
# The lease is renewed every this many rows while the file is read (outside any transaction).
LEASE_RENEW_ROWS = 500
REQUIRED_CSV_COLUMNS = frozenset({"description", "scope", "quantity", "unit", "period_start", "period_end"})
ACTIVE_IMPORT = (JobStatus.PENDING, JobStatus.RUNNING)


class CsvRefused(Exception):
    """The file cannot be read as an activity list (encoding, header, line length): nothing is imported."""

    def __init__(self, message: str, *, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


class _ClaimLost(Exception):
    """Another delivery took the job over (our lease expired): stop without touching it."""


@dataclass(frozen=True)
class ImportSubmission:
    job: OtherActivityImport
    created: bool  # False: the same bytes are waiting, running or already imported


@dataclass
class ParsedActivities:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (line, values) of valid rows
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_total: int = 0
    rows_read: int = 0
    stop_reason: str = ""

    def add_error(self, line: int, column: str, message: str) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append({"line": line, "column": column, "message": message})


class _Lines:
    """Decoded lines of a binary stream, counted, with the line and record length caps.

    Each line is decoded on its own (a UTF-8 multibyte sequence never contains a newline byte), so a
    decoding error names its real line.
    """

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.number = 0
        self.record_bytes = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        raw = self.stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            raise StopIteration
        self.number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise CsvRefused(f"Line {self.number} is longer than {MAX_LINE_BYTES:,} bytes.", line=self.number)
        self.record_bytes += len(raw)
        if self.record_bytes > MAX_RECORD_BYTES:
            raise CsvRefused(f"A record is longer than {MAX_RECORD_BYTES:,} bytes.", line=self.number)
        if self.number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # Excel's UTF-8 byte-order mark
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CsvRefused(f"The file is not UTF-8 text (line {self.number}).", line=self.number) from None


def other_activities_import_submit(
    *,
    organisation: Organisation,
    stored: storage.StoredFile,
    original_name: str,
    user: User | None,
) -> ImportSubmission:
    """Create the import job of a stored upload and enqueue its task on commit.

    The same bytes are imported once: while a job for them waits or runs, or once their activities exist,
    the existing job is returned and the new copy discarded. A failed file may be uploaded again.
    """
    existing = _import_existing(organisation, stored.sha256)
    if existing is not None:
        storage.discard(stored.relative_path)
        return ImportSubmission(job=existing, created=False)
    actor = user if user is not None and user.is_authenticated else None
    try:
        with transaction.atomic():
            job = OtherActivityImport.objects.create(
                organisation=organisation,
                stored_path=stored.relative_path,
                original_name=original_name[:255] or "import.csv",
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                created_by=actor,
            )
            audit_log_write(
                organisation=organisation,
                actor=actor,
                action="other_activity_import.create",
                object_type="other_activity_import",
                object_id=str(job.pk),
                after={"file": job.original_name, "sha256": job.sha256, "size_bytes": job.size_bytes},
            )
            transaction.on_commit(lambda: _import_enqueue(job.pk), robust=True)  # the reconciler covers a refusal
    except IntegrityError:
        # A concurrent upload of the same bytes created its job first (the partial unique constraint).
        storage.discard(stored.relative_path)
        job = OtherActivityImport.objects.get(organisation=organisation, sha256=stored.sha256, status__in=ACTIVE_IMPORT)
        return ImportSubmission(job=job, created=False)
    return ImportSubmission(job=job, created=True)


def _import_existing(organisation: Organisation, sha256: str) -> OtherActivityImport | None:
    jobs = OtherActivityImport.objects.filter(organisation=organisation, sha256=sha256)
    active = jobs.filter(status__in=ACTIVE_IMPORT).first()
    if active is not None:
        return active
    if OtherActivity.objects.filter(organisation=organisation, import_sha256=sha256).exists():
        # None for files imported before imports became jobs: the task then finds the activities itself.
        return jobs.filter(status=JobStatus.DONE).first()
    return None


def _import_enqueue(job_id: int) -> None:
    from reports.tasks import other_activities_import_process as other_activities_import_process_task

    other_activities_import_process_task.delay(job_id)


def other_activities_import_process(*, job_id: int) -> bool:
    """Claim and run one import job; False if there was nothing to claim (done, running elsewhere, missing).

    1. claim PENDING (or RUNNING with an expired lease) → RUNNING with one conditional update;
    2. stream the stored CSV through the row form outside any transaction, renewing the lease;
    3. any invalid row: FAILED with every error (line, column, reason), nothing written;
    4. otherwise, in one transaction: the activities and their ledger rows, then DONE.
    """
    job = _import_claim(job_id)
    if job is None:
        return False
    try:
        _import_run(job)
    except _ClaimLost:
        logger.info("other activities import %s: taken over by another delivery", job_id)
    except RETRYABLE_ERRORS:
        # Transient: hand the claim back so the task's retry can claim it at once (a live lease would make
        # the retry find nothing to claim and leave the job to the reconciler); the attempt stays counted.
        with contextlib.suppress(DatabaseError):
            _import_mine(job).update(status=JobStatus.PENDING, lease_until=None)
        raise
    except Exception as exc:
        logger.exception("other activities import %s failed", job_id)
        with contextlib.suppress(_ClaimLost):
            _import_finish(job, status=JobStatus.FAILED, error_message=f"Internal error: {job_error_reason(exc)}.")
        raise
    return True


def _import_run(job: OtherActivityImport) -> None:
    if job.attempts > settings.IMPORT_MAX_ATTEMPTS or not job.stored_path:
        reason = f"Gave up after {job.attempts - 1} attempts." if job.stored_path else "The uploaded file is gone."
        _import_finish(job, status=JobStatus.FAILED, error_message=reason)
        return
    parsed = _import_parse(job)
    if parsed.errors_total:
        summary = f"{parsed.errors_total} problem(s) found; nothing was imported."
        _import_finish(
            job,
            status=JobStatus.FAILED,
            rows_read=parsed.rows_read,
            errors=parsed.errors,
            errors_total=parsed.errors_total,
            error_message=" ".join(filter(None, [parsed.stop_reason, summary])),
        )
        return
    try:
        _import_publish(job, parsed)
    except ReportError as exc:  # a row the ledger refuses (rolled back): the file is refused
        _import_finish(
            job, status=JobStatus.FAILED, rows_read=parsed.rows_read, error_message=f"{exc} Nothing was imported."
        )


def _import_claim(job_id: int) -> OtherActivityImport | None:
    now = timezone.now()
    claimable = Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, lease_until__lt=now)
    updated = OtherActivityImport.objects.filter(claimable, pk=job_id).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        lease_until=now + dt.timedelta(seconds=settings.IMPORT_LEASE_SECONDS),
        started_at=now,
    )
    if updated != 1:
        return None
    return OtherActivityImport.objects.select_related("organisation", "created_by").get(pk=job_id)


def _import_mine(job: OtherActivityImport) -> Any:
    # Our claim, identified by the attempt number it set: a later claim increments it.
    return OtherActivityImport.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts)


def _import_renew(job: OtherActivityImport, rows_read: int) -> None:
    lease = timezone.now() + dt.timedelta(seconds=settings.IMPORT_LEASE_SECONDS)
    if _import_mine(job).update(lease_until=lease, rows_read=rows_read) != 1:
        raise _ClaimLost


def _import_finish(job: OtherActivityImport, *, status: str, **values: Any) -> None:
    updated = _import_mine(job).update(
        status=status, finished_at=timezone.now(), lease_until=None, stored_path="", **values
    )
    if updated != 1:
        raise _ClaimLost
    path = job.stored_path
    transaction.on_commit(lambda: storage.discard(path))  # the activities keep the file's SHA-256 as lineage
    audit_log_write(
        organisation=job.organisation,
        actor=None,
        actor_label="system",
        action=f"other_activity_import.{status}",
        object_type="other_activity_import",
        object_id=str(job.pk),
        after={key: values[key] for key in ("created_count", "errors_total", "error_message") if key in values},
    )


def _import_parse(job: OtherActivityImport) -> ParsedActivities:
    """Validate every row with the same form as the web page, keeping only the values of valid rows."""
    import csv

    from reports.esrs.forms import OtherActivityRowForm

    parsed = ParsedActivities()
    with open(storage.open_stored(job.stored_path), "rb") as stream:
        lines = _Lines(stream)
        try:
            for line, row in _csv_records(lines, csv.reader(lines)):
                parsed.rows_read += 1
                if parsed.rows_read > MAX_CSV_ROWS:
                    parsed.stop_reason = f"More than {MAX_CSV_ROWS} rows: split the file."
                    parsed.add_error(line, "", parsed.stop_reason)
                    break
                values = {k: (row.get(k) or "").strip() for k in OTHER_CSV_COLUMNS}
                form = OtherActivityRowForm(values, organisation=job.organisation)
                if form.is_valid():
                    parsed.rows.append((line, values))
                for name, messages in form.errors.items():
                    parsed.add_error(line, "" if name == "__all__" else name, " ".join(str(m) for m in messages))
                if parsed.rows_read % LEASE_RENEW_ROWS == 0:
                    _import_renew(job, parsed.rows_read)
        except CsvRefused as exc:
            parsed.stop_reason = str(exc)
            parsed.add_error(exc.line, "", str(exc))
        except csv.Error as exc:
            parsed.stop_reason = f"Line {lines.number}: {exc}."
            parsed.add_error(lines.number, "", str(exc))
    return parsed


def _csv_records(lines: _Lines, reader: Any) -> Iterable[tuple[int, dict[str, str]]]:
    """(first line, values by column) per record; refuses a file whose header lacks a required column."""
    header = [name.strip() for name in next(reader, [])]
    if not header:
        raise CsvRefused("The file is empty.", line=1)
    missing = REQUIRED_CSV_COLUMNS - set(header)
    if missing:
        raise CsvRefused(f"Missing columns: {', '.join(sorted(missing))}.", line=1)
    end = lines.number
    lines.record_bytes = 0
    for values in reader:
        # A quoted value may span lines: the record starts on the line after the previous one ended.
        start, end = end + 1, lines.number
        lines.record_bytes = 0
        if values:  # blank lines are skipped, as csv.DictReader does
            yield start, dict(zip(header, values, strict=False))


def _import_publish(job: OtherActivityImport, parsed: ParsedActivities) -> None:
    with transaction.atomic():
        # Lock our job row: a competing claim waits here and then finds it DONE.
        if _import_mine(job).select_for_update().first() is None:
            raise _ClaimLost
        created = 0
        if not OtherActivity.objects.filter(organisation=job.organisation, import_sha256=job.sha256).exists():
            created = other_activities_create(
                organisation=job.organisation, activities=_import_activities(job, parsed), user=job.created_by
            )
        note = "" if created or not parsed.rows else "Already imported by an earlier upload; nothing changed."
        _import_finish(
            job, status=JobStatus.DONE, rows_read=parsed.rows_read, created_count=created, error_message=note
        )


def _import_activities(job: OtherActivityImport, parsed: ParsedActivities) -> Iterable[OtherActivity]:
    """Unsaved activities of the valid rows, one at a time, with the file's lineage."""
    from reports.esrs.forms import OtherActivityRowForm

    for line, values in parsed.rows:
        form = OtherActivityRowForm(values, organisation=job.organisation)
        if not form.is_valid():  # the registry changed since the first pass: refuse, roll back
            raise ReportError(f"Line {line} is no longer valid: {form.errors.as_text()}")
        activity = form.save(commit=False)
        activity.import_name = job.original_name
        activity.import_sha256 = job.sha256
        activity.import_row = line
        yield activity


def other_activities_import_reconcile() -> list[int]:
    """Re-publish imports whose message was lost (PENDING too long) or whose worker died (lease expired)."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.IMPORT_STALE_PENDING_SECONDS)
    ids = list(
        OtherActivityImport.objects.filter(
            Q(status=JobStatus.PENDING, created_at__lt=stale) | Q(status=JobStatus.RUNNING, lease_until__lt=now)
        ).values_list("pk", flat=True)[:100]
    )
    for job_id in ids:
        _import_enqueue(job_id)
    return ids


# ------------------------------------------------------------------------------------------ settings


@transaction.atomic
def settings_object_save(
    *, instance: Any, user: User | None, organisation: Organisation, evidence: UploadedFile | None = None
) -> Any:
    """Save one settings object (reporting settings, target, revenue, screening, instrument, residual mix)."""
    creating = instance.pk is None
    model = type(instance)
    before = None if creating else model_to_dict(model.objects.get(pk=instance.pk), exclude=["evidence"])
    if evidence is not None and hasattr(instance, "evidence_sha256"):
        instance.evidence_sha256 = _file_sha256(evidence)
        instance.evidence_name = (evidence.name or "")[:255]
        instance.evidence.save("evidence", evidence, save=False)
    if hasattr(instance, "created_by_id") and instance.created_by_id is None:
        instance.created_by = user
    instance.organisation = organisation
    instance.save()
    _market_inputs_changed(model, organisation)
    audit_log_write(
        organisation=organisation,
        actor=user,
        action=f"{model._meta.model_name}.{'create' if creating else 'update'}",
        object_type=model._meta.model_name,
        object_id=str(instance.pk),
        before=_jsonable(before),
        after=_jsonable(model_to_dict(instance, exclude=["evidence"])),
    )
    return instance


@transaction.atomic
def settings_object_delete(*, instance: Any, user: User | None, organisation: Organisation) -> None:
    model = type(instance)
    audit_log_write(
        organisation=organisation,
        actor=user,
        action=f"{model._meta.model_name}.delete",
        object_type=model._meta.model_name,
        object_id=str(instance.pk),
        before=_jsonable(model_to_dict(instance, exclude=["evidence"])),
    )
    instance.delete()
    _market_inputs_changed(model, organisation)


def _market_inputs_changed(model: type, organisation: Organisation) -> None:
    """Dashboards and the summary API show market-based figures computed from instruments and residual mixes
    (reports/dashboards/selectors/totals.py), cached per generation: a change to either must drop those caches like an
    import does."""
    from greenesg.footprint.ledger import dashboard_generation_bump
    from reports.models import ContractualInstrument, ResidualMixFactor

    if model in (ContractualInstrument, ResidualMixFactor):
        dashboard_generation_bump(organisation.pk)


def scope3_screening_save(*, organisation: Organisation, rows: Iterable[dict[str, Any]], user: User | None) -> None:
    from reports.models import Scope3Screening

    with transaction.atomic():
        for row in rows:
            item, _ = Scope3Screening.objects.get_or_create(organisation=organisation, category=row["category"])
            for name in ("included", "reason", "method", "screened_on"):
                setattr(item, name, row.get(name))
            settings_object_save(instance=item, user=user, organisation=organisation)
