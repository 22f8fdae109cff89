"""`manage.py ingest billing PATH... --org ORG [--create]`: synchronous billing import, one job per file.

Each file is stored and submitted like an upload, processed right here instead of by a worker (same job,
same checks, same error report), and the result is printed. Exit status 0 when every file was imported or
already was, 1 when a file was refused or rows were rejected.
"""

from __future__ import annotations

import re
from io import TextIOBase
from pathlib import Path

from greenesg.accounts.models import Organisation
from greenesg.accounts.services import audit_log_write
from ingestion import storage
from ingestion.forms import stored_head
from ingestion.models import BillingDelivery, ImportJob, JobOrigin, JobStatus

MAX_ERROR_LINES = 20
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}")


class BillingCliError(Exception):
    pass


def _organisation(slug: str, *, create: bool) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is not None:
        return organisation
    if not create:
        raise BillingCliError(f"Unknown organisation {slug!r} (use --create to create it).")
    if not SLUG.fullmatch(slug):
        raise BillingCliError(f"Give the organisation as a slug, not {slug!r}.")
    organisation = Organisation.objects.create(slug=slug, name=slug)
    audit_log_write(
        organisation=organisation,
        actor=None,
        actor_label="cli",
        action="organisation.create",
        object_type="organisation",
        object_id=str(organisation.pk),
        after={"slug": slug},
    )
    return organisation


def billing_ingest_cli(paths: list[str], *, org: str, create: bool, stdout: TextIOBase) -> int:
    """Import each file synchronously and print its result; returns the exit status (0 or 1)."""
    try:
        organisation = _organisation(org, create=create)
    except BillingCliError as exc:
        stdout.write(f"{exc}\n")
        return 1
    failed = False
    for raw in paths:
        ok, rejected = _import_one(Path(raw), organisation, stdout)
        failed = failed or not ok or rejected > 0
    return 1 if failed else 0


def _import_one(path: Path, organisation: Organisation, stdout: TextIOBase) -> tuple[bool, int]:
    from ingestion.billing.pipeline import billing_job_submit, billing_upload_problem
    from ingestion.process import import_job_process

    problem = None if path.is_file() else "no such file"
    problem = problem or billing_upload_problem(path.name, stored_head(path))
    if problem:
        stdout.write(f"{path.name}: refused: {problem}\n")
        return False, 0
    try:
        stored = storage.store_path(path)
    except storage.UploadTooLarge as exc:
        stdout.write(f"{path.name}: refused: {exc}\n")
        return False, 0
    submission = billing_job_submit(
        organisation=organisation, origin=JobOrigin.CLI, stored=stored, original_name=path.name, enqueue=False
    )
    job = submission.job
    if not submission.created:
        stdout.write(
            f"{path.name}: already imported (job {job.pk}, {job.get_status_display().lower()}); nothing changed\n"
        )
        return True, 0
    import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    _report(path.name, job, stdout)
    return job.status == JobStatus.DONE, job.rows_rejected


def _report(name: str, job: ImportJob, stdout: TextIOBase) -> None:
    if job.status != JobStatus.DONE:
        stdout.write(f"{name}: refused ({job.get_status_display().lower()}): {job.error_message}\n")
        return
    totals = job.totals or {}
    if "provider_figures" in totals:
        stdout.write(
            f"{name}: done ({job.detected_format}): {job.rows_read} rows read, {job.rows_rejected} rejected, "
            f"{totals['provider_figures']} provider-reported figures kept for reconciliation\n"
        )
        return
    stdout.write(
        f"{name}: done ({job.detected_format}): {job.rows_read} rows read, {job.rows_rejected} rejected, "
        f"{job.records_new} ledger rows, {totals.get('deliveries_replaced', 0)} earlier deliveries replaced\n"
    )
    for delivery in BillingDelivery.objects.filter(job=job).order_by("provider", "account", "month"):
        stdout.write(
            f"  {delivery.provider} {delivery.account} {delivery.month:%Y-%m} ({delivery.status}): "
            f"{delivery.lines} lines, cost {delivery.cost:.2f} {delivery.currency}, "
            f"{delivery.energy_facility_kwh:.3f} kWh, {delivery.kgco2e_location:.3f} kgCO2e location\n"
        )
    for error in job.row_errors.all()[:MAX_ERROR_LINES]:
        value = f" ({error.raw_value!r})" if error.raw_value else ""
        stdout.write(f"  line {error.row}, column {error.column or '-'}: {error.message}{value}\n")
    if job.rows_rejected > MAX_ERROR_LINES:
        stdout.write(f"  … and {job.rows_rejected - MAX_ERROR_LINES} more\n")
