"""LedgerRow is the ledger's schema, once: it matches the model, and the writer refuses any other frame."""

from __future__ import annotations

import datetime as dt
import types
import typing

import pytest
from django.db import transaction

from greenesg.footprint.ledger import LEDGER_COLUMNS, LedgerRow, ledger_columns_check, ledger_frame, ledger_write
from greenesg.footprint.models import LedgerEntry
from greenesg.footprint.vocabulary import Method, Source

WRITER_FILLED = {"id", "updated_at"}


def _model_columns() -> list[str]:
    return [f.column for f in LedgerEntry._meta.concrete_fields if f.column not in WRITER_FILLED]


def test_the_columns_are_the_model_columns_in_model_order() -> None:
    assert LEDGER_COLUMNS == tuple(_model_columns())
    assert len(LEDGER_COLUMNS) == 49


def test_a_column_may_be_none_exactly_when_the_database_allows_null() -> None:
    hints = typing.get_type_hints(LedgerRow)
    for field in LedgerEntry._meta.concrete_fields:
        if field.column in WRITER_FILLED:
            continue
        hint = hints[field.column]
        nullable = isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)
        assert nullable == field.null, field.column


def _row(project, **changes) -> LedgerRow:
    start = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
    row = LedgerRow(
        organisation_id=project.organisation_id,
        project_id=project.pk,
        natural_key="test:row",
        source=Source.CODECARBON,
        period_start=start,
        period_end=start + dt.timedelta(hours=1),
        day=start.date(),
        experiment="",
        run_id="run-1",
        provider="",
        region="",
        country_iso="FRA",
        service="codecarbon",
        resource_category="compute",
        usage_amount=1.0,
        usage_unit="hours",
        duration_s=3600.0,
        energy_it_kwh=2.0,
        energy_facility_kwh=3.0,
        kgco2e_location=0.15,
        kgco2e_market=0.15,
        kgco2e_embodied=0.0,
        water_l=0.0,
        cost=None,
        currency="",
        scope=2,
        category="",
        method=Method.MEASURED,
        pue_applied=1.5,
        factor_id=None,
        factor_g_per_kwh=50.0,
        factor_version="test@v1",
        market_factor_g_per_kwh=None,
        market_basis="",
        flags=[],
        in_inventory=True,
        import_job_id=None,
        source_row=7,
        attributes={},
    )
    row.update(changes)  # type: ignore[typeddict-item]
    return row


@pytest.mark.django_db
def test_the_writer_stores_a_row_built_from_the_schema(project) -> None:
    ledger_write(ledger_frame([_row(project)]))

    entry = LedgerEntry.objects.get(natural_key="test:row")
    assert (entry.source, entry.method, entry.energy_facility_kwh, entry.source_row) == (
        "codecarbon",
        "measured",
        3.0,
        7,
    )


@pytest.mark.django_db
def test_the_writer_refuses_a_frame_whose_columns_are_reordered(project) -> None:
    # The SQLite writer binds by position: a moved column would land its values under another name.
    frame = ledger_frame([_row(project)])
    columns = list(LEDGER_COLUMNS)
    columns[17], columns[18] = columns[18], columns[17]  # energy_it_kwh <-> energy_facility_kwh

    with pytest.raises(ValueError, match="order differs"):
        ledger_write(frame[columns])
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_the_writer_refuses_a_frame_with_a_column_missing_or_added(project) -> None:
    frame = ledger_frame([_row(project)])

    with pytest.raises(ValueError, match=r"missing \['water_l'\]"):
        ledger_write(frame.drop(columns=["water_l"]))
    with pytest.raises(ValueError, match=r"unexpected \['note'\]"):
        ledger_write(frame.assign(note="x"))
    assert not LedgerEntry.objects.exists()


def test_the_check_returns_a_frame_with_exactly_the_columns() -> None:
    import pandas as pd

    frame = pd.DataFrame(columns=list(LEDGER_COLUMNS))
    assert ledger_columns_check(frame) is frame


@pytest.mark.django_db
def test_the_stage_skips_the_per_key_reduction_only_while_no_key_can_repeat(project) -> None:
    from greenesg.footprint.ledger import LedgerStage

    stage = LedgerStage()
    stage.add(ledger_frame([_row(project, natural_key="a"), _row(project, natural_key="b")]))
    stage.add(ledger_frame([_row(project, natural_key="c")]))
    assert not stage.keys_may_repeat
    stage.add(ledger_frame([_row(project, natural_key="a", duration_s=7200.0)]))  # a later, longer flush
    assert stage.keys_may_repeat
    stage.discard()
    stage.add(ledger_frame([_row(project, natural_key="x"), _row(project, natural_key="x")]))
    assert stage.keys_may_repeat
    stage.discard()
    assert not stage.keys_may_repeat


@pytest.mark.django_db
def test_the_stage_finds_a_repeated_key_among_many_batches(project) -> None:
    from greenesg.footprint.ledger import LedgerStage

    stage = LedgerStage()
    for batch in range(8):
        stage.add(ledger_frame([_row(project, natural_key=f"k{batch}-{i}") for i in range(50)]))
    assert not stage.keys_may_repeat
    stage.add(ledger_frame([_row(project, natural_key="new"), _row(project, natural_key="k3-17")]))
    assert stage.keys_may_repeat
    stage.discard()


@pytest.mark.django_db
def test_the_stage_keeps_a_value_missing_in_some_rows_of_a_batch(project) -> None:
    """Columns holding one value in the whole batch are sent as the stage's defaults (PostgreSQL): a column that is
    null in some rows is not such a column, whatever its dtype (nullable integers and Arrow strings skip nulls when
    compared)."""
    import pandas as pd

    from greenesg.footprint.ledger import LedgerStage

    frame = ledger_frame(
        [
            _row(project, natural_key="test:a", factor_id=7, kgco2e_market=0.5, source_energy_kwh=1.0),
            _row(project, natural_key="test:b", factor_id=None, kgco2e_market=None, source_energy_kwh=None),
        ]
    )
    frame["factor_id"] = frame["factor_id"].astype("Int64")
    frame["source_energy_kwh"] = frame["source_energy_kwh"].astype("Float64")
    job = "0b3f5f9e-8a0c-4d3e-9a43-2f7f0d0c1a11"
    frame["import_job_id"] = pd.Series([job, None], dtype="string[pyarrow]")
    stage = LedgerStage()
    stage.add(frame)
    with transaction.atomic():
        stage.publish(project.organisation_id)
    stored = {
        e.natural_key: (e.factor_id, e.kgco2e_market, e.source_energy_kwh, e.import_job_id and str(e.import_job_id))
        for e in LedgerEntry.objects.filter(project=project)
    }
    assert stored == {"test:a": (7, 0.5, 1.0, job), "test:b": (None, None, None, None)}


@pytest.mark.django_db
def test_a_value_sent_as_the_stage_default_is_stored_as_the_copy_would_store_it(project) -> None:
    """Every column but the key holds one value in this batch, so each one becomes a stage DEFAULT (PostgreSQL):
    timestamps keep their microseconds, dates, booleans, floats, JSON text and the job id arrive unchanged."""
    from greenesg.footprint.ledger import LedgerStage

    start = dt.datetime(2026, 3, 2, 10, 0, 0, 123456, tzinfo=dt.UTC)
    same = {
        "period_start": start,
        "period_end": start + dt.timedelta(seconds=0.5),
        "kgco2e_location": 0.1 + 0.2,
        "in_inventory": False,
        "flags": '["estimated-pue"]',
        "attributes": '{"note": "caf\\u00e9 \\"quoted\\", 5%"}',
        "import_job_id": None,
        "factor_id": None,
    }
    stage = LedgerStage()
    stage.add(ledger_frame([_row(project, natural_key="test:a", **same), _row(project, natural_key="test:b", **same)]))
    with transaction.atomic():
        stage.publish(project.organisation_id)
    for entry in LedgerEntry.objects.filter(project=project):
        assert (entry.period_start, entry.period_end, entry.day) == (
            start,
            start + dt.timedelta(seconds=0.5),
            start.date(),
        )
        assert entry.kgco2e_location == 0.1 + 0.2 and entry.in_inventory is False
        assert entry.flags == ["estimated-pue"] and entry.attributes == {"note": 'café "quoted", 5%'}
        assert entry.import_job_id is None and entry.factor_id is None
