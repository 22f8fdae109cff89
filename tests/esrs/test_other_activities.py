"""Other activities flow into the ledger with lineage (natural key other:<id>), by form and CSV."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from greenesg.footprint.models import EmissionFactor, EmissionFactorSet, LedgerDaily, LedgerEntry
from reports.esrs import services as report_services
from reports.models import OtherActivity, OtherActivityImport


@pytest.fixture
def grid_factor(db) -> EmissionFactor:
    factor_set = EmissionFactorSet.objects.create(name="test-grid-esrs", version=3, kind="grid_country", source="Test")
    return EmissionFactor.objects.create(factor_set=factor_set, zone="ZZZ", vintage_year=2025, g_co2e_per_kwh=250.0)


def _import(org, officer, body: bytes, name: str, capture) -> OtherActivityImport:
    """The CSV import runs in the worker: store the bytes, submit, run the task on commit (eager)."""
    from ingestion import storage

    with capture(execute=True):
        submission = report_services.other_activities_import_submit(
            organisation=org, stored=storage.store_chunks([body]), original_name=name, user=officer
        )
    return OtherActivityImport.objects.get(pk=submission.job.pk)


@pytest.mark.django_db
def test_csv_import_writes_ledger_rows_with_lineage(org, officer, grid_factor, django_capture_on_commit_callbacks):
    body = (
        b"description,scope,category,quantity,unit,period_start,period_end,country_iso,factor_zone,stated_kgco2e,"
        b"stated_source,energy_kwh,fuel_type\n"
        b"Office electricity,2,,2,MWh,2026-04-01,2026-06-30,ZZZ,ZZZ,,,,\n"
        b"Train travel,3,6,10,trips,2026-05-01,2026-05-31,,,12.5,Agency report,,\n"
    )
    job = _import(org, officer, body, "other.csv", django_capture_on_commit_callbacks)
    assert job.errors == [] and job.created_count == 2
    office = OtherActivity.objects.get(description="Office electricity")
    row = LedgerEntry.objects.get(organisation=org, natural_key=f"other:{office.pk}")
    assert row.source == "other" and row.scope == 2 and row.energy_facility_kwh == 2000.0
    assert row.kgco2e_location == pytest.approx(500.0) and row.factor_version == "test-grid-esrs@v3"
    assert row.attributes["import_sha256"] == office.import_sha256 and row.source_row == 2
    assert row.day == dt.date(2026, 6, 30)
    travel = LedgerEntry.objects.get(natural_key__startswith="other:", scope=3)
    assert travel.category == "6" and travel.flags == ["evidence_missing"]
    assert LedgerDaily.objects.filter(organisation=org, source="other").count() == 2


@pytest.mark.django_db
def test_a_bad_row_rejects_the_whole_file(org, officer, django_capture_on_commit_callbacks) -> None:
    body = (
        b"description,scope,category,quantity,unit,period_start,period_end,stated_kgco2e,stated_source\n"
        b"ok,3,6,1,trip,2026-05-01,2026-05-31,1,agency\n"
        b"=cmd,3,99,1,trip,2026-05-01,2026-04-01,,\n"
    )
    job = _import(org, officer, body, "bad.csv", django_capture_on_commit_callbacks)
    assert job.created_count == 0 and any(e["line"] == 3 for e in job.errors)
    assert not OtherActivity.objects.exists() and not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_edit_replaces_and_delete_removes_the_ledger_row(org, officer) -> None:
    activity = OtherActivity(
        organisation=org,
        description="Hotel",
        scope=3,
        category="6",
        quantity=3,
        unit="nights",
        stated_kgco2e=30.0,
        stated_source="Invoice",
        period_start=dt.date(2026, 2, 1),
        period_end=dt.date(2026, 2, 3),
    )
    report_services.other_activity_save(
        activity=activity, user=officer, evidence=SimpleUploadedFile("hotel.pdf", b"%PDF hotel")
    )
    activity.stated_kgco2e = 45.0
    activity.period_end = dt.date(2026, 4, 2)
    report_services.other_activity_save(activity=activity, user=officer)
    rows = LedgerEntry.objects.filter(organisation=org, natural_key=f"other:{activity.pk}")
    assert rows.count() == 1 and rows[0].kgco2e_location == 45.0 and rows[0].day == dt.date(2026, 4, 2)
    assert rows[0].method == "supplier-specific" and rows[0].attributes["evidence_sha256"]
    assert not LedgerDaily.objects.filter(organisation=org, day=dt.date(2026, 2, 3)).exists()
    report_services.other_activity_delete(activity=activity, user=officer)
    assert not LedgerEntry.objects.filter(organisation=org).exists()
