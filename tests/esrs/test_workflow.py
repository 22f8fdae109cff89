"""Generation on the reports queue, sign-off freezing, restatement, the scheduled quarter-close draft."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from django.conf import settings

from greenesg.footprint.ledger import rollup_refresh
from greenesg.footprint.models import LedgerEntry
from reports.esrs import services as report_services
from reports.models import Report, ReportStatus
from tests.esrs.helpers import pdf_text, row_numbers


def _generate(org, officer, django_capture_on_commit_callbacks, period="2026-Q2", reason=""):
    with django_capture_on_commit_callbacks(execute=True):
        report = report_services.report_create(organisation=org, period_text=period, user=officer, reason=reason)
    report.refresh_from_db()
    return report


def _bytes(report: Report, fmt: str) -> bytes:
    return report_services.artifact_verify(report.artifacts.get(format=fmt))


@pytest.mark.django_db
def test_it_generates_every_document_with_hashes(acme, officer, django_capture_on_commit_callbacks) -> None:
    report = _generate(acme, officer, django_capture_on_commit_callbacks)
    assert report.status == ReportStatus.READY and report.progress == 100
    formats = set(report.artifacts.values_list("format", flat=True))
    assert {"pdf", "csv", "json", "ixbrl", "lineage", "inputs"} <= formats
    for artifact in report.artifacts.all():
        path = Path(settings.MEDIA_ROOT) / artifact.path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == artifact.sha256
        assert f"reports/{acme.pk}/{report.pk}/v1/" in artifact.path
    assert len(report.inputs_sha256) == 64 and report.inputs["period"]["label"] == "2026-Q2"
    assert report.factor_versions == ["test-grid@v1"]


@pytest.mark.django_db
def test_generation_runs_once_and_ignores_missing_rows(acme, officer) -> None:
    report = Report.objects.create(organisation=acme, period="2026-Q1", created_by=officer)
    report_services.report_generate(report_id=report.pk)
    first = {a.format: a.sha256 for a in report.artifacts.all()}
    report_services.report_generate(report_id=report.pk)  # a second delivery claims nothing
    assert {a.format: a.sha256 for a in report.artifacts.all()} == first
    report_services.report_generate(report_id=987654)  # no such row: a no-op


@pytest.mark.django_db
def test_a_failure_marks_the_report_failed(acme, officer, monkeypatch) -> None:
    report = Report.objects.create(organisation=acme, period="2026-Q1", created_by=officer)
    monkeypatch.setattr(report_services.render, "render_pdf", lambda html: (_ for _ in ()).throw(RuntimeError("x")))
    report_services.report_generate(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and "x" in report.error_message


@pytest.mark.django_db
def test_signing_freezes_and_data_changes_produce_a_restated_draft(
    acme, officer, project, django_capture_on_commit_callbacks
) -> None:
    report = _generate(acme, officer, django_capture_on_commit_callbacks)
    signed = report_services.report_sign(report=report, user=officer)
    assert signed.status == ReportStatus.SIGNED and len(signed.manifest_sha256) == 64
    frozen = {fmt: _bytes(signed, fmt) for fmt in ("pdf", "json", "ixbrl", "inputs")}
    with pytest.raises(report_services.ReportError):
        report_services.report_sign(report=signed, user=officer)
    # Later data change: a late codecarbon file adds 10 t to Scope 2 in May.
    LedgerEntry.objects.filter(natural_key="test:fra-2026-5").update(kgco2e_location=10_000.0 + 52.6)
    # ... and, like every import, refreshes the rollups of the days it wrote (the report reads whole months there).
    rollup_refresh(
        organisation_id=acme.pk, project_ids=[project.pk], first_day=dt.date(2026, 5, 15), last_day=dt.date(2026, 5, 15)
    )
    signed.refresh_from_db()
    for fmt, data in frozen.items():
        assert _bytes(signed, fmt) == data  # the signed package never changes
    assert signed.facts["facts"]["e1_6.scope2_location.N"]["value"] == pytest.approx(0.746, abs=1e-3)
    with pytest.raises(report_services.ReportError):  # a restatement needs a reason
        report_services.report_create(organisation=acme, period_text="2026-Q2", user=officer)
    restated = _generate(acme, officer, django_capture_on_commit_callbacks, reason="Late <b>codecarbon</b> file")
    assert restated.restates_id == signed.pk and restated.version == 2 and restated.status == ReportStatus.READY
    raw = pdf_text(_bytes(restated, "pdf"))
    text = " ".join(raw.split())
    assert "previously" in text and "This draft restates version 1" in text
    assert "Late <b>codecarbon</b> file" in text
    # E1-6 row: base, N-1, N as previously stated, N restated, … side by side.
    assert row_numbers(raw, "S2-LB")[:4] == [20.0, 0.746, 0.746, 10.746]


@pytest.mark.django_db
def test_a_tampered_document_is_refused(acme, officer, django_capture_on_commit_callbacks) -> None:
    report = _generate(acme, officer, django_capture_on_commit_callbacks)
    artifact = report.artifacts.get(format="pdf")
    (Path(settings.MEDIA_ROOT) / artifact.path).write_bytes(b"%PDF-forged")
    with pytest.raises(report_services.ArtifactTampered):
        report_services.report_sign(report=report, user=officer)


@pytest.mark.django_db
def test_quarter_close_drafts_once_per_quarter(acme, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = report_services.quarter_close_drafts(today=dt.date(2026, 7, 2))
        again = report_services.quarter_close_drafts(today=dt.date(2026, 7, 3))
    assert len(first) == 1 and again == []
    report = Report.objects.get(pk=first[0])
    assert report.period == "2026-Q2" and report.status == ReportStatus.READY and report.created_by is None


def test_the_task_is_routed_to_the_reports_queue() -> None:
    from reports.tasks import report_generate, report_quarter_close_drafts

    routes = settings.CELERY_TASK_ROUTES
    assert report_generate.name.startswith("reports.tasks.") and "reports.tasks.*" in routes
    assert routes["reports.tasks.*"] == {"queue": "reports"}
    assert report_quarter_close_drafts.name == "reports.tasks.report_quarter_close_drafts"


# ---------------------------------------------------------------------------------------- sign-off (issue 12)


@pytest.mark.django_db
def test_a_draft_says_draft_and_the_signed_pdf_carries_the_signature(
    acme, officer, django_capture_on_commit_callbacks
) -> None:
    report = _generate(acme, officer, django_capture_on_commit_callbacks)
    draft = {a.format: a.sha256 for a in report.artifacts.all()}
    draft_text = pdf_text(_bytes(report, "pdf"))
    # The DRAFT watermark is drawn rotated on every page; its box on the cover is the text pdftotext reads.
    assert "Draft — not signed" in draft_text and "Signed by" not in draft_text
    assert b"DRAFT, not signed" in _bytes(report, "csv")

    signed = report_services.report_sign(report=report, user=officer)

    signed_hashes = {a.format: a.sha256 for a in signed.artifacts.all()}
    for fmt in ("pdf", "csv", "json", "ixbrl"):
        assert signed_hashes[fmt] != draft[fmt], f"the signed {fmt} must not share the draft's hash"
    assert signed_hashes["inputs"] == draft["inputs"] and signed_hashes["lineage"] == draft["lineage"]
    text = " ".join(pdf_text(_bytes(signed, "pdf")).split())
    assert "Draft — not signed" not in text
    assert f"Signed by {officer.get_username()}" in text
    assert signed.inputs_sha256[:16] in text.replace(" ", "")
    # The package hash covers the PDF's own bytes, so the PDF cannot print it: it says where it is recorded
    # instead of an empty "package SHA-256 ." (seen in the demo's signed report).
    assert "package SHA-256 ." not in text and "recorded with the signature" in text
    assert b"Signed by" in _bytes(signed, "csv") and b"DRAFT" not in _bytes(signed, "csv")


@pytest.mark.django_db
def test_signing_refuses_inputs_that_no_longer_reproduce_the_figures(
    acme, officer, django_capture_on_commit_callbacks
) -> None:
    report = _generate(acme, officer, django_capture_on_commit_callbacks)
    inputs = report.inputs
    inputs["ledger"] = inputs["ledger"][1:]
    Report.objects.filter(pk=report.pk).update(inputs=inputs)
    report.refresh_from_db()

    with pytest.raises(report_services.ReportError, match="reproduce"):
        report_services.report_sign(report=report, user=officer)
    report.refresh_from_db()
    assert report.status == ReportStatus.READY


@pytest.mark.django_db
def test_the_open_items_are_listed_and_kept_in_the_audit_trail(
    acme, officer, django_capture_on_commit_callbacks
) -> None:
    from greenesg.accounts.models import AuditLog
    from reports.esrs import selectors as report_selectors

    report = _generate(acme, officer, django_capture_on_commit_callbacks)
    codes = [item.code for item in report_selectors.report_open_items(report=report)]

    report_services.report_sign(report=report, user=officer, acknowledged=codes)

    entry = AuditLog.objects.get(action="report.sign", object_id=str(report.pk))
    assert entry.after["open_items_acknowledged"] == codes
