"""A CUR 2.0 delivered as Parquet goes through the same job, estimate and ledger as its CSV twin."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db.models import Sum

from greenesg.footprint.models import LedgerEntry
from ingestion.billing.pipeline import billing_upload_problem
from ingestion.models import JobStatus
from tests.billing.conftest import import_file

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "billing"


def test_a_parquet_cur_imports_like_its_csv(org, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pandas as pd
    import pyarrow.parquet as pq

    frame = pd.read_csv(FIXTURES / "cur2.csv", dtype=str, keep_default_na=False)
    parquet = tmp_path / "cur2.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet)
    job = import_file(org, parquet)
    assert job.status == JobStatus.DONE, job.error_message
    parquet_kg = LedgerEntry.objects.filter(import_job=job).aggregate(s=Sum("kgco2e_location"))["s"]

    LedgerEntry.objects.all().delete()
    csv_job = import_file(org, FIXTURES / "cur2.csv", name="cur2-copy.csv")
    csv_kg = LedgerEntry.objects.filter(import_job=csv_job).aggregate(s=Sum("kgco2e_location"))["s"]
    assert parquet_kg == pytest.approx(csv_kg)


def test_uploads_accept_parquet_and_refuse_binary_with_a_parquet_name() -> None:
    assert billing_upload_problem("cur.parquet", b"PAR1\x15\x04") is None
    assert "binary" in (billing_upload_problem("cur.parquet", b"\x00\x01\x02garbage") or "")
