"""codecarbon imports: parse (streaming, one row per run kept), refuse or publish in one transaction.

The job is claimed and leased by ingestion.process / ingestion.jobs; once claimed, `codecarbon_job_run`:
1. parses the whole file outside any transaction, renewing the lease per chunk and saving progress;
2. refuses the file (FAILED, nothing written) on a structural error or too many bad rows;
3. in ONE transaction: estimates and upserts ledger rows in batches of runs (bounded memory), stores row
   errors, refreshes rollups, marks the job DONE.
A worker killed at any point leaves either nothing or the complete import, so a retry equals a single
clean import.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from greenesg.footprint import ledger
from greenesg.footprint.factors import factor_lookup
from greenesg.footprint.inventory import inventory_apply
from greenesg.lib.periods import month_end, month_start
from ingestion import storage
from ingestion.codecarbon.reader import (
    CodecarbonFormatError,
    RowProblem,
    RunReducer,
    parse_live_record,
    read_codecarbon_csv,
)
from ingestion.codecarbon.to_ledger import ProjectContext, ledger_frame_from_records
from ingestion.errors import DATA_ERRORS, UNIQUE_VIOLATION, ImportKeyRace, database_diagnostics
from ingestion.hooks import ImportPublished, after_import_on_commit
from ingestion.jobs import (
    ImportRefused,
    ImportRowFailed,
    job_heartbeat,
    job_log_outcome,
    job_mark_done,
    job_refuse,
    job_row_errors_store,
    job_row_from_copy_error,
    job_test_barrier,
)
from ingestion.models import ImportJob, JobKind

logger = logging.getLogger(__name__)

# More than this share of bad rows means the file is probably not what the user thinks it is.
MAX_REJECTED_SHARE = 0.5
# Runs estimated and written at a time: the ledger frame (JSON attributes, COPY text) of a whole large file would
# cost several times the reduced records, so it is built and written in slices inside the one transaction.
PUBLISH_BATCH_RUNS = 10_000
# Rows parsed at a time: pandas holds each text cell of a chunk as a Python object (~1.5 KB a row in all), so
# the chunk, not the file, sets the parsing peak; below ~5,000 rows the per-chunk overhead starts to show.
READ_CHUNK_ROWS = 10_000


@dataclass
class ParsedImport:
    runs: RunReducer = field(default_factory=RunReducer)
    problems: list[RowProblem] = field(default_factory=list)
    rows_read: int = 0
    detected_format: str = ""


# ---------------------------------------------------------------------------------------------- process


def codecarbon_job_run(job: ImportJob) -> None:
    """Process a claimed codecarbon file or live record (called by ingestion.process.import_job_process)."""
    try:
        parsed = _parse(job)
    except CodecarbonFormatError as exc:
        job_refuse(job, str(exc), rows_read=0)
        return
    except ImportRefused as exc:
        job_refuse(job, str(exc), rows_read=exc.rows_read)
        return
    try:
        _decide(parsed)
    except ImportRefused as exc:
        # The problems that refused the file are its error report.
        job_refuse(job, str(exc), rows_read=exc.rows_read, problems=parsed.problems, rows_rejected=_bad_rows(parsed))
        return
    _publish(job, parsed)


def _parse(job: ImportJob) -> ParsedImport:
    if job.kind == JobKind.CODECARBON_LIVE:
        parsed = ParsedImport(rows_read=1, detected_format="codecarbon-live")
        parsed.runs.add(parse_live_record(job.payload or {}))
        return parsed
    if job.kind != JobKind.CODECARBON:
        raise ImportRefused(f"{job.original_name}: imports of kind {job.kind!r} are not supported yet")
    parsed = ParsedImport()
    path = storage.open_stored(job.stored_path)
    with open(path, "rb") as stream:
        for chunk in read_codecarbon_csv(stream, filename=job.original_name, chunk_rows=READ_CHUNK_ROWS):
            parsed.rows_read += chunk.rows_read
            parsed.problems.extend(chunk.problems)
            if not chunk.records.empty:
                # Reduced as it comes so memory holds about one row per run, not one per flush.
                parsed.runs.add(chunk.records)
                parsed.detected_format = str(chunk.records["schema"].iloc[0])
            job_heartbeat(str(job.pk), rows=parsed.rows_read, stage="reading")
            job_test_barrier(parsed.rows_read)
    return parsed


def _bad_rows(parsed: ParsedImport) -> int:
    # A row with several bad cells is one bad row: the refusal threshold is a share of rows, not of cells.
    return len({p.line for p in parsed.problems})


def _decide(parsed: ParsedImport) -> None:
    rejected = _bad_rows(parsed)
    accepted = parsed.rows_read - rejected
    if accepted <= 0:
        raise ImportRefused(
            f"no valid rows: all {parsed.rows_read} rows were rejected (first: line {parsed.problems[0].line}, "
            f"{parsed.problems[0].column or 'row'}: {parsed.problems[0].message})"
            if parsed.problems
            else "the file contains no data rows",
            rows_read=parsed.rows_read,
        )
    if rejected and rejected / max(parsed.rows_read, 1) > MAX_REJECTED_SHARE:
        raise ImportRefused(
            f"{rejected} of {parsed.rows_read} rows are invalid (more than {MAX_REJECTED_SHARE:.0%}); "
            "the whole file was refused. Download the error report for the details.",
            rows_read=parsed.rows_read,
        )


def _publish(job: ImportJob, parsed: ParsedImport) -> None:
    project = job.project
    assert project is not None  # codecarbon jobs always belong to a project
    ctx = ProjectContext(
        organisation_id=job.organisation_id,
        project_id=project.pk,
        host_timezone=project.host_timezone,
        infrastructure=project.infrastructure,
        site_pue=project.site_pue,
    )
    lookup = factor_lookup(job.organisation_id)
    # Estimating and writing now alternate per batch inside the transaction; progress is reported before it.
    job_heartbeat(str(job.pk), rows=parsed.rows_read, stage="estimating")
    job_heartbeat(str(job.pk), rows=parsed.rows_read, stage="writing")
    counts = ledger.UpsertCounts()
    days: set[dt.date] = set()
    totals = {"energy_facility_kwh": 0.0, "kgco2e_location": 0.0}
    with transaction.atomic():
        # Batches share the transaction: a failure in any of them leaves nothing, as for a single frame.
        for batch in parsed.runs.batches(PUBLISH_BATCH_RUNS):
            frame = ledger_frame_from_records(batch, ctx=ctx, job_id=str(job.pk), lookup=lookup)
            to_write, batch_counts, old_days = ledger.classify_rows(job.organisation_id, frame)
            _ledger_write(to_write)
            counts = ledger.UpsertCounts(
                new=counts.new + batch_counts.new,
                updated=counts.updated + batch_counts.updated,
                unchanged=counts.unchanged + batch_counts.unchanged,
            )
            days |= set(to_write["day"]) | old_days
            totals["energy_facility_kwh"] += float(frame["energy_facility_kwh"].sum())
            totals["kgco2e_location"] += float(frame["kgco2e_location"].fillna(0.0).sum())
            del batch, frame, to_write  # only one batch's records and ledger frame are alive at a time
        ledger.task_rows_exclude_counted_runs(organisation_id=job.organisation_id, project_ids=[project.pk])
        if _double_counting_apply(job.organisation_id, project.pk, days):
            days |= {month_start(min(days)), month_end(max(days))}
        if days:
            ledger.rollup_refresh(
                organisation_id=job.organisation_id,
                project_ids=[project.pk],
                first_day=min(days),
                last_day=max(days),
            )
            ledger.dashboard_generation_bump(job.organisation_id)
        job_row_errors_store(job, parsed.problems)
        job_mark_done(
            job,
            rows_read=parsed.rows_read,
            rows_rejected=_bad_rows(parsed),
            records_new=counts.new,
            records_updated=counts.updated,
            records_unchanged=counts.unchanged,
            detected_format=parsed.detected_format,
            totals=totals,
        )
        # Budget thresholds and model tags are checked once the import is visible to everyone.
        after_import_on_commit(
            ImportPublished(organisation_id=job.organisation_id, project_id=project.pk, kind=job.kind)
        )
        job_log_outcome(
            job,
            "import.done",
            {
                "new": counts.new,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "rejected": _bad_rows(parsed),
            },
        )


# The ledger's natural-key constraint (greenesg.footprint.models.LedgerEntry).
NATURAL_KEY_CONSTRAINT = "ledger_unique_natural_key"


def _key_race(frame: Any, exc: BaseException) -> bool:
    """True when rows classified as all new met the same natural keys, committed by a concurrent import of
    the same runs between classification and COPY: a race, not bad data."""
    sqlstate, constraint, _ = database_diagnostics(exc)
    return (
        not frame.attrs.get("has_existing_keys", True)
        and sqlstate == UNIQUE_VIOLATION
        and constraint == NATURAL_KEY_CONSTRAINT
    )


def _ledger_write(frame: Any) -> None:
    try:
        ledger.ledger_write(frame)
    except DATA_ERRORS as exc:
        if _key_race(frame, exc):
            raise ImportKeyRace(str(exc).strip().splitlines()[0]) from exc
        _raise_with_row(frame, exc)


def _raise_with_row(frame: Any, exc: Exception) -> None:
    """A value of the file the database refuses fails the same way on every attempt: name its row if known."""
    row = job_row_from_copy_error(exc, frame["source_row"].tolist()) if "source_row" in frame else None
    if row is None:
        raise exc
    raise ImportRowFailed(str(exc).strip().splitlines()[0], row=row) from exc


def _double_counting_apply(organisation_id: int, project_id: int, days: set[dt.date]) -> bool:
    """Where billing covers the same project, provider and month, only the project's chosen source stays
    in the inventory; a codecarbon re-import must not flip its rows back. True when rows changed."""
    if not days:
        return False
    months = {month_start(day) for day in days}
    return bool(inventory_apply(organisation_id=organisation_id, project_ids=[project_id], months=months))
