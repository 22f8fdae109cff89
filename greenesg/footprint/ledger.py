"""Bulk writes to the ledger and its daily rollup.

Importers build `LedgerRow`s (the schema, once) and hand over a pandas frame with exactly its columns
in its order, `LEDGER_COLUMNS` (`flags` and `attributes` as JSON text); the writer checks that before it
writes. The ledger upserts on (organisation, natural_key): a record seen again replaces its earlier
values only when it covers a longer duration (a later cumulative codecarbon flush), so re-importing a
file, or a grown file, never double counts. On PostgreSQL the frame is COPYed as CSV into a temporary
table and merged with one INSERT … ON CONFLICT; on SQLite the same upsert runs through executemany.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from django.db import connection
from django.db.models import ForeignKey

from greenesg.footprint.models import LedgerDaily, LedgerEntry, LedgerMonthly, Source
from greenesg.footprint.report_rollup import REPORT_DIMENSIONS, REPORT_FLAGS, REPORT_MARKET, report_rollup_refresh
from greenesg.lib.generations import generation, generation_bump_on_commit
from greenesg.lib.periods import month_end, month_start

LEDGER_TABLE = LedgerEntry._meta.db_table
DAILY_TABLE = LedgerDaily._meta.db_table
MONTHLY_TABLE = LedgerMonthly._meta.db_table


class LedgerRow(TypedDict):
    """One ledger row as the importers build it: the ledger's schema, spelled out once.

    Every builder (codecarbon frames, billing aggregates, other activities) produces exactly these keys,
    and the bulk writer sends exactly these columns (plus ``updated_at``, which it fills). ``id`` is the
    database's. In a frame, ``flags`` and ``attributes`` travel as JSON text (see ``ledger_frame``).
    """

    organisation_id: int
    project_id: int | None  # None: the visible "Unallocated" bucket of billing lines no rule matched
    natural_key: str
    source: str  # a Source value
    period_start: dt.datetime
    period_end: dt.datetime
    day: dt.date
    experiment: str
    run_id: str
    provider: str
    region: str
    country_iso: str
    service: str
    resource_category: str
    usage_amount: float | None
    usage_unit: str
    duration_s: float | None
    energy_it_kwh: float
    energy_facility_kwh: float
    kgco2e_location: float | None
    kgco2e_market: float | None
    kgco2e_embodied: float
    water_l: float
    cost: float | None
    currency: str
    scope: int
    category: str
    method: str  # a Method value
    pue_applied: float
    factor_id: int | None
    factor_g_per_kwh: float | None
    factor_version: str
    market_factor_g_per_kwh: float | None
    market_basis: str
    flags: list[str] | str
    in_inventory: bool
    import_job_id: str | None
    source_row: int | None
    attributes: dict[str, Any] | str
    # codecarbon runs only (LedgerEntry's comments say why these are columns, not attributes); missing is null.
    machine_id: NotRequired[int | None]
    cpu_energy_kwh: NotRequired[float | None]
    gpu_energy_kwh: NotRequired[float | None]
    ram_energy_kwh: NotRequired[float | None]
    cpu_utilization_percent: NotRequired[float | None]
    gpu_utilization_percent: NotRequired[float | None]
    ram_utilization_percent: NotRequired[float | None]
    ram_used_gb: NotRequired[float | None]
    source_energy_kwh: NotRequired[float | None]
    source_kgco2e: NotRequired[float | None]


# The columns in LedgerRow's order: what every importer frame holds and what the writer sends.
LEDGER_COLUMNS: tuple[str, ...] = tuple(LedgerRow.__annotations__)
# The NotRequired columns, the last ten (with postponed annotations TypedDict cannot tell which keys are required).
CODECARBON_RUN_COLUMNS = LEDGER_COLUMNS[LEDGER_COLUMNS.index("machine_id") :]
_KEY_COLUMNS = ("organisation_id", "natural_key")
_JSON_COLUMNS = frozenset({"flags", "attributes"})


@dataclass
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


def ledger_frame(rows: Iterable[LedgerRow]) -> Any:
    """Build a ledger frame from ledger rows (for importers that produce few rows)."""
    import json

    import pandas as pd

    # A list (pandas lists an iterable anyway): the stubs take a sequence of rows, not an iterable of TypedDicts.
    frame = pd.DataFrame(list(rows), columns=list(LEDGER_COLUMNS))
    for column, empty in (("flags", []), ("attributes", {})):
        frame[column] = [
            json.dumps(v if v is not None else empty) if not isinstance(v, str) else v for v in frame[column]
        ]
    return frame


def ledger_columns_check(frame: Any) -> Any:
    """Return the frame if its columns are exactly LEDGER_COLUMNS in that order, else refuse it.

    The SQLite writer binds values by position, so a frame with a column missing, added or moved would
    store values under the wrong names instead of failing.
    """
    columns = tuple(frame.columns)
    if columns != LEDGER_COLUMNS:
        missing = [c for c in LEDGER_COLUMNS if c not in columns]
        unexpected = [c for c in columns if c not in LEDGER_COLUMNS]
        raise ValueError(
            f"ledger frame columns differ from LedgerRow: missing {missing}, unexpected {unexpected}"
            + ("" if missing or unexpected else ", order differs")
        )
    return frame


def _existing(organisation_id: int, keys: list[str]) -> Any:
    import pandas as pd

    found: list[tuple[str, float | None, dt.date]] = []
    if not LedgerEntry.objects.filter(organisation_id=organisation_id).exists():
        return pd.DataFrame(found, columns=["natural_key", "old_duration", "old_day"])
    batch_size = 20_000 if connection.vendor == "postgresql" else 900  # SQLite caps bound parameters
    for start in range(0, len(keys), batch_size):
        batch = keys[start : start + batch_size]
        found.extend(
            LedgerEntry.objects.filter(organisation_id=organisation_id, natural_key__in=batch).values_list(
                "natural_key", "duration_s", "day"
            )
        )
    return pd.DataFrame(found, columns=["natural_key", "old_duration", "old_day"])


def classify_rows(organisation_id: int, frame: Any) -> tuple[Any, UpsertCounts, set[dt.date]]:
    """Split a ledger frame into the rows to write (new or longer) and count the unchanged ones.

    Returns the rows to write, the counts and the days an update moves a record away from.
    """
    existing = _existing(organisation_id, frame["natural_key"].tolist())
    if existing.empty:
        frame = frame.copy()
        frame.attrs["has_existing_keys"] = False
        return frame, UpsertCounts(new=len(frame)), set()
    merged = frame.merge(existing, on="natural_key", how="left")
    is_new = merged["old_day"].isna()
    longer = merged["duration_s"].fillna(0.0) > merged["old_duration"].fillna(0.0)
    write = is_new | longer
    counts = UpsertCounts(new=int(is_new.sum()), updated=int((~is_new & longer).sum()), unchanged=int((~write).sum()))
    old_days = set(merged.loc[~is_new & longer, "old_day"])
    return frame[write.to_numpy()], counts, old_days


def _upsert_sql(source_table: str | None) -> str:
    columns = (*LEDGER_COLUMNS, "updated_at")
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in _KEY_COLUMNS)
    condition = f"COALESCE(excluded.duration_s, 0) > COALESCE({LEDGER_TABLE}.duration_s, 0)"
    if source_table is None:
        values = f"VALUES ({', '.join(['%s'] * len(columns))})"
    else:
        # "WHERE true" keeps INSERT … SELECT … ON CONFLICT unambiguous for the parser.
        values = f"SELECT {names} FROM {source_table} WHERE true"
    return (
        f"INSERT INTO {LEDGER_TABLE} ({names}) {values} "
        f"ON CONFLICT (organisation_id, natural_key) DO UPDATE SET {updates} WHERE {condition}"
    )


def _insert_sql(source_table: str) -> str:
    """Every row of `source_table` is new: a plain INSERT, without the per-row conflict arbitration of the upsert
    (0.5-0.8 s of 3-4 s for 100,000 rows into the ledger, measured with psql in one session)."""
    names = ", ".join((*LEDGER_COLUMNS, "updated_at"))
    return f"INSERT INTO {LEDGER_TABLE} ({names}) SELECT {names} FROM {source_table}"


def ledger_write(frame: Any) -> None:
    """Upsert a ledger frame. Call inside the import's transaction."""
    ledger_columns_check(frame)
    if frame.empty:
        return
    now = dt.datetime.now(dt.UTC)
    if connection.vendor == "postgresql":
        _write_copy(frame, now)
    else:
        _write_sqlite(frame, now)


def _write_sqlite(frame: Any, now: dt.datetime) -> None:
    import pandas as pd

    data = frame.assign(updated_at=pd.Timestamp(now))
    with connection.cursor() as cursor:
        cursor.executemany(_upsert_sql(None), _sqlite_values(data, (*LEDGER_COLUMNS, "updated_at")))


def _sqlite_values(frame: Any, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Rows to bind on SQLite, in the text forms Django stores for datetimes, dates and UUIDs (lookups would
    miss otherwise)."""
    import uuid

    import pandas as pd

    for column in LEDGER_COLUMNS:
        if _arrow_type(column) == "string":
            _refuse_nul(column, _arrow_column(frame[column], column))
    data = frame[list(columns)].copy()
    ops = connection.ops
    for column in ("period_start", "period_end", "updated_at"):
        data[column] = data[column].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    data["day"] = data["day"].map(ops.adapt_datefield_value)
    data["import_job_id"] = data["import_job_id"].map(lambda v: None if pd.isna(v) else uuid.UUID(str(v)).hex)
    data["in_inventory"] = data["in_inventory"].astype(bool)
    return list(data.astype(object).where(data.notna(), None).itertuples(index=False, name=None))


def _arrow_type(column: str) -> Any:
    """The Arrow type of a ledger column, read from the model so the two can never drift apart."""
    import pyarrow as pa

    if column == "updated_at":
        return pa.timestamp("us", tz="UTC")
    if column in _STAGE_EXTRA:  # the stage's own ordering columns
        return pa.int64() if column == "seq" else pa.float64()
    field = LedgerEntry._meta.get_field(column)  # also finds foreign keys by their "_id" column
    if isinstance(field, ForeignKey):  # the ledger's only relations are foreign keys
        field = field.target_field
    kind = field.get_internal_type()
    if kind == "FloatField":
        return pa.float64()
    if kind.endswith(("AutoField", "IntegerField")):
        return pa.int64()
    if kind == "BooleanField":
        return pa.bool_()
    if kind == "DateField":
        return pa.date32()
    if kind == "DateTimeField":
        return pa.timestamp("us", tz="UTC")
    return pa.string()  # CharField, JSONField (already JSON text), UUIDField


def _arrow_column(series: Any, column: str) -> Any:
    """One frame column as an Arrow array of its ledger type; NaN and None become null."""
    import pandas as pd
    import pyarrow as pa

    kind = _arrow_type(column)
    if pa.types.is_string(kind):
        try:
            return pa.array(series, type=kind, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # Mixed objects (UUIDs, numbers): their text form, as the SQLite path binds them.
            texts = [None if pd.isna(v) else str(v) for v in series.tolist()]
            return pa.array(texts, type=kind)
    if pa.types.is_int64(kind):
        return pa.array(pd.array(series, dtype="Int64"), type=kind)
    if pa.types.is_float64(kind):
        return pa.array(pd.to_numeric(series).astype("float64"), type=kind, from_pandas=True)
    if pa.types.is_timestamp(kind):
        # Microseconds are the database's precision: truncate as the text writer did.
        return pa.array(series, from_pandas=True).cast(kind, safe=False)
    return pa.array(series, type=kind, from_pandas=True)


def _ledger_table(frame: Any, columns: tuple[str, ...]) -> Any:
    """The frame as an Arrow table with the ledger's types (text is checked for NUL by the caller)."""
    import pyarrow as pa

    arrays = [_arrow_column(frame[c], c) for c in columns]
    return pa.Table.from_arrays(arrays, names=list(columns))


def _refuse_nul_columns(table: Any) -> None:
    for column, array in zip(table.column_names, table.columns, strict=True):
        _refuse_nul(column, array)


def _refuse_nul(column: str, array: Any) -> None:
    """PostgreSQL text and jsonb cannot hold NUL. The readers reject such cells as row errors, so one
    reaching the writer is a bug upstream: say which column, on both databases, instead of a COPY error."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_string(array.type):
        return
    found = pc.any(pc.match_substring(array, "\x00")).as_py()
    # JSON text spells NUL as the escape \u0000 (an odd number of backslashes before "u0000"). The regex costs a
    # tenth of a second per 100,000 attribute objects: only run it when the plain text "\u0000" occurs at all.
    if column in _JSON_COLUMNS and not found and pc.any(pc.match_substring(array, "\\u0000")).as_py():
        found = pc.any(pc.match_substring_regex(array, r"(^|[^\\])(\\\\)*\\u0000")).as_py()
    if found:
        raise ValueError(f"ledger column {column} holds a NUL character; the importer must reject that row")


def _copy_chunks(frame: Any, columns: tuple[str, ...], rows: int = 10_000) -> Any:
    """CSV for COPY … (FORMAT csv) in slices, so the server indexes one slice while we format the next.

    Every non-null value is quoted (`all_valid`), null is the unquoted empty field: no cell can end its
    row or column early, whatever it holds (TAB, CR, LF, quotes, backslash, "\\N", "\\."). A row always
    starts with a quote, so PostgreSQL never reads a cell as the end-of-data marker.
    """
    return _copy_blocks(_ledger_table(frame, columns), rows)


def _copy_blocks(table: Any, rows: int = 10_000) -> Any:
    """`_copy_chunks` of a table already in the ledger's Arrow types."""
    import io

    import pyarrow.csv as pa_csv

    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
    for start in range(0, table.num_rows, rows):
        out = io.BytesIO()
        part = table.slice(start, rows)
        pa_csv.write_csv(part, out, options)
        block = out.getvalue()
        # Text PostgreSQL cannot store shows in the CSV as a NUL byte or a JSON "\u0000" escape: two byte searches
        # of the block, where checking each text column took half a second per 100,000 rows. Only then is each
        # column checked, to name it (and to tell an escaped backslash before "u0000" from a real escape). Blocks
        # already sent go with the COPY, which fails as a whole.
        if b"\x00" in block or b"\\u0000" in block:
            _refuse_nul_columns(part)
        yield block


def _copy_queued(raw_cursor: Any, statement: str) -> Any:
    """A COPY whose blocks are sent by psycopg's writer thread: the server parses and indexes one block while this
    thread formats the next, instead of each waiting for the other (two cores: one for each)."""
    from psycopg.copy import QueuedLibpqWriter

    return raw_cursor.copy(statement, writer=QueuedLibpqWriter(raw_cursor))


def _write_copy(frame: Any, now: dt.datetime) -> None:
    import pandas as pd

    columns = (*LEDGER_COLUMNS, "updated_at")
    data = frame.assign(updated_at=pd.Timestamp(now))
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor: COPY is not part of the DB-API
        if not _has_existing_keys(frame):
            # All rows are new: straight into the ledger. A concurrent import of the same keys makes
            # this fail on the unique constraint, and the job is retried as an upsert.
            with _copy_queued(raw, f"COPY {LEDGER_TABLE} ({names}) FROM STDIN (FORMAT csv)") as copy:
                for block in _copy_chunks(data, columns):
                    copy.write(block)
            return
        # CREATE … AS … WITH NO DATA copies the column types but not the NOT NULL on id.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS ledger_stage ON COMMIT DELETE ROWS AS "
            f"SELECT {names} FROM {LEDGER_TABLE} WITH NO DATA"
        )
        cursor.execute("TRUNCATE ledger_stage")
        with _copy_queued(raw, f"COPY ledger_stage ({names}) FROM STDIN (FORMAT csv)") as copy:
            for block in _copy_chunks(data, columns):
                copy.write(block)
        cursor.execute(_upsert_sql("ledger_stage"))
        cursor.execute("TRUNCATE ledger_stage")


def _has_existing_keys(frame: Any) -> bool:
    return bool(frame.attrs.get("has_existing_keys", True))


# --------------------------------------------------------------------------------------------- staged import

# A session temporary table: rows streamed into it during parsing survive the heartbeat commits (PRESERVE ROWS)
# and vanish with the connection, so a worker that dies mid-file leaves nothing behind.
STAGE_TABLE = "ledger_import_stage"


@dataclass
class StagePublished:
    counts: UpsertCounts
    days: set[dt.date]  # days of the rows written and the days updated rows moved away from
    energy_facility_kwh: float
    kgco2e_location: float


class LedgerStage:
    """One import's ledger rows, streamed batch by batch to the database and published at the end.

    Memory stays one batch whatever the file size: the per-key reduction ("the row with the highest rank wins,
    ties: the later row") runs in the database at publish, as one sort, instead of holding every run in Python.
    The same path serves new and existing organisations: classification (new / longer / unchanged) and the upsert
    both read the stage joined with the ledger's unique key.
    """

    def __init__(self) -> None:
        self._seq = 0
        self.rows = 0
        # What the task-row rule needs to know of the staged rows, kept here so that it reads no extra pass of them.
        self.run_projects: set[int] = set()
        self.has_task_rows = False
        # 64-bit hashes of the keys staged so far (8 bytes per row): while no key can repeat, the per-key reduction
        # at publish has nothing to do and is skipped (it sorted the whole stage: 1.8-2.3 s for 500,000 runs).
        self._key_hashes: Any = None
        self.keys_may_repeat = False
        self._defaults: dict[str, Any] = {}  # the stage columns' DEFAULT values set by this import
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE_TABLE} ON COMMIT PRESERVE ROWS AS "
                    f"SELECT {', '.join(_STAGE_LEDGER_COLUMNS)}, 0::bigint AS seq, 0::float8 AS rank "
                    f"FROM {LEDGER_TABLE} WITH NO DATA"
                )
            else:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE_TABLE} AS "
                    f"SELECT {', '.join(_STAGE_LEDGER_COLUMNS)}, 0 AS seq, 0.0 AS rank FROM {LEDGER_TABLE} WHERE 0"
                )
        self.discard()

    def add(self, frame: Any, *, rank: Any = None) -> None:
        """Stream a ledger frame (LEDGER_COLUMNS) to the stage; `rank` orders duplicate keys (default duration_s)."""
        ledger_columns_check(frame)
        if frame.empty:
            return
        import numpy as np

        ranks = frame["duration_s"] if rank is None else rank
        data = frame.assign(
            updated_at=dt.datetime.now(dt.UTC),
            seq=np.arange(self._seq, self._seq + len(frame), dtype=np.int64),
            rank=np.nan_to_num(np.asarray(ranks, dtype=np.float64), nan=0.0),
        )
        self._seq += len(frame)
        self.rows += len(frame)
        self._key_hashes_add(frame["natural_key"])
        sources = frame["source"]
        self.run_projects.update(
            int(p) for p in frame.loc[sources == Source.CODECARBON, "project_id"].dropna().unique()
        )
        self.has_task_rows = self.has_task_rows or bool((sources == Source.CODECARBON_TASK).any())
        if connection.vendor == "postgresql":
            table = _ledger_table(data, _STAGE_COLUMNS)
            with connection.cursor() as cursor:
                columns = self._constants_as_defaults(cursor, table)
                statement = f"COPY {STAGE_TABLE} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
                with _copy_queued(cursor.cursor, statement) as copy:
                    for block in _copy_blocks(table.select(list(columns))):
                        copy.write(block)
        else:
            values = _sqlite_values(data, _STAGE_COLUMNS)
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {STAGE_TABLE} ({', '.join(_STAGE_COLUMNS)}) "
                    f"VALUES ({', '.join(['%s'] * len(_STAGE_COLUMNS))})",
                    values,
                )

    def _constants_as_defaults(self, cursor: Any, table: Any) -> tuple[str, ...]:
        """The stage columns this batch must send: a column holding one value in every row (the organisation, the
        project, the job, the service, often the factor) becomes the stage column's DEFAULT instead, which COPY
        fills in without parsing it from every row (a tenth to a quarter of the stage's COPY time, measured on
        50,000 runs). The defaults are the stage's own (a temporary table) and reset for each import.

        `table` is the batch in the ledger's Arrow types, the very values the COPY would send: a column is constant
        when all its values are null, or none is and its minimum equals its maximum (one pass in Arrow, where
        comparing each pandas column with its first value took 0.13 s per 50,000 runs)."""
        import pyarrow.compute as pc

        constants: dict[str, Any] = {}
        for column in _STAGE_LEDGER_COLUMNS:
            array = table.column(column)
            if array.null_count == len(array):
                constants[column] = None
            elif array.null_count == 0:
                bounds = pc.min_max(array)
                if bounds["min"] == bounds["max"]:
                    constants[column] = _sql_value(array.slice(0, 1), column)
        changed = {c: v for c, v in constants.items() if self._defaults.get(c, _NO_DEFAULT) != v}
        if changed:
            cursor.execute(
                f"ALTER TABLE {STAGE_TABLE} " + ", ".join(f"ALTER COLUMN {c} SET DEFAULT %s" for c in changed),
                list(changed.values()),
            )
            self._defaults.update(changed)
        return tuple(c for c in _STAGE_COLUMNS if c not in constants)

    def _key_hashes_add(self, keys: Any) -> None:
        """Note whether a key of this batch may already be staged, or appear twice in it (a hash collision only
        costs the reduction it would have skipped). Linear in the keys staged so far, per batch: a binary search
        and one merge into the sorted array (`np.isin` against it took 0.7 s per batch at 500,000 keys)."""
        import numpy as np

        if self.keys_may_repeat:
            return
        # Python's own string hash (salted per process, which is all that is needed here): pandas' hash_array
        # took 0.5 s per 100,000 keys, more than the reduction it saves at that size.
        hashes = np.unique(np.fromiter(map(hash, keys.tolist()), dtype=np.int64, count=len(keys)))
        staged = self._key_hashes if self._key_hashes is not None else np.empty(0, dtype=np.int64)
        positions = np.searchsorted(staged, hashes)
        found = staged[np.minimum(positions, len(staged) - 1)] == hashes if len(staged) else np.zeros(0, bool)
        if len(hashes) < len(keys) or found.any():
            self.keys_may_repeat, self._key_hashes = True, None
            return
        self._key_hashes = np.insert(staged, positions, hashes)

    def publish(self, organisation_id: int) -> StagePublished:
        """Keep one row per key, classify against the ledger, upsert. Call inside the import's transaction."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One publication per organisation at a time (SQLite has a single writer anyway): what the
                # classification finds is then still true when the rows are written, so an import whose keys are all
                # new inserts them without the upsert's conflict arbitration, and its counts are exact.
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_PUBLISH_LOCK, organisation_id])
                _work_mem_raise(cursor)
            # Losers of the per-key reduction leave the stage: everything below reads one row per key.
            if self.keys_may_repeat:
                cursor.execute(
                    f"DELETE FROM {STAGE_TABLE} WHERE seq IN (SELECT seq FROM (SELECT seq, ROW_NUMBER() OVER "
                    f"(PARTITION BY natural_key ORDER BY rank DESC, seq DESC) AS n FROM {STAGE_TABLE}) AS ranked "
                    "WHERE n > 1)"
                )
            # No ANALYZE of the stage: nothing below needs its statistics (the classification's join method is
            # forced, the upsert probes the unique index row by row), and ANALYZE read the whole temporary table
            # through the session's 8 MB of local buffers: 1.5 s of a 200k-row import (cProfile, issue 15).
            published = _stage_classify(cursor, organisation_id)
            no_key_exists = published.counts.updated == published.counts.unchanged == 0
            cursor.execute(_insert_sql(STAGE_TABLE) if no_key_exists else _upsert_sql(STAGE_TABLE))
            if self.has_task_rows:
                _staged_task_rows_exclude(cursor, organisation_id)  # index probes, as planned for the upsert
            if connection.vendor == "postgresql":
                cursor.execute("RESET enable_hashjoin; RESET enable_mergejoin; RESET jit")
            # Planned with hash joins again: one hash of the staged run ids, not one stage scan per task row.
            # Those rows may lie on days (even months) this file does not touch: their rollups are refreshed too.
            published.days |= self._earlier_task_rows_exclude(cursor, organisation_id)
        self.discard()
        return published

    def _earlier_task_rows_exclude(self, cursor: Any, organisation_id: int) -> set[dt.date]:
        """Task rows already in the ledger whose run row this import brings leave the inventory (the second half of
        `task_rows_exclude_counted_runs` for an import; `_staged_task_rows_exclude` is the first).

        Only projects whose daily rollup, still the one from before this import, holds task rows in the inventory
        can have such rows. Task files and run files are imported separately, so most imports read nothing here;
        the others read the project's task rows once. The whole-project rule read the project twice and took 36 s
        of a 1M-row import (cProfile, issue 15 item 3).
        """
        holding_tasks = set(
            LedgerDaily.objects.filter(
                organisation_id=organisation_id,
                project_id__in=self.run_projects,
                source=Source.CODECARBON_TASK,
                in_inventory=True,
            ).values_list("project_id", flat=True)
        )
        days: set[dt.date] = set()
        for project_id in sorted(holding_tasks):
            cursor.execute(
                f"UPDATE {LEDGER_TABLE} SET in_inventory = %s WHERE organisation_id = %s AND project_id = %s "
                f"AND source = %s AND in_inventory AND run_id IN (SELECT run_id FROM {STAGE_TABLE} "
                "WHERE project_id = %s AND source = %s) RETURNING day",
                [False, organisation_id, project_id, Source.CODECARBON_TASK, project_id, Source.CODECARBON],
            )
            days.update(_as_date(day) for (day,) in cursor.fetchall())
        return days

    def discard(self) -> None:
        self._key_hashes, self.keys_may_repeat = None, False
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                cursor.execute(f"DELETE FROM {STAGE_TABLE}")
            else:
                # A new empty file instead of a row-by-row delete (0.2 s after 500,000 runs); only this session uses it.
                cursor.execute(f"TRUNCATE {STAGE_TABLE}")
                # The stage outlives the import on this connection: no batch of the next one may inherit a default.
                drops = ", ".join(f"ALTER COLUMN {c} DROP DEFAULT" for c in _STAGE_LEDGER_COLUMNS)
                cursor.execute(f"ALTER TABLE {STAGE_TABLE} {drops}")
        self._defaults = {}


_NO_DEFAULT = object()


def _sql_value(first: Any, column: str) -> Any:
    """A column's first value (a one-value Arrow array of the ledger's type) as the Python value psycopg quotes
    for a DEFAULT: the same value the COPY text would hold (timestamps already truncated to microseconds)."""
    import pyarrow as pa

    if pa.types.is_string(first.type):
        _refuse_nul(column, first)
    return first[0].as_py()


# The first key of the publication's advisory lock (the second is the organisation): "GEpb" in ASCII.
_PUBLISH_LOCK = 0x47457062
_STAGE_LEDGER_COLUMNS = (*LEDGER_COLUMNS, "updated_at")
_STAGE_EXTRA = ("seq", "rank")
_STAGE_COLUMNS = (*_STAGE_LEDGER_COLUMNS, *_STAGE_EXTRA)
_WRITES = "(l.id IS NULL OR COALESCE(s.duration_s, 0) > COALESCE(l.duration_s, 0))"


def _stage_classify(cursor: Any, organisation_id: int) -> StagePublished:
    """Counts, totals and touched days of the reduced stage against the ledger, in one pass of one join."""
    if connection.vendor == "postgresql":
        # One probe of the unique (organisation, natural_key) index per staged row, as the upsert does next (and
        # with the pages it then finds cached). Left to itself the planner hashes the organisation's whole ledger
        # for a large stage: 8.7 s instead of 2.9 s for 100k runs against 1M rows (EXPLAIN ANALYZE), growing
        # with the ledger. JIT compiling this one-off query costs more than it saves.
        cursor.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL jit = off")
    cursor.execute(
        f"SELECT s.day, CASE WHEN l.id IS NOT NULL AND {_WRITES} THEN l.day END, COUNT(*), "
        f"SUM(CASE WHEN l.id IS NULL THEN 1 ELSE 0 END), SUM(CASE WHEN {_WRITES} THEN 1 ELSE 0 END), "
        f"SUM(s.energy_facility_kwh), SUM(COALESCE(s.kgco2e_location, 0)) "
        f"FROM {STAGE_TABLE} s LEFT JOIN {LEDGER_TABLE} l "
        "ON l.organisation_id = s.organisation_id AND l.natural_key = s.natural_key GROUP BY 1, 2"
    )
    counts, days, energy, kg = UpsertCounts(), set(), 0.0, 0.0
    for day, old_day, total, new, written, group_energy, group_kg in cursor.fetchall():
        counts.new += int(new)
        counts.updated += int(written) - int(new)
        counts.unchanged += int(total) - int(written)
        energy, kg = energy + float(group_energy or 0.0), kg + float(group_kg or 0.0)
        # Rows written touch their day; an update also touches the day its record moves away from.
        if written:
            days.add(_as_date(day))
        if old_day is not None:
            days.add(_as_date(old_day))
    return StagePublished(counts, days, energy, kg)


def _as_date(value: Any) -> dt.date:
    # SQLite's raw cursor returns dates as their ISO text.
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def ledger_analyze(rows_written: int) -> bool:
    """Refresh the planner's statistics after a load that makes them stale; True when it ran.

    Autovacuum analyses a table only minutes later, and until then the classification and rollup queries are
    planned for the table as it was (an organisation's first large import looked empty: 0.5 s queries took 4-7 s).
    ANALYZE samples ~30,000 rows at random, seconds of I/O on a large ledger, so it runs only when the load is a
    large share of the table (autovacuum's own trigger is 10 %) and not for small loads, except into a ledger that has
    no statistics at all: there the next import's classification probed the organisation's day index instead of the
    unique key, once per staged row (100 s instead of 0.1 s for 50,000 runs against 10,000 rows, bench/
    ingest_codecarbon.py run seconds after its seed import), and sampling a small table costs milliseconds.
    """
    if connection.vendor != "postgresql" or rows_written <= 0:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [LEDGER_TABLE])
        if not analyze_needed(rows_written, rows_known=float(cursor.fetchone()[0])):
            return False
        cursor.execute(f"ANALYZE {LEDGER_TABLE} ({', '.join(ANALYZED_COLUMNS)})")
    return True


def analyze_needed(rows_written: int, *, rows_known: float) -> bool:
    """`rows_known` is pg_class.reltuples: -1 before the first ANALYZE, 0 when the indexes were built on the empty
    table; either way the ledger has no statistics yet."""
    if rows_known <= 0:
        return rows_written > 0
    return rows_written >= ANALYZE_AFTER_ROWS and rows_written >= ANALYZE_SHARE * rows_known


# Below this many rows a load does not move the statistics enough to be worth ANALYZE.
ANALYZE_AFTER_ROWS = 20_000
# ... nor when it is a small share of the rows the statistics already describe.
ANALYZE_SHARE = 0.1


def _staged_task_rows_exclude(cursor: Any, organisation_id: int) -> None:
    """Task rows of this import (written, or rewritten into the inventory) whose run row exists leave the inventory.

    The rule held before the import, so these and the earlier task rows of runs this import brings
    (`LedgerStage._earlier_task_rows_exclude`) are all it can break. Each staged task row probes the unique key of
    its own row and of its run's row (derived from its project and run id, see `codecarbon_run_key`).
    """
    run_key = f"'{CODECARBON_RUN_KEY_PREFIX}' || CAST(t.project_id AS TEXT) || ':' || t.run_id"
    cursor.execute(
        f"UPDATE {LEDGER_TABLE} SET in_inventory = %s WHERE id IN (SELECT t.id FROM {STAGE_TABLE} s "
        f"JOIN {LEDGER_TABLE} t ON t.organisation_id = %s AND t.natural_key = s.natural_key "
        f"JOIN {LEDGER_TABLE} r ON r.organisation_id = %s AND r.natural_key = {run_key} "
        "WHERE s.source = %s AND t.in_inventory)",
        [False, organisation_id, organisation_id, Source.CODECARBON_TASK],
    )


# A codecarbon run row's natural key is this prefix, its project id, ":" and its run id (see codecarbon_run_key).
CODECARBON_RUN_KEY_PREFIX = "cc:run:"


def codecarbon_run_key(project_id: int) -> str:
    """The natural key of a project's codecarbon run rows up to the run id: the stage's task rule finds a task
    row's run by this key, through the ledger's unique index."""
    return f"{CODECARBON_RUN_KEY_PREFIX}{project_id}:"


def task_rows_exclude_counted_runs(*, organisation_id: int, project_ids: Iterable[int]) -> set[dt.date]:
    """Task rows cover the same energy as their run's row: keep them out of the inventory then.

    Returns the days of the rows taken out, for the caller's rollup refresh: a task may end on an earlier day (or
    month) than its run, and come from an earlier file than the one being published."""
    ids = list(project_ids)
    if not ids:
        return set()
    runs = LedgerEntry.objects.filter(organisation_id=organisation_id, project_id__in=ids, source=Source.CODECARBON)
    counted = LedgerEntry.objects.filter(
        organisation_id=organisation_id,
        project_id__in=ids,
        source=Source.CODECARBON_TASK,
        in_inventory=True,
        run_id__in=runs.values("run_id"),
    )
    days = {_as_date(day) for day in counted.values_list("day", flat=True).distinct()}
    if days:
        counted.update(in_inventory=False)
    return days


_ROLLUP_DIMENSIONS = (
    "organisation_id",
    "project_id",
    "day",
    "source",
    "provider",
    "region",
    "service",
    "scope",
    "category",
    "method",
    "in_inventory",
)
_ROLLUP_SUMS = (
    "energy_it_kwh",
    "energy_facility_kwh",
    "kgco2e_location",
    "kgco2e_market",
    "kgco2e_embodied",
    "water_l",
    "cost",
)
# The columns the pages, rollups and imports filter, join or group on: ANALYZE after a load samples only these
# (0.53-0.60 s instead of 0.91-1.10 s on 310,000 rows, psql in one session); the others keep their statistics.
ANALYZED_COLUMNS = tuple(
    dict.fromkeys((*_ROLLUP_DIMENSIONS, *REPORT_DIMENSIONS, "natural_key", "run_id", "experiment", "source_row"))
)
# The flag as JSON text: matches `["region_unmapped", …]` on PostgreSQL (jsonb cast) and SQLite alike.
_UNMAPPED_LIKE = '%"region_unmapped"%'


def month_sql(column: str) -> str:
    """SQL for the first day of the month of a date column, on PostgreSQL or SQLite."""
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def rollup_refresh(
    *, organisation_id: int, project_ids: Iterable[int | None], first_day: dt.date, last_day: dt.date
) -> None:
    """Recompute the rollups for some projects and days (inside the import transaction).

    The ledger rows of the whole months touching [first_day, last_day] are read once, grouped at the finest grain
    either rollup needs (a temporary table of a few thousand rows), and then:
    1. Daily: the days [first_day, last_day] are deleted and regrouped, with the `region_unmapped` flag.
    2. Monthly: the whole months touching that range are regrouped from the (now fresh) daily rollup, so a
       partial refresh never leaves a month half-updated.
    3. Report: the same whole months, at the report's grain (report_rollup.py).
    Reading the ledger once instead of twice (daily, then report) took the refresh after a 500,000-run import from
    5.6-5.7 s to 3.6 s (a phase timer around bench/ingest_codecarbon.py's import, one session).
    """
    ids = list(project_ids)
    if not ids:
        return
    real_ids = [i for i in ids if i is not None]
    project_filter = "(project_id IN ({}) {})".format(
        ", ".join(["%s"] * len(real_ids)) or "NULL", "OR project_id IS NULL" if None in ids else ""
    )
    where = f"organisation_id = %s AND {project_filter} AND day BETWEEN %s AND %s"
    params: list[int | dt.date] = [organisation_id, *real_ids, first_day, last_day]
    month_params: list[int | dt.date] = [organisation_id, *real_ids, month_start(first_day), month_end(last_day)]
    dims = ", ".join(_ROLLUP_DIMENSIONS)
    sums = ", ".join(f"COALESCE(SUM({c}), 0)" for c in _ROLLUP_SUMS)
    with connection.cursor() as cursor:
        _work_mem_raise(cursor)
        _grain_fill(cursor, where, month_params)
        cursor.execute(f"DELETE FROM {DAILY_TABLE} WHERE {where}", params)
        cursor.execute(
            f"INSERT INTO {DAILY_TABLE} ({dims}, region_unmapped, records, {', '.join(_ROLLUP_SUMS)}) "
            f"SELECT {dims}, (flags_json LIKE %s), SUM(records), {sums} FROM {_GRAIN_TABLE} "
            f"WHERE day BETWEEN %s AND %s GROUP BY {dims}, (flags_json LIKE %s)",
            [_UNMAPPED_LIKE, first_day, last_day, _UNMAPPED_LIKE],
        )
        _monthly_refresh(cursor, where, month_params)
        report_rollup_refresh(
            organisation_id=organisation_id,
            project_ids=ids,
            first_day=first_day,
            last_day=last_day,
            source=_GRAIN_TABLE,
        )
        cursor.execute(f"DROP TABLE {_GRAIN_TABLE}")


# The ledger grouped once by every dimension of the daily and the report rollups, with each sum either needs.
_GRAIN_TABLE = "ledger_rollup_grain"


def _grain_fill(cursor: Any, where: str, params: list[Any]) -> None:
    dims = ", ".join(dict.fromkeys((*_ROLLUP_DIMENSIONS, *REPORT_DIMENSIONS)))
    sums = ", ".join(f"SUM({c}) AS {c}" for c in _ROLLUP_SUMS)
    cursor.execute(f"DROP TABLE IF EXISTS {_GRAIN_TABLE}")
    postgres = connection.vendor == "postgresql"
    if postgres:
        # Inside an import the planner's statistics do not know the rows it has just written (ANALYZE runs after
        # the commit): expecting one row, it walked the (project, day) index through the heap and sorted the rows
        # on disk, 3.4 s for 500,000 fresh runs. A bitmap scan reads the heap in page order and hashing the few
        # thousand groups needs no sort: 0.8 s (EXPLAIN ANALYZE and a phase timer inside the import of
        # bench/ingest_codecarbon.py's 1M-row file).
        cursor.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_sort = off")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {_GRAIN_TABLE} AS SELECT {dims}, {REPORT_FLAGS} AS flags_json, COUNT(*) AS records, "
        f"{sums}, {REPORT_MARKET} AS report_kgco2e_market FROM {LEDGER_TABLE} WHERE {where} "
        f"GROUP BY {dims}, {REPORT_FLAGS}",
        params,
    )
    if postgres:
        cursor.execute("RESET enable_indexscan; RESET enable_sort")


def _monthly_refresh(cursor: Any, where: str, params: list[Any]) -> None:
    month_dims = [("month", month_sql("day")) if d == "day" else (d, d) for d in _ROLLUP_DIMENSIONS]
    names = ", ".join(name for name, _ in month_dims)
    exprs = ", ".join(expr for _, expr in month_dims)
    sums = ", ".join(f"SUM({c})" for c in ("records", *_ROLLUP_SUMS))
    month_where = where.replace("day BETWEEN", "month BETWEEN")
    cursor.execute(f"DELETE FROM {MONTHLY_TABLE} WHERE {month_where}", params)
    cursor.execute(
        f"INSERT INTO {MONTHLY_TABLE} ({names}, region_unmapped, records, {', '.join(_ROLLUP_SUMS)}) "
        f"SELECT {exprs}, region_unmapped, {sums} FROM {DAILY_TABLE} WHERE {where} "
        f"GROUP BY {exprs}, region_unmapped",
        params,
    )


# Sort and hash memory for an import's own statements (the stage's per-key reduction, the rollup regroupings).
# With the server's default 4 MB the planner, which expects tens of thousands of groups, sorts on disk; here it
# hashes the few hundred groups there really are: the report rollup of 500,000 runs took 2.1-2.3 s with 4 MB and
# 0.8-0.9 s with 64 MB (EXPLAIN ANALYZE, one session). It is a per-node budget, spilled to disk beyond it.
IMPORT_WORK_MEM = "64MB"


def _work_mem_raise(cursor: Any) -> None:
    """For the rest of the current transaction only (SET LOCAL); PostgreSQL only."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT set_config('work_mem', %s, true)", [IMPORT_WORK_MEM])


def _generation_key(organisation_id: int) -> str:
    return f"dashboard-generation:{organisation_id}"


def dashboard_generation(organisation_id: int) -> int:
    return generation(_generation_key(organisation_id))


def dashboard_generation_bump(organisation_id: int) -> None:
    """Invalidate every cached dashboard aggregate of an organisation at once (docs/operations.md §11)."""
    generation_bump_on_commit(_generation_key(organisation_id))
