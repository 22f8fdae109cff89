"""Every CSV download of the product answers as a named attachment (issue 14 item 2).

The ESRS report files are checked in tests/esrs/test_downloads.py (they need a generated report).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from ingestion.models import ImportJob, JobStatus, RowError
from tests.reports.conftest import _fresh_cache, ledger  # noqa: F401  (fixtures reused)

CSV = "text/csv; charset=utf-8"


def assert_attachment(response, filename: str, content_type: str = CSV) -> None:
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "filename"),
    [
        (reverse("project-detail", args=["acme", "ml"]) + "?format=csv", "acme-ml-runs.csv"),
        (reverse("experiment-detail", args=["acme", "ml", "train"]) + "?format=csv", "acme-ml-train-runs.csv"),
        (reverse("org-records", args=["acme"]) + "?format=csv", "acme-records.csv"),
        (reverse("org-audit", args=["acme"]) + "?format=csv", "acme-audit-log.csv"),
        (reverse("esg-template", args=["acme"]), "esg-metrics-template.csv"),
        (reverse("esg-template", args=["acme"]) + "?kind=ap_ledger", "esg-ap-ledger-template.csv"),
        (reverse("esg-export", args=["acme", "2025-Q1"]), "acme-esg-2025-Q1.csv"),
    ],
)
def test_each_csv_download_is_a_named_attachment(officer_client, ledger, url, filename):  # noqa: F811
    assert_attachment(officer_client.get(url), filename)


@pytest.mark.django_db
def test_the_rejected_rows_of_an_import_download_under_the_upload_name(officer_client, project):
    job = ImportJob.objects.create(
        organisation=project.organisation,
        project=project,
        kind="codecarbon",
        origin="upload",
        original_name="emissions march.csv",
        sha256="0" * 64,
        status=JobStatus.DONE,
        rows_rejected=1,
    )
    RowError.objects.create(job=job, row=3, column="energy_consumed", code="not_a_number", message="x", raw_value="?")
    response = officer_client.get(reverse("import-rejected-csv", args=["acme", job.pk]))
    assert_attachment(response, "emissions march-rejected-rows.csv")
