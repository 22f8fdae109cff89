"""Cloud billing imports (issue 3): submit, process (two-phase), restatement, re-attribution, double counting.

A billing job is submitted, claimed, leased and retried by the shared lifecycle (ingestion.jobs); once
claimed, `billing_job_run` does the work:
1. detect the format from the header; a provider carbon export goes to `_carbon_run`;
2. phase one, outside any transaction: stream the file, sum lines per group, estimate, extrapolate;
   a structural error or too many bad rows fails the job with the reader's message and nothing is written;
3. phase two, ONE transaction: per (provider, account, month) the new delivery replaces the active one
   (its ledger rows deleted, the new rows inserted, the old delivery marked superseded), the double-counting
   rule is applied, rollups of both versions are refreshed and the job is marked DONE. Dashboards read
   rollups written in that same transaction, so they never see a mix of two deliveries.

Re-attribution rebuilds the billing ledger rows of an organisation from the stored per-day aggregates
(BillingAggregate), never from the files: rule changes cost seconds, not a re-read of a year of CURs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.utils import timezone

from greenesg.accounts.models import Organisation
from greenesg.footprint import ledger
from greenesg.footprint.factors import factor_lookup
from greenesg.footprint.inventory import inventory_apply
from greenesg.footprint.models import LedgerEntry
from greenesg.footprint.vocabulary import Source
from greenesg.lib.periods import month_end, month_start
from ingestion import storage
from ingestion.billing.attribution import RuleSpec, Share, Subject, shares_for
from ingestion.billing.estimate import (
    LEDGER_METHODS,
    AggregateLike,
    DeliveryContext,
    EstimatedFile,
    GroupEstimate,
    LineAggregator,
    aggregate_fields,
    estimate_groups,
    factor_resolver,
    ledger_rows,
)
from ingestion.billing.readers import (
    BillingFileError,
    Limits,
    ReaderOptions,
    ReadReport,
    detect_file_format,
    iter_billing_batches,
)
from ingestion.billing.readers import read_provider_carbon as read_carbon
from ingestion.billing.readers.formats import FORMATS, FORMATS_BY_KEY, header_key
from ingestion.errors import DATA_ERRORS
from ingestion.hooks import ImportPublished, after_import_on_commit
from ingestion.jobs import (
    ImportRefused,
    ImportRowFailed,
    JobSubmission,
    job_heartbeat,
    job_log_outcome,
    job_mark_done,
    job_refuse,
    job_row_errors_store,
    job_row_from_copy_error,
    job_submit,
    job_test_barrier,
)
from ingestion.models import (
    AttributionRule,
    BillingAggregate,
    BillingDelivery,
    DeliveryStatus,
    ImportJob,
    JobKind,
    ProviderFigure,
)

logger = logging.getLogger(__name__)

# docs/operations.md §5: a billing file is refused when more than 1 % of its rows are bad, or when any
# money cell is bad (a wrong cost would silently distort extrapolation and every cost figure).
MAX_REJECTED_SHARE = 0.01
MONEY_HEADERS = frozenset(
    header_key(alias) for spec in FORMATS for fld in spec.fields if fld.name == "cost" for alias in fld.aliases
)


# ---------------------------------------------------------------------------------------------- submit


def billing_job_submit(
    *,
    organisation: Organisation,
    origin: str,
    stored: storage.StoredFile,
    original_name: str,
    created_by: User | None = None,
    enqueue: bool = True,
) -> JobSubmission:
    """Create an org-level billing job for stored content, or return the job that already has these bytes."""
    return job_submit(
        organisation=organisation,
        project=None,
        kind=JobKind.BILLING,
        origin=origin,
        stored=stored,
        original_name=original_name,
        sha256=stored.sha256,
        created_by=created_by,
        audit_after={"kind": JobKind.BILLING, "origin": origin, "sha256": stored.sha256},
        enqueue=enqueue,
    )


# ---------------------------------------------------------------------------------------------- process


@dataclass
class ParsedBilling:
    report: ReadReport
    estimated: EstimatedFile | None = None
    carbon: list[Any] = field(default_factory=list)


def billing_job_run(job: ImportJob) -> None:
    """Process a claimed billing job (called by ingestion.codecarbon.pipeline.import_job_process)."""
    path = Path(storage.open_stored(job.stored_path))
    try:
        fmt = detect_file_format(path, display_name=job.original_name, limits=reader_options().limits)
        carbon = FORMATS_BY_KEY[fmt].kind == "carbon"
        parsed = _carbon_parse(job, path) if carbon else _billing_parse(job, path)
    except BillingFileError as exc:
        # Raised by format detection, before a row was read.
        job_refuse(job, str(exc), rows_read=0)
        return
    except ImportRefused as exc:
        job_refuse(job, str(exc), rows_read=exc.rows_read)
        return
    try:
        _decide(parsed.report)
    except ImportRefused as exc:
        # The problems that refused the file are its error report.
        report = parsed.report
        job_refuse(job, str(exc), rows_read=exc.rows_read, problems=report.problems, rows_rejected=_bad_rows(report))
        return
    if carbon:
        _carbon_publish(job, parsed)
    else:
        _billing_publish(job, parsed)


def reader_options() -> ReaderOptions:
    """The readers' limits from the settings (the readers themselves import no Django)."""
    return ReaderOptions(
        limits=Limits(
            max_bytes=settings.BILLING_MAX_DECOMPRESSED_BYTES,
            max_ratio=float(settings.BILLING_MAX_COMPRESSION_RATIO),
            max_row_bytes=settings.BILLING_MAX_ROW_BYTES,
        )
    )


def _billing_parse(job: ImportJob, path: Path) -> ParsedBilling:
    report = ReadReport(job.original_name)
    aggregator = LineAggregator()
    try:
        batches = iter_billing_batches(path, display_name=job.original_name, report=report, options=reader_options())
        for batch in batches:
            aggregator.add_batch(batch)
            job_heartbeat(str(job.pk), rows=report.rows_read, stage="reading")
            job_test_barrier(report.rows_read)
    except BillingFileError as exc:
        raise ImportRefused(str(exc), rows_read=report.rows_read) from exc
    job_heartbeat(str(job.pk), rows=report.rows_read, stage="estimating")
    resolve = factor_resolver(factor_lookup(job.organisation_id))
    return ParsedBilling(report=report, estimated=estimate_groups(aggregator, resolve=resolve))


def _bad_rows(report: ReadReport) -> int:
    """Rows with at least one problem. The readers count them in rows_rejected, also past the cap on stored
    problems; counting problems instead would count a row with several bad cells several times."""
    return max(report.rows_rejected, len({p.line for p in report.problems}))


def _decide(report: ReadReport) -> None:
    bad_rows = _bad_rows(report)
    if report.rows_read == 0:
        raise ImportRefused(f"{report.file_name}: the file contains no data rows", rows_read=0)
    money = next((p for p in report.problems if header_key(p.column) in MONEY_HEADERS), None)
    if money is not None:
        raise ImportRefused(
            f"{report.file_name}: line {money.line}, column {money.column}: {money.message} ({money.raw_value!r}). "
            "A bad cost cell refuses the whole billing file; nothing was written.",
            rows_read=report.rows_read,
        )
    if bad_rows and bad_rows / report.rows_read > MAX_REJECTED_SHARE:
        first = report.problems[0]
        raise ImportRefused(
            f"{report.file_name}: {bad_rows} of {report.rows_read} rows are invalid (more than "
            f"{MAX_REJECTED_SHARE:.0%}; first: line {first.line}, {first.column}: {first.message}); "
            "the whole file was refused and nothing was written.",
            rows_read=report.rows_read,
        )


@dataclass
class PublishOutcome:
    rows_written: int = 0
    deliveries_new: int = 0
    deliveries_replaced: int = 0
    deliveries_stale: int = 0
    projects: set[int | None] = field(default_factory=set)
    days: set[dt.date] = field(default_factory=set)


def _billing_publish(job: ImportJob, parsed: ParsedBilling) -> None:
    estimated = parsed.estimated
    assert estimated is not None
    job_heartbeat(str(job.pk), rows=parsed.report.rows_read, stage="writing")
    with transaction.atomic():
        organisation = _lock_organisation(job.organisation_id)
        rules = attribution_rules_load(organisation=organisation)
        outcome = PublishOutcome()
        for (provider, account, month), groups in sorted(estimated.deliveries.items()):
            _delivery_publish(job, provider, account, month, groups, rules, outcome)
        _refresh(organisation.pk, outcome)
        job_row_errors_store(job, parsed.report.problems)
        _job_done(job, parsed.report, estimated, outcome)
        if outcome.days:
            # As a codecarbon import does (dashboards warmed, budgets checked), for each project whose rows
            # changed; `None` stands for the unallocated lines, which the organisation's pages show too.
            for project_id in sorted(outcome.projects, key=lambda pid: (pid is None, pid or 0)):
                after_import_on_commit(
                    ImportPublished(organisation_id=organisation.pk, project_id=project_id, kind=job.kind)
                )


def _lock_organisation(organisation_id: int) -> Organisation:
    # Serialises publishes and re-attributions of one organisation (PostgreSQL; SQLite writes are serial anyway).
    return Organisation.objects.select_for_update().get(pk=organisation_id)


def _delivery_publish(
    job: ImportJob,
    provider: str,
    account: str,
    month: dt.date,
    groups: list[GroupEstimate],
    rules: list[RuleSpec],
    outcome: PublishOutcome,
) -> None:
    """Replace the active delivery of (provider, account, month) by this job's, unless this one is older."""
    active = (
        BillingDelivery.objects.select_related("job")
        .filter(
            organisation_id=job.organisation_id,
            provider=provider,
            account=account,
            month=month,
            status=DeliveryStatus.ACTIVE,
        )
        .first()
    )
    stale = active is not None and active.job.created_at > job.created_at
    if active is not None and not stale:
        outcome.projects |= _delete_delivery_rows(active)
        outcome.days |= _month_days(month)
        active.status, active.superseded_at = DeliveryStatus.SUPERSEDED, timezone.now()
        active.save(update_fields=["status", "superseded_at"])
        outcome.deliveries_replaced += 1
    delivery = _delivery_create(job, provider, account, month, groups, stale=stale, newer=active)
    if active is not None and not stale:
        BillingDelivery.objects.filter(pk=active.pk).update(superseded_by=delivery)
    aggregates = _aggregates_insert(delivery, groups)
    if stale:
        # A delivery submitted before the active one arrived late (a retry): kept for audit, never counted.
        outcome.deliveries_stale += 1
        return
    rows = ledger_rows(_context(delivery), aggregates, _memo_shares(rules))
    _ledger_write(rows)
    outcome.rows_written += len(rows)
    outcome.deliveries_new += 1
    outcome.projects |= {row["project_id"] for row in rows}
    outcome.days |= _month_days(month)


def _delivery_create(
    job: ImportJob,
    provider: str,
    account: str,
    month: dt.date,
    groups: list[GroupEstimate],
    *,
    stale: bool,
    newer: BillingDelivery | None,
) -> BillingDelivery:
    counted = [g for g in groups if g.estimate.method in LEDGER_METHODS]
    unestimated = [g for g in groups if g.estimate.method == "unestimated"]
    unsupported = [g for g in groups if g.estimate.method == "excluded"]
    names = [g.key.account_name for g in groups if g.key.account_name]
    return BillingDelivery.objects.create(
        organisation_id=job.organisation_id,
        job=job,
        provider=provider,
        account=account[:128],
        account_name=(names[0] if names else "")[:200],
        month=month,
        status=DeliveryStatus.SUPERSEDED if stale else DeliveryStatus.ACTIVE,
        superseded_by=newer if stale else None,
        superseded_at=timezone.now() if stale else None,
        source_format=groups[0].estimate.line.source_format[:40] if groups else "",
        lines=sum(g.sums.lines for g in groups),
        cost=sum(g.sums.cost for g in groups),
        currency=next((g.key.currency for g in groups if g.key.currency), "")[:3],
        energy_facility_kwh=sum(g.estimate.facility_kwh or 0.0 for g in counted),
        kgco2e_location=sum(g.estimate.operational_kg or 0.0 for g in counted),
        kgco2e_embodied=sum(g.estimate.embodied_kg or 0.0 for g in counted),
        lines_unestimated=sum(g.sums.lines for g in unestimated),
        cost_unestimated=sum(g.sums.cost for g in unestimated),
        lines_unsupported=sum(g.sums.lines for g in unsupported),
        cost_unsupported=sum(g.sums.cost for g in unsupported),
    )


def _aggregates_insert(delivery: BillingDelivery, groups: list[GroupEstimate]) -> Sequence[AggregateLike]:
    """Store a delivery's aggregates; returns them with their ids (the ledger rows' natural keys use them).

    PostgreSQL: ids drawn from the table's sequence in one query, then one COPY of plain values. Django's
    bulk_create built a model instance per aggregate and adapted every value in Python (2.7 s for the 6,510 daily
    groups of a 100,000-row GCP export, more than parsing the file). SQLite keeps bulk_create.
    """
    rows = [aggregate_fields(g) for g in groups]
    if connection.vendor != "postgresql" or not rows:
        return BillingAggregate.objects.bulk_create(
            [BillingAggregate(delivery=delivery, **row) for row in rows], batch_size=2000
        )
    from psycopg.types.json import Jsonb

    table = BillingAggregate._meta.db_table
    fields_ = [f for f in BillingAggregate._meta.concrete_fields if f.attname != "id"]
    values = {"delivery_id": delivery.pk}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(rows)]
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields_)
        json_fields = {f.name for f in fields_ if isinstance(f, models.JSONField)}
        names = [f.attname if f.attname in rows[0] or f.attname in values else f.name for f in fields_]
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} (id, {columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                cells = [Jsonb(row[n]) if n in json_fields else row.get(n, values.get(n)) for n in names]
                copy.write_row([pk, *cells])
    return [cast(AggregateLike, SimpleNamespace(id=pk, **row)) for pk, row in zip(ids, rows, strict=True)]


def _context(delivery: BillingDelivery) -> DeliveryContext:
    return DeliveryContext(
        organisation_id=delivery.organisation_id,
        delivery_id=delivery.pk,
        job_id=str(delivery.job_id),
        provider=delivery.provider,
        account=delivery.account,
        account_name=delivery.account_name,
    )


def _memo_shares(rules: list[RuleSpec]) -> Any:
    cache: dict[tuple[Any, ...], list[Share]] = {}

    def shares(subject: Subject) -> list[Share]:
        key = (
            subject.provider,
            subject.account,
            subject.account_name,
            subject.resource_group,
            tuple(sorted(subject.tags.items())),
        )
        if key not in cache:
            cache[key] = shares_for(subject, rules)
        return cache[key]

    return shares


def _ledger_write(rows: list[ledger.LedgerRow]) -> None:
    """Hand ledger rows to the ledger writer as the frame it takes."""
    if not rows:
        return
    frame = ledger.ledger_frame(rows)
    for column in ("project_id", "factor_id", "source_row"):
        # Nullable integers: a float column would reach COPY as "3.0", which an integer column refuses.
        frame[column] = frame[column].astype("Int64")
    # Keys lead with a new delivery id, so none can exist yet: the writer may COPY straight into the ledger.
    frame.attrs["has_existing_keys"] = False
    try:
        ledger.ledger_write(frame)
    except DATA_ERRORS as exc:
        # Name the source row when the refused value has one (a row aggregated from many lines has none).
        row = job_row_from_copy_error(exc, frame["source_row"].tolist())
        if row is None:
            raise
        raise ImportRowFailed(str(exc).strip().splitlines()[0], row=row) from exc


def _delete_delivery_rows(delivery: BillingDelivery) -> set[int | None]:
    """Delete a delivery's ledger rows; returns the projects they belonged to (their rollups need refreshing)."""
    rows = LedgerEntry.objects.filter(
        organisation_id=delivery.organisation_id,
        import_job_id=delivery.job_id,
        natural_key__startswith=f"bill:{delivery.pk}:",
    )
    projects: set[int | None] = set(rows.values_list("project_id", flat=True).distinct())
    rows.delete()
    return projects


def _month_days(month: dt.date) -> set[dt.date]:
    """The first and last day of a delivery's month: the range its rows may have touched."""
    return {month_start(month), month_end(month)}


def _refresh(organisation_id: int, outcome: PublishOutcome) -> None:
    if not outcome.days:
        return
    months = {month_start(day) for day in outcome.days}
    touched = inventory_apply(organisation_id=organisation_id, project_ids=outcome.projects, months=months)
    ledger.rollup_refresh(
        organisation_id=organisation_id,
        project_ids=outcome.projects | touched,
        first_day=min(outcome.days),
        last_day=max(outcome.days),
    )
    ledger.dashboard_generation_bump(organisation_id)


def _job_done(job: ImportJob, report: ReadReport, estimated: EstimatedFile, outcome: PublishOutcome) -> None:
    deliveries = list(BillingDelivery.objects.filter(job=job))
    totals = {
        "deliveries": len(deliveries),
        "deliveries_replaced": outcome.deliveries_replaced,
        "deliveries_stale": outcome.deliveries_stale,
        "lines": report.rows_kept,
        "lines_unestimated": estimated.unestimated_lines,
        "lines_unsupported": estimated.unsupported_lines,
        "rows_filtered": dict(report.filtered),
        "buckets": dict(report.buckets),
        "cost": sum(d.cost for d in deliveries),
        "energy_facility_kwh": sum(d.energy_facility_kwh for d in deliveries),
        "kgco2e_location": sum(d.kgco2e_location for d in deliveries),
        "kgco2e_embodied": sum(d.kgco2e_embodied for d in deliveries),
    }
    bad = _bad_rows(report)
    job_mark_done(
        job,
        rows_read=report.rows_read,
        rows_rejected=bad,
        records_new=outcome.rows_written,
        records_updated=outcome.deliveries_replaced,
        records_unchanged=0,
        detected_format=report.format,
        totals=totals,
    )
    job_log_outcome(
        job,
        "import.done",
        {
            "deliveries": len(deliveries),
            "replaced": outcome.deliveries_replaced,
            "ledger_rows": outcome.rows_written,
            "rejected": bad,
        },
    )


# ---------------------------------------------------------------------------------------------- provider carbon


def _carbon_parse(job: ImportJob, path: Path) -> ParsedBilling:
    report = ReadReport(job.original_name)
    try:
        records = list(read_carbon(path, display_name=job.original_name, report=report, options=reader_options()))
    except BillingFileError as exc:
        raise ImportRefused(str(exc), rows_read=report.rows_read) from exc
    job_heartbeat(str(job.pk), rows=report.rows_read, stage="writing")
    return ParsedBilling(report=report, carbon=records)


def _figure_kg(kg: dict[str, float]) -> tuple[float | None, float | None]:
    """(location-based, market-based) kg of a provider record; MCfS rows carry one scope each."""
    location = kg.get("location_based", kg.get("latest_month", kg.get("total")))
    if location is None and kg:
        location = sum(v for k, v in kg.items() if k.startswith("scope") and "market" not in k)
    return location, kg.get("market_based")


def _carbon_publish(job: ImportJob, parsed: ParsedBilling) -> None:
    """Provider figures of a newer import supersede the earlier ones of the same (provider, account, month)."""
    with transaction.atomic():
        _lock_organisation(job.organisation_id)
        figures = [_figure(job, record) for record in parsed.carbon if record.period_start is not None]
        units = {(f.provider, f.account, f.month) for f in figures}
        for provider, account, month in units:
            ProviderFigure.objects.filter(
                organisation_id=job.organisation_id,
                provider=provider,
                account=account,
                month=month,
                status=DeliveryStatus.ACTIVE,
                job__created_at__lt=job.created_at,
            ).update(status=DeliveryStatus.SUPERSEDED)
        ProviderFigure.objects.bulk_create(figures, batch_size=2000)
        job_row_errors_store(job, parsed.report.problems)
        ledger.dashboard_generation_bump(job.organisation_id)
        skipped = len(parsed.carbon) - len(figures)
        job_mark_done(
            job,
            rows_read=parsed.report.rows_read,
            rows_rejected=parsed.report.rows_rejected,
            records_new=len(figures),
            records_updated=0,
            records_unchanged=0,
            detected_format=parsed.report.format,
            totals={
                "provider_figures": len(figures),
                "without_month": skipped,
                "kg_location": sum(f.kg_location or 0.0 for f in figures),
            },
        )
        job_log_outcome(job, "import.done", {"provider_figures": len(figures)})


def _figure(job: ImportJob, record: Any) -> ProviderFigure:
    location, market = _figure_kg(record.kg)
    start = record.period_start
    return ProviderFigure(
        organisation_id=job.organisation_id,
        job=job,
        provider=record.provider,
        account=record.account[:128],
        month=dt.date(start.year, start.month, 1),
        service=record.service[:200],
        region=record.region[:64],
        source_format=record.source_format,
        model_version=record.model_version[:40],
        kg_location=location,
        kg_market=market,
        scopes=dict(record.kg),
        original={k: list(v) for k, v in record.original.items()},
        source_line=record.source_line,
    )


# ---------------------------------------------------------------------------------------------- attribution


def attribution_rules_load(*, organisation: Organisation) -> list[RuleSpec]:
    rules = AttributionRule.objects.filter(organisation=organisation).prefetch_related("targets")
    return [
        RuleSpec(
            id=r.pk,
            provider=r.provider,
            match_field=r.match_field,
            match_value=r.match_value,
            tag_key=r.tag_key,
            targets=tuple((t.project_id, t.percent) for t in r.targets.all()),
        )
        for r in rules
    ]


def billing_reattribute(*, organisation: Organisation) -> int:
    """Rebuild every active delivery's ledger rows under the current rules, in one transaction.

    Returns the number of ledger rows written. Called after every rule change.
    """
    with transaction.atomic():
        organisation = _lock_organisation(organisation.pk)
        shares = _memo_shares(attribution_rules_load(organisation=organisation))
        old = LedgerEntry.objects.filter(organisation=organisation, source=Source.BILLING)
        outcome = PublishOutcome(projects=set(old.values_list("project_id", flat=True).distinct()))
        old.delete()
        deliveries = BillingDelivery.objects.filter(organisation=organisation, status=DeliveryStatus.ACTIVE)
        for delivery in deliveries.iterator():
            rows = ledger_rows(_context(delivery), delivery.aggregates.order_by("id").iterator(), shares)
            _ledger_write(rows)
            outcome.rows_written += len(rows)
            outcome.projects |= {row["project_id"] for row in rows}
            outcome.days |= _month_days(delivery.month)
        _refresh(organisation.pk, outcome)
        return outcome.rows_written


# ---------------------------------------------------------------------------------------------- acceptance

BILLING_SUFFIXES = (".csv", ".csv.gz", ".gz", ".zip", ".parquet")


def billing_upload_problem(name: str, head: bytes) -> str | None:
    """Refuse what cannot be a billing export before a job exists (OWASP upload rules, docs/security.md §5).

    The name must end in .csv, .csv.gz, .gz, .zip or .parquet; the bytes must be gzip, zip, Parquet or
    text. The reader checks
    the rest (format, columns, zip members, decompression bombs) in the worker, never in the request.
    """
    if "\x00" in name or not name.lower().endswith(BILLING_SUFFIXES):
        return "Only billing exports can be imported here: a name ending in .csv, .csv.gz, .zip or .parquet."
    if not head.strip():
        return "The file is empty."
    if head.startswith((b"\x1f\x8b", b"PK\x03\x04", b"\xff\xfe", b"\xfe\xff", b"PAR1")):
        return None
    if b"\x00" in head:
        return "The file is binary, not a CSV, gzip, zip or Parquet file."
    return None
