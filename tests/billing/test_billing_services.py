"""Billing job processing: worked example, restatement, duplicates, credits, bad input, provider figures."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from django.db.models import Sum

from greenesg.footprint.ledger import CODECARBON_RUN_COLUMNS, LEDGER_COLUMNS
from greenesg.footprint.models import LedgerDaily, LedgerEntry
from ingestion.billing.estimate import ledger_row
from ingestion.models import BillingDelivery, DeliveryStatus, ImportJob, JobStatus, ProviderFigure
from tests.billing.conftest import cur_row, import_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "billing"


def billing_sum(org, column: str) -> float:
    return LedgerEntry.objects.filter(organisation=org, source="billing").aggregate(s=Sum(column))["s"] or 0.0


def daily_sum(org, column: str) -> float:
    return LedgerDaily.objects.filter(organisation=org, source="billing").aggregate(s=Sum(column))["s"] or 0.0


@pytest.mark.django_db
def test_it_reproduces_the_worked_example_in_the_ledger(org, write_cur):
    job = import_file(org, write_cur([cur_row()]))

    assert job.status == JobStatus.DONE, job.error_message
    entry = LedgerEntry.objects.get(organisation=org, source="billing")
    # docs/methodology.md §4.9: m5.xlarge, us-east-1, one hour: 16.757 Wh, 6.352 g operational, 1.915 g embodied.
    assert entry.energy_facility_kwh == pytest.approx(0.016757, abs=1e-6)
    assert entry.kgco2e_location == pytest.approx(0.006352, abs=1e-6)
    assert entry.kgco2e_embodied == pytest.approx(0.001915, abs=1e-6)
    assert (entry.scope, entry.category, entry.method, entry.project_id) == (3, "1.1", "modelled", None)
    assert entry.factor_version and entry.factor_id is not None
    assert "default_utilisation" in entry.flags
    assert entry.day.isoformat() == "2024-01-01"


@pytest.mark.django_db
def test_ledger_rows_have_exactly_the_ledger_columns(org, write_cur):
    import_file(org, write_cur([cur_row()]))
    delivery = BillingDelivery.objects.get()
    from ingestion.billing.attribution import Share
    from ingestion.billing.pipeline import _context

    row = ledger_row(_context(delivery), delivery.aggregates.get(), Share(None, 1.0, None))
    # The codecarbon run columns are left out, so they are null (ledger_frame).
    assert (*row, *CODECARBON_RUN_COLUMNS) == LEDGER_COLUMNS


@pytest.mark.django_db
def test_hourly_lines_of_a_day_are_one_ledger_row_with_their_sum(org, write_cur):
    rows = [cur_row(hour=h) for h in range(24)]
    job = import_file(org, write_cur(rows))

    assert job.rows_read == 24
    assert LedgerEntry.objects.filter(source="billing").count() == 1
    assert billing_sum(org, "energy_facility_kwh") == pytest.approx(24 * 0.016757, abs=1e-5)
    assert billing_sum(org, "cost") == pytest.approx(24 * 0.192)


@pytest.mark.django_db
def test_it_replaces_earlier_cur_delivery(org, write_cur):
    v1 = import_file(org, write_cur([cur_row(amount=10, cost=1.92), cur_row("USE1-BoxUsage:m5.large", 5, 0.48)]))
    v2 = import_file(org, write_cur([cur_row(amount=20, cost=3.84, day="2024-01-02")]))

    assert v1.status == v2.status == JobStatus.DONE
    old, new = BillingDelivery.objects.get(job=v1), BillingDelivery.objects.get(job=v2)
    assert (old.status, old.superseded_by_id, new.status) == (DeliveryStatus.SUPERSEDED, new.pk, DeliveryStatus.ACTIVE)
    # Month total = the latest delivery, never a sum or a mix of both.
    assert not LedgerEntry.objects.filter(import_job=v1).exists()
    assert billing_sum(org, "cost") == pytest.approx(3.84)
    assert billing_sum(org, "energy_facility_kwh") == pytest.approx(20 * 0.016757, abs=1e-5)
    assert daily_sum(org, "cost") == pytest.approx(3.84)  # rollups refreshed for both versions' days
    assert not LedgerDaily.objects.filter(organisation=org, source="billing", day="2024-01-01").exists()
    assert v2.totals["deliveries_replaced"] == 1


@pytest.mark.django_db
def test_a_late_older_delivery_never_replaces_a_newer_one(org, write_cur):
    from ingestion import storage
    from ingestion.billing.pipeline import billing_job_submit
    from ingestion.models import JobOrigin
    from ingestion.process import import_job_process

    older = billing_job_submit(
        organisation=org,
        origin=JobOrigin.CLI,
        enqueue=False,
        original_name="v1.csv",
        stored=storage.store_path(write_cur([cur_row(amount=10, cost=1.0)])),
    ).job
    newer = import_file(org, write_cur([cur_row(amount=20, cost=2.0)]))
    import_job_process(job_id=str(older.pk))

    assert BillingDelivery.objects.get(job=newer).status == DeliveryStatus.ACTIVE
    assert BillingDelivery.objects.get(job=older).status == DeliveryStatus.SUPERSEDED
    assert billing_sum(org, "cost") == pytest.approx(2.0)


@pytest.mark.django_db
def test_other_accounts_and_months_are_separate_deliveries(org, write_cur):
    import_file(
        org, write_cur([cur_row(), cur_row(account="999988887777", cost=1.0), cur_row(day="2024-02-03", cost=2.0)])
    )
    import_file(org, write_cur([cur_row(cost=5.0)]))  # restates January of the first account only

    active = BillingDelivery.objects.filter(status=DeliveryStatus.ACTIVE)
    assert sorted((d.account, d.month.month) for d in active) == [
        ("111122223333", 1),
        ("111122223333", 2),
        ("999988887777", 1),
    ]
    assert billing_sum(org, "cost") == pytest.approx(5.0 + 1.0 + 2.0)


@pytest.mark.django_db
def test_the_same_file_twice_is_already_imported(org, write_cur):
    from ingestion import storage
    from ingestion.billing.pipeline import billing_job_submit
    from ingestion.models import JobOrigin

    path = write_cur([cur_row()])
    first = import_file(org, path)
    again = billing_job_submit(
        organisation=org,
        origin=JobOrigin.UPLOAD,
        stored=storage.store_path(path),
        original_name="again.csv",
        enqueue=False,
    )

    assert not again.created and again.job.pk == first.pk
    assert ImportJob.objects.count() == 1
    assert LedgerEntry.objects.filter(source="billing").count() == 1


@pytest.mark.django_db
def test_credits_keep_their_sign_in_cost_and_never_create_negative_energy(org, write_cur):
    rows = [
        cur_row(amount=10, cost=1.92),
        cur_row(amount=-4, cost=-0.77, hour=1),  # a negative usage correction
        cur_row("USE1-BoxUsage:m5.xlarge", 0, -0.50, hour=2, line_type="Credit"),  # filtered by the reader
        cur_row("USE1-NatGateway-Hours", 5, 0.225, hour=3),  # unknown -> extrapolated by cost
        cur_row("USE1-NatGateway-Hours", 2, -0.1, hour=4),  # unknown with negative cost: not extrapolated
    ]
    job = import_file(org, write_cur(rows))

    assert job.status == JobStatus.DONE, job.error_message
    entries = LedgerEntry.objects.filter(source="billing")
    assert all(e.energy_facility_kwh >= 0 and (e.kgco2e_location or 0) >= 0 for e in entries)
    assert billing_sum(org, "cost") == pytest.approx(1.92 - 0.77 + 0.225)
    assert billing_sum(org, "energy_facility_kwh") == pytest.approx(
        10 * 0.016757 + 0.225 / 1.92 * 10 * 0.016757, rel=1e-4
    )
    negative = entries.get(cost__lt=0)
    assert negative.energy_facility_kwh == 0 and "negative_usage" in negative.flags
    assert entries.filter(method="extrapolated").count() == 1
    assert job.totals["rows_filtered"] == {"line_item_type:Credit": 1}
    delivery = BillingDelivery.objects.get()
    assert (delivery.lines_unestimated, delivery.cost_unestimated) == (1, pytest.approx(-0.1))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"timestamp,project_name,run_id\n2024-01-01T00:00:00,x,y\n", "not a recognised billing or carbon export"),
        (b"", "empty"),
    ],
)
def test_bad_input_fails_the_job_with_the_readers_message_and_writes_nothing(org, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    job = import_file(org, path)

    assert job.status == JobStatus.FAILED
    assert message in job.error_message
    assert not LedgerEntry.objects.exists() and not BillingDelivery.objects.exists()


@pytest.mark.django_db
def test_a_truncated_gzip_fails_after_reading_and_writes_nothing(org, write_cur, tmp_path):
    text = Path(write_cur([cur_row(hour=h % 24, day=f"2024-01-{1 + h // 24:02d}") for h in range(600)])).read_bytes()
    packed = gzip.compress(text)
    path = tmp_path / "cur.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])
    job = import_file(org, path)

    assert job.status == JobStatus.FAILED
    assert "truncated" in job.error_message or "corrupt" in job.error_message
    assert not LedgerEntry.objects.exists() and not BillingDelivery.objects.exists()


@pytest.mark.django_db
def test_a_bad_cost_cell_refuses_the_whole_file(org, write_cur):
    rows = [cur_row(hour=h) for h in range(10)]
    rows[3]["lineItem/UnblendedCost"] = "12,5,0"
    job = import_file(org, write_cur(rows))

    assert job.status == JobStatus.FAILED
    assert "lineItem/UnblendedCost" in job.error_message
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_a_few_bad_rows_are_reported_and_the_rest_imported(org, write_cur):
    rows = [cur_row(hour=h % 24, day=f"2024-01-{1 + h // 24:02d}") for h in range(200)]
    rows[7]["lineItem/UsageStartDate"] = "yesterday"
    job = import_file(org, write_cur(rows))

    assert job.status == JobStatus.DONE, job.error_message
    assert job.rows_rejected == 1
    assert job.row_errors.get().column == "lineItem/UsageStartDate"


@pytest.mark.django_db
def test_provider_figures_are_kept_in_kg_and_a_restated_month_supersedes(org):
    first = import_file(org, FIXTURES / "aws_carbon.csv")
    assert first.status == JobStatus.DONE, first.error_message
    figure = ProviderFigure.objects.get(service="AmazonEC2")
    assert figure.kg_location == pytest.approx(125.0)  # 0.125 MTCO2e
    assert figure.original["location_based"] == [0.125, "MTCO2e"]
    assert not LedgerEntry.objects.exists()

    restated = (FIXTURES / "aws_carbon.csv").read_text().replace("0.125,MTCO2e", "0.130,MTCO2e")
    path = Path(first.stored_path).parent / "restated.csv"
    from django.conf import settings

    path = Path(settings.MEDIA_ROOT) / "restated.csv"
    path.write_text(restated)
    import_file(org, path)
    active = ProviderFigure.objects.filter(status=DeliveryStatus.ACTIVE, service="AmazonEC2")
    assert [f.kg_location for f in active] == [pytest.approx(130.0)]
    assert ProviderFigure.objects.filter(status=DeliveryStatus.SUPERSEDED).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ["cur_legacy.csv", "cur2.csv", "gcp_billing.csv", "azure_ea.csv", "azure_mca.csv", "focus.csv", "focus_azure.csv"],
)
def test_every_billing_format_imports(org, name):
    job = import_file(org, FIXTURES / name)

    assert job.status == JobStatus.DONE, job.error_message
    assert LedgerEntry.objects.filter(source="billing").exists()
    assert daily_sum(org, "kgco2e_location") == pytest.approx(billing_sum(org, "kgco2e_location"))


@pytest.mark.django_db
def test_gcp_multi_region_storage_uses_the_mean_of_member_regions(org):
    import_file(org, FIXTURES / "gcp_billing.csv")
    storage_row = LedgerEntry.objects.get(source="billing", region="us", service="Cloud Storage")

    assert "gcp_multi_region_mean" in storage_row.flags
    assert storage_row.factor_g_per_kwh < 700  # a mean of US regions, never their sum (2,805)


@pytest.mark.django_db
def test_the_same_azure_month_in_two_formats_counts_once(org):
    """Azure's native export names the subscription by GUID, its FOCUS export as /subscriptions/<GUID>."""
    import_file(org, FIXTURES / "azure_ea.csv")
    focus = import_file(org, FIXTURES / "focus_azure_microsoft.csv")

    active = BillingDelivery.objects.filter(organisation=org, status=DeliveryStatus.ACTIVE)
    assert [(d.provider, d.account, d.job_id) for d in active] == [
        ("azure", "0f4a1c2e-0000-4000-8000-000000000001", focus.pk)
    ]
    assert billing_sum(org, "cost") == pytest.approx(4.944 + 0.636 + 1.044 + 0.6)


@pytest.mark.django_db
def test_the_decompression_limits_come_from_the_settings(org, write_cur, tmp_path, settings):
    # 2 MiB of repeated rows gzip to a few KB: far below the default 200:1 after the first MiB, above 20:1.
    row = Path(write_cur([cur_row()])).read_text().split("\n", 1)[1]
    text = Path(write_cur([cur_row()])).read_text() + row * (2 * 2**20 // len(row))
    path = tmp_path / "cur.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    settings.BILLING_MAX_COMPRESSION_RATIO = 20
    job = import_file(org, path)

    assert job.status == JobStatus.FAILED
    assert "compression ratio above 20:1" in job.error_message
    assert "the setting BILLING_MAX_COMPRESSION_RATIO" in job.error_message
    assert not LedgerEntry.objects.exists() and not BillingDelivery.objects.exists()


@pytest.mark.parametrize(
    "name", ["cur_legacy.csv", "cur2.csv", "gcp_billing.csv", "azure_ea.csv", "azure_mca.csv", "focus.csv"]
)
def test_column_batches_sum_to_the_same_groups_as_lines(name):
    from ingestion.billing.estimate import LineAggregator
    from ingestion.billing.readers import ReaderOptions, iter_billing_batches

    fixtures = Path(__file__).resolve().parent.parent / "fixtures" / "billing"
    by_batch, by_line = LineAggregator(), LineAggregator()
    for batch in iter_billing_batches(fixtures / name, options=ReaderOptions(chunksize=2)):
        by_batch.add_batch(batch)
        by_line.add(batch.lines())
    assert by_batch.groups and list(by_batch.groups.items()) == list(by_line.groups.items())
    assert by_batch.source_format == by_line.source_format
