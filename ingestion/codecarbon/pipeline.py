"""codecarbon imports: parse and stream to the database in bounded batches, refuse or publish in one transaction.

The job is claimed and leased by ingestion.process / ingestion.jobs; once claimed, `codecarbon_job_run`:
1. reads the file in chunks outside any transaction; each chunk is reduced on its own (one row per run), estimated
   and streamed to the ledger stage (a session temporary table), renewing the lease per chunk. Memory holds one
   chunk, whatever the file size; the reduction across chunks happens in the database at publish;
2. refuses the file (FAILED, nothing written, stage emptied) on a structural error or too many bad rows;
3. in ONE transaction: reduces and classifies the stage, upserts it into the ledger (task rows whose run is counted
   leave the inventory there, from the staged rows), stores row errors, refreshes rollups for the touched days,
   marks the job DONE.
A worker killed at any point leaves either nothing (the stage dies with its connection) or the complete import,
so a retry equals a single clean import.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from greenesg.footprint import ledger
from greenesg.footprint.factors import factor_lookup
from greenesg.footprint.inventory import inventory_apply
from greenesg.footprint.machines import MachineIds
from greenesg.lib.periods import month_end, month_start
from greenesg.lib.prefetch import prefetched
from ingestion import storage
from ingestion.codecarbon.reader import (
    CodecarbonFormatError,
    RowProblem,
    chunk_reduce,
    parse_live_record,
    read_codecarbon_csv,
)
from ingestion.codecarbon.to_ledger import ProjectContext, ledger_frame_from_records, machine_descriptions
from ingestion.errors import DATA_ERRORS
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
# Rows parsed, estimated and streamed at a time: pandas holds each text cell of a chunk as an object and the
# ledger frame is as wide again, so the chunks, not the file, set the peak. Two chunks are alive (one estimated
# while the other is written): at 25,000 rows that peaked at 377-405 MB (a worker child holds 150-160 MB before any
# work), over the 400 MB goal; one chunk of 50,000 rows had peaked at 371-393 MB. Below ~10,000 rows the per-chunk
# overhead (one COPY, one methodology pass) starts to show.
READ_CHUNK_ROWS = 16_000


@dataclass
class ParsedImport:
    stage: ledger.LedgerStage
    problems: list[RowProblem] = field(default_factory=list)
    rows_read: int = 0
    detected_format: str = ""


# ---------------------------------------------------------------------------------------------- process


def codecarbon_job_run(job: ImportJob) -> None:
    """Process a claimed codecarbon file or live record (called by ingestion.process.import_job_process)."""
    stage = ledger.LedgerStage()
    try:
        parsed = _parse(job, stage)
    except CodecarbonFormatError as exc:
        stage.discard()
        job_refuse(job, str(exc), rows_read=0)
        return
    except ImportRefused as exc:
        stage.discard()
        job_refuse(job, str(exc), rows_read=exc.rows_read)
        return
    try:
        _decide(parsed)
    except ImportRefused as exc:
        stage.discard()
        # The problems that refused the file are its error report.
        job_refuse(job, str(exc), rows_read=exc.rows_read, problems=parsed.problems, rows_rejected=_bad_rows(parsed))
        return
    _publish(job, parsed)


def _project_context(job: ImportJob) -> ProjectContext:
    project = job.project
    assert project is not None  # codecarbon jobs always belong to a project
    return ProjectContext(
        organisation_id=job.organisation_id,
        project_id=project.pk,
        host_timezone=project.host_timezone,
        infrastructure=project.infrastructure,
        site_pue=project.site_pue,
    )


@dataclass
class _EstimatedChunk:
    """One chunk of the file, read, reduced and estimated: what the stage receives, and what the job counts."""

    rows_read: int
    problems: list[RowProblem]
    detected_format: str
    frame: Any  # ledger rows (LEDGER_COLUMNS), None when the chunk holds no valid row
    rank: Any
    machines: Any = None  # per ledger row, its machine's description (JSON text); the ids are looked up on staging


class _Estimator:
    """Records of one chunk → one row per run → ledger rows. Touches no database (the factor registry is read up
    front), so it can run in the reading thread while the import's connection streams the previous chunk."""

    def __init__(self, job: ImportJob) -> None:
        self.job_id = str(job.pk)
        self.ctx = _project_context(job)
        self.lookup = factor_lookup(job.organisation_id)

    def estimate(self, records: Any, *, rows_read: int, problems: list[RowProblem]) -> _EstimatedChunk:
        if records.empty:
            return _EstimatedChunk(rows_read, problems, "", None, None)
        detected_format = str(records["schema"].iloc[0])
        records = chunk_reduce(records)
        frame = ledger_frame_from_records(records, ctx=self.ctx, job_id=self.job_id, lookup=self.lookup)
        # Per key the longest run row wins (a later cumulative flush); task rows are not cumulative: the later.
        rank = frame["duration_s"].where(records["kind"].to_numpy() == "run", 0.0)
        machines = machine_descriptions(records, self.ctx.host_timezone)
        return _EstimatedChunk(rows_read, problems, detected_format, frame, rank, machines)


def _stage_add(stage: ledger.LedgerStage, machines: MachineIds, chunk: _EstimatedChunk) -> None:
    if chunk.frame is None:
        return
    try:
        # A savepoint: a value the database refuses must not abort an enclosing transaction.
        with transaction.atomic():
            chunk.frame["machine_id"] = machines.ids(chunk.machines)
            stage.add(chunk.frame, rank=chunk.rank)
    except DATA_ERRORS as exc:
        _raise_with_row(chunk.frame, exc)


def _parse(job: ImportJob, stage: ledger.LedgerStage) -> ParsedImport:
    parsed = ParsedImport(stage=stage)
    estimator = _Estimator(job)
    machines = MachineIds(job.organisation_id)
    if job.kind == JobKind.CODECARBON_LIVE:
        parsed.rows_read, parsed.detected_format = 1, "codecarbon-live"
        _stage_add(stage, machines, estimator.estimate(parse_live_record(job.payload or {}), rows_read=1, problems=[]))
        return parsed
    if job.kind != JobKind.CODECARBON:
        raise ImportRefused(f"{job.original_name}: imports of kind {job.kind!r} are not supported yet")
    path = storage.open_stored(job.stored_path)

    def read_and_estimate() -> Iterator[_EstimatedChunk]:
        # Runs in the reading thread, so it must not query: a test pins that the estimator runs none
        # (tests/ingestion/test_codecarbon_write.py), and this thread then never opens a connection of its own.
        with open(path, "rb") as stream:
            for chunk in read_codecarbon_csv(stream, filename=job.original_name, chunk_rows=READ_CHUNK_ROWS):
                yield estimator.estimate(chunk.records, rows_read=chunk.rows_read, problems=chunk.problems)

    # The next chunk is read and estimated in a second thread while this one's COPY runs: Python and the database
    # server each keep one core busy (bench/ingest_codecarbon.py). At most two chunks are alive at a time.
    for estimated in prefetched(read_and_estimate):
        parsed.rows_read += estimated.rows_read
        parsed.problems.extend(estimated.problems)
        parsed.detected_format = estimated.detected_format or parsed.detected_format
        _stage_add(stage, machines, estimated)
        del estimated
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
    job_heartbeat(str(job.pk), rows=parsed.rows_read, stage="writing")
    with transaction.atomic():
        published = parsed.stage.publish(job.organisation_id)
        days = set(published.days)
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
        counts = published.counts
        job_mark_done(
            job,
            rows_read=parsed.rows_read,
            rows_rejected=_bad_rows(parsed),
            records_new=counts.new,
            records_updated=counts.updated,
            records_unchanged=counts.unchanged,
            detected_format=parsed.detected_format,
            totals={"energy_facility_kwh": published.energy_facility_kwh, "kgco2e_location": published.kgco2e_location},
        )
        # Budget thresholds and model tags are checked once the import is visible to everyone.
        after_import_on_commit(
            ImportPublished(organisation_id=job.organisation_id, project_id=project.pk, kind=job.kind)
        )
        # The planner's statistics serve the organisation's next imports and pages, not this publication (its own
        # queries probe indexes): refreshed once the rows are visible, so the user does not wait for the sampling
        # (0.4-0.5 s per large import, bench/ingest_codecarbon.py prints it).
        written = counts.new + counts.updated
        transaction.on_commit(lambda: ledger.ledger_analyze(written))
        outcome = {"new": counts.new, "updated": counts.updated, "unchanged": counts.unchanged}
        job_log_outcome(job, "import.done", outcome | {"rejected": _bad_rows(parsed)})


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
