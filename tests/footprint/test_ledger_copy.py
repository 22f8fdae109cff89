"""The ledger's bulk writer keeps every cell inside its row, its column and the importing project.

Issue 10 item 1: a quoted codecarbon cell holding TAB/LF/backslash used to break PostgreSQL's COPY text
format (some columns skipped escaping), so one organisation's file could add a row to another
organisation's project, or leave the job stuck. These tests run on SQLite by default and on PostgreSQL
when DATABASE_URL points there (CI).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenesg.accounts.models import Project
from greenesg.footprint.ledger import LEDGER_COLUMNS
from greenesg.footprint.models import LedgerEntry
from ingestion import storage
from ingestion.jobs import import_job_submit
from ingestion.models import ImportJob, JobStatus, RowError
from ingestion.process import import_job_process

pytestmark = pytest.mark.django_db(transaction=False)

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "samples"
RUN_FILE = SAMPLES / "emissions_codecarbon_3.3.2.csv"
TASK_FILE = SAMPLES / "emissions_codecarbon_3.3.2_tasks.csv"
STOLEN_KWH = 790_000.0


def _import(project: Project, content: bytes, name: str = "emissions.csv") -> ImportJob:
    stored = storage.store_chunks([content])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="api", stored=stored, original_name=name, enqueue=False
    ).job
    import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    return job


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    return list(reader.fieldnames or []), list(reader)


def _csv(header: list[str], rows: list[dict[str, str]], lineterminator: str = "\n") -> bytes:
    out = io.StringIO()
    # Python's writer quotes a lone CR only when CR is part of the line terminator.
    writer = csv.DictWriter(out, fieldnames=header, lineterminator=lineterminator, quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _copy_line(values: dict[str, str]) -> str:
    """One ledger row in COPY text format (what the old writer produced for a row)."""
    return "\t".join(values[c] for c in (*LEDGER_COLUMNS, "updated_at"))


def _forged_row(victim: Project, key: str) -> dict[str, str]:
    row = {c: "\\N" for c in (*LEDGER_COLUMNS, "updated_at")}
    row.update(
        organisation_id=str(victim.organisation_id),
        project_id=str(victim.pk),
        natural_key=key,
        source="CODECARBON",
        period_start="2026-11-26 17:00:00+00",
        period_end="2026-11-26 17:16:00+00",
        day="2026-11-26",
        experiment="",
        run_id=key,
        provider="",
        region="",
        country_iso="FRA",
        service="CODECARBON",
        resource_category="COMPUTE",
        usage_unit="HOURS",
        energy_it_kwh=str(STOLEN_KWH),
        energy_facility_kwh=str(STOLEN_KWH),
        kgco2e_location="1000",
        kgco2e_market="1000",
        kgco2e_embodied="0",
        water_l="0",
        currency="",
        scope="2",
        category="",
        method="MEASURED",
        pue_applied="1",
        factor_version="",
        market_basis="",
        flags="[]",
        in_inventory="T",
        attributes="{}",
        updated_at="2026-11-26 17:16:00+00",
    )
    return row


def _injecting_country(victim: Project, attacker: Project) -> str:
    """A country_iso_code that, unescaped in COPY text, ends its own row, adds one for the victim and
    re-opens a row whose remaining columns are the genuine rest of the attacker's row."""
    own_tail = _forged_row(attacker, "CC:RUN:X-TAIL")
    tail_columns = (*LEDGER_COLUMNS, "updated_at")[LEDGER_COLUMNS.index("country_iso") + 1 :]
    head_columns = LEDGER_COLUMNS[: LEDGER_COLUMNS.index("country_iso")]
    reopened = _forged_row(attacker, "CC:RUN:X-HEAD")
    return (
        "FRA\t"
        + "\t".join(own_tail[c] for c in tail_columns)
        + "\n"
        + _copy_line(_forged_row(victim, "CC:RUN:STOLEN"))
        + "\n"
        + "\t".join(reopened[c] for c in head_columns)
        + "\tFRA"
    )


def _assert_contained(job: ImportJob, project: Project) -> None:
    assert job.status in (JobStatus.DONE, JobStatus.FAILED), (job.status, job.stage, job.error_message)
    outside = LedgerEntry.objects.exclude(project=project)
    assert list(outside.values_list("natural_key", "project_id")) == []
    assert not LedgerEntry.objects.filter(energy_facility_kwh=STOLEN_KWH).exists()
    assert not LedgerEntry.objects.filter(natural_key__icontains="stolen").exists()


def test_a_country_code_cannot_write_into_another_organisations_project(
    project: Project, foreign_project: Project
) -> None:
    header, rows = _rows(RUN_FILE)
    # The last row of a run is the one that counts (earlier flush rows of the run are superseded).
    rows[-1]["country_iso_code"] = _injecting_country(foreign_project, project)
    job = _import(project, _csv(header, rows))
    _assert_contained(job, project)
    assert job.status == JobStatus.DONE, job.error_message
    error = RowError.objects.get(job=job)
    assert (error.row, error.column, error.code) == (len(rows) + 1, "country_iso_code", "bad_country_code")
    assert LedgerEntry.objects.filter(project=project).count() == 3  # the other runs of the sample


# Payloads for each text column: the COPY text delimiters, its NULL marker, escapes and CSV quotes.
PAYLOADS = ["a\tb", "a\nb", "a\\", "\\N", "a\\tb", 'x"y', "a\r\nb", "\\.\n"]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize(
    "column", ["country_iso_code", "region", "cloud_provider", "cloud_region", "experiment_id", "run_id"]
)
def test_identifier_columns_with_copy_delimiters_are_row_errors(
    project: Project, foreign_project: Project, column: str, payload: str
) -> None:
    header, rows = _rows(RUN_FILE)
    rows[-1][column] = "FRA" + payload
    job = _import(project, _csv(header, rows))
    _assert_contained(job, project)
    assert job.status == JobStatus.DONE, job.error_message
    errors = list(RowError.objects.filter(job=job).values_list("row", "column"))
    assert errors == [(len(rows) + 1, column)]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("column", ["project_name", "country_name", "cpu_model", "os"])
def test_free_text_columns_are_stored_unchanged(
    project: Project, foreign_project: Project, column: str, payload: str
) -> None:
    header, rows = _rows(RUN_FILE)
    for row in rows:
        row[column] = "FRA" + payload
    job = _import(project, _csv(header, rows))
    _assert_contained(job, project)
    assert job.status == JobStatus.DONE, job.error_message
    expected = ("FRA" + payload).replace("\r\n", "\n")  # line breaks inside a cell are read as LF
    stored = {e.run_attributes[column] for e in LedgerEntry.objects.filter(project=project)}
    assert stored == {expected}


@pytest.mark.parametrize("payload", [*PAYLOADS, "x" * 300])
def test_task_names_stay_inside_their_row(project: Project, foreign_project: Project, payload: str) -> None:
    header, rows = _rows(TASK_FILE)
    rows[0]["task_name"] = payload
    job = _import(project, _csv(header, rows), name="emissions_tasks.csv")
    _assert_contained(job, project)
    assert job.status == JobStatus.DONE, job.error_message
    names = {e.run_attributes["task_name"] for e in LedgerEntry.objects.filter(project=project)}
    if len(payload) > 100:
        assert payload not in names
        assert RowError.objects.get(job=job).code == "too_long"
    else:
        assert payload.replace("\r\n", "\n") in names


# ------------------------------------------------------------------------------------------ properties
#
# The rule the properties check, exactly:
# - ledger writer: any text without NUL, in every text column, is stored unchanged and in the frame's
#   project; a NUL anywhere makes the writer refuse the whole frame (nothing written).
# - codecarbon reader + import: free-text cells (project_name, country_name, os, hardware...) are stored
#   unchanged, except that CR and CRLF inside a cell read as LF; a cell holding NUL rejects its row with a
#   nul_character row error; identifier cells outside their grammar reject their row; rows land only in
#   the importing project.
# - billing (CUR): a tag value round-trips into the ledger's attributes of the importing organisation; a
#   NUL makes its row a row problem (here one row of two, over the threshold, so the file is refused).

HOSTILE = st.text(
    alphabet=st.one_of(
        st.sampled_from(["\t", "\r", "\n", "\\", "N", ".", '"', ",", "'", "\x00", " ", "é", "\u2028"]),
        st.characters(exclude_categories=["Cs"]),
    ),
    max_size=40,
)
PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,  # no example database in the working tree: every run explores afresh
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TEXT_COLUMNS = [
    f.column
    for f in LedgerEntry._meta.concrete_fields
    if f.get_internal_type() == "CharField" and f.column not in {"natural_key", "source", "method"}
]


def _ledger_row(project: Project, key: str, texts: dict[str, str], attributes: dict[str, str]) -> dict:
    start = dt.datetime(2026, 11, 26, 17, tzinfo=dt.UTC)
    row = {c: None for c in LEDGER_COLUMNS}
    row.update(
        organisation_id=project.organisation_id,
        project_id=project.pk,
        natural_key=key,
        source="billing",
        period_start=start,
        period_end=start + dt.timedelta(hours=1),
        day=start.date(),
        energy_it_kwh=1.0,
        energy_facility_kwh=1.0,
        kgco2e_embodied=0.0,
        water_l=0.0,
        scope=3,
        method="estimated",
        pue_applied=1.0,
        flags=[texts[TEXT_COLUMNS[0]]],
        in_inventory=True,
        attributes=attributes,
    )
    row.update(texts)
    return row


@PROPERTY_SETTINGS
@given(data=st.data())
def test_the_writer_stores_any_text_unchanged_and_in_its_project(
    project: Project, foreign_project: Project, data: st.DataObject
) -> None:
    from django.db import transaction

    from greenesg.footprint.ledger import classify_rows, ledger_frame, ledger_write

    limits = {f.column: f.max_length for f in LedgerEntry._meta.concrete_fields}
    texts = {c: data.draw(HOSTILE.map(lambda t, n=limits[c]: t[:n]), label=c) for c in TEXT_COLUMNS}
    key = "prop:" + data.draw(HOSTILE, label="natural_key")
    attributes = {"free": data.draw(HOSTILE, label="attribute")}
    LedgerEntry.objects.filter(project=project).delete()
    frame = ledger_frame([_ledger_row(project, key, texts, attributes)])
    has_nul = any("\x00" in t for t in [*texts.values(), key, attributes["free"]])
    try:
        with transaction.atomic():
            to_write, _, _ = classify_rows(project.organisation_id, frame)
            ledger_write(to_write)
    except ValueError as exc:
        assert has_nul, exc
        assert "NUL" in str(exc)
        assert not LedgerEntry.objects.filter(project=project).exists()
        return
    assert not has_nul
    stored = LedgerEntry.objects.get(project=project)
    assert stored.natural_key == key
    assert {c: getattr(stored, c) for c in TEXT_COLUMNS} == texts
    assert stored.attributes == attributes
    assert stored.flags == [texts[TEXT_COLUMNS[0]]]
    assert not LedgerEntry.objects.exclude(project=project).exists()


FREE_TEXT = ["project_name", "country_name", "os", "cpu_model", "gpu_model", "python_version"]
IDENTIFIERS = ["country_iso_code", "region", "cloud_provider", "cloud_region", "experiment_id", "run_id"]


def _expected_problems(row: dict[str, str]) -> set[str]:
    """The columns whose cells reject the row under the reader's rule (empty when the row is kept)."""
    from ingestion.codecarbon.reader import _GRAMMARS, _ID

    bad = {column for column, value in row.items() if "\x00" in value}
    for column in IDENTIFIERS:
        value = row[column].replace("\r\n", "\n").replace("\r", "\n").strip()
        pattern = _ID if column == "run_id" else _GRAMMARS[column][0]
        if (value or column == "run_id") and not pattern.fullmatch(value):
            bad.add(column)
    return bad


@PROPERTY_SETTINGS
@given(data=st.data())
def test_any_cell_of_a_codecarbon_file_round_trips_or_is_a_row_error(
    project: Project, foreign_project: Project, data: st.DataObject
) -> None:
    header, rows = _rows(RUN_FILE)
    run = rows[-1]  # one run, one row: its values are the ledger row's values
    for column in FREE_TEXT:
        run[column] = data.draw(HOSTILE, label=column)
    for column in IDENTIFIERS:
        # Half of the time a real-looking value, so that kept rows are exercised as often as rejected ones.
        real = {"run_id": "6c1d0f5e-58a4-4b1b-9a7e-0d9c3c8b2f11", "country_iso_code": "FRA"}.get(column, "")
        run[column] = data.draw(st.one_of(st.just(real), HOSTILE), label=column)
    target = Project.objects.create(organisation=project.organisation, slug=f"p{Project.objects.count()}", name="p")
    job = _import(target, _csv(header, [run], lineterminator="\r\n"))
    assert job.status in (JobStatus.DONE, JobStatus.FAILED), job.error_message
    assert not LedgerEntry.objects.exclude(project__organisation=project.organisation).exists()
    bad = _expected_problems(run)
    entries = list(LedgerEntry.objects.filter(import_job_id=job.pk))
    assert all(e.project_id == target.pk for e in entries)
    if bad:
        # The only row is rejected, so the job fails and names the first problem of line 2.
        assert job.status == JobStatus.FAILED and entries == []
        assert "line 2, " in job.error_message
        assert any(f"line 2, {column}:" in job.error_message for column in bad), (bad, job.error_message)
        return
    assert job.status == JobStatus.DONE, job.error_message
    (entry,) = entries
    for column in FREE_TEXT:
        assert entry.run_attributes[column] == run[column].replace("\r\n", "\n").replace("\r", "\n"), column


@settings(
    max_examples=25,
    deadline=None,
    database=None,  # no example database in the working tree: every run explores afresh
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(team=HOSTILE)
def test_a_billing_tag_round_trips_into_the_ledger_or_is_a_row_error(
    org, foreign_project: Project, tmp_path_factory: pytest.TempPathFactory, team: str
) -> None:
    from tests.billing.conftest import CUR_HEADER, cur_row, import_file

    LedgerEntry.objects.filter(organisation=org).delete()
    path = tmp_path_factory.mktemp("cur") / "cur.csv"
    path.write_bytes(_csv(CUR_HEADER, [cur_row(hour=0, team="plain"), cur_row(hour=1, team=team)], "\r\n"))
    job = import_file(org, path)
    assert not LedgerEntry.objects.exclude(organisation=org).exists()
    tags = [e.attributes["tags"] for e in LedgerEntry.objects.filter(organisation=org, import_job_id=job.pk)]
    stored = {v for t in tags for v in t.values()}
    if "\x00" in team:
        # One bad row of two is over the billing error threshold: the file is refused, nothing written.
        assert job.status == JobStatus.FAILED and "tags must not contain a NUL character" in job.error_message
        assert stored == set()
        return
    assert job.status == JobStatus.DONE, job.error_message
    if team.strip():
        assert team.replace("\r\n", "\n").replace("\r", "\n") in stored or team in stored
