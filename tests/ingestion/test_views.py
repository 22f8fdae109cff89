"""Browser upload, the job page and its downloads, the project's import list."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from greenesg.accounts.models import Project
from greenesg.footprint.models import LedgerEntry
from greenesg.lib.csv_safe import safe_cell, safe_csv_lines
from ingestion.models import ImportJob, JobStatus, RowError

SAMPLE = "emissions_codecarbon_3.3.2.csv"
SAMPLE_ROWS, SAMPLE_RUNS = 5, 4  # one run has a mid-run flush row: counted once


def upload_url(project: Project) -> str:
    return reverse("project-upload", args=[project.organisation.slug, project.slug])


def sample_upload(sample_dir: Path, name: str = SAMPLE) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (sample_dir / SAMPLE).read_bytes(), content_type="text/csv")


def post_upload(client: Client, project: Project, upload: SimpleUploadedFile, capture) -> object:
    with capture(execute=True):
        return client.post(upload_url(project), {"file": upload})


def make_job(project: Project, **fields: object) -> ImportJob:
    defaults = {
        "kind": "codecarbon",
        "origin": "upload",
        "original_name": "emissions.csv",
        "sha256": "0" * 64,
        "status": JobStatus.DONE,
    }
    return ImportJob.objects.create(organisation=project.organisation, project=project, **{**defaults, **fields})


# ---------------------------------------------------------------------------------------------- upload


@pytest.mark.django_db
def test_it_imports_an_upload_once_per_run(engineer_client, project, sample_dir, django_capture_on_commit_callbacks):
    response = post_upload(engineer_client, project, sample_upload(sample_dir), django_capture_on_commit_callbacks)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("import-detail", args=["acme", job.pk])
    assert job.status == JobStatus.DONE, job.error_message
    assert (job.origin, job.original_name, job.rows_read, job.records_new) == (
        "upload",
        SAMPLE,
        SAMPLE_ROWS,
        SAMPLE_RUNS,
    )
    assert job.created_by.username == "erin"
    assert LedgerEntry.objects.filter(project=project, source="codecarbon").count() == SAMPLE_RUNS

    page = engineer_client.get(response["Location"])
    assert page.status_code == 200
    assert b"Rows read" in page.content and b"Done" in page.content


@pytest.mark.django_db
def test_it_accepts_bak_files(officer_client, project, sample_dir, django_capture_on_commit_callbacks):
    response = post_upload(
        officer_client, project, sample_upload(sample_dir, "emissions.csv_0.bak"), django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    assert ImportJob.objects.get().original_name == "emissions.csv_0.bak"


@pytest.mark.django_db
def test_it_reports_the_same_file_twice_as_already_imported(
    engineer_client, project, sample_dir, django_capture_on_commit_callbacks
):
    first = post_upload(engineer_client, project, sample_upload(sample_dir), django_capture_on_commit_callbacks)
    ledger_before = list(LedgerEntry.objects.order_by("natural_key").values_list("natural_key", "updated_at"))

    second = post_upload(engineer_client, project, sample_upload(sample_dir), django_capture_on_commit_callbacks)

    assert second.status_code == 302 and second["Location"] == first["Location"]
    assert ImportJob.objects.count() == 1
    assert list(LedgerEntry.objects.order_by("natural_key").values_list("natural_key", "updated_at")) == ledger_before
    page = engineer_client.get(second["Location"])
    assert b"already imported" in page.content


@pytest.mark.django_db
def test_it_keeps_no_copy_of_a_duplicate(
    engineer_client, project, sample_dir, settings, django_capture_on_commit_callbacks
):
    post_upload(engineer_client, project, sample_upload(sample_dir), django_capture_on_commit_callbacks)
    post_upload(engineer_client, project, sample_upload(sample_dir), django_capture_on_commit_callbacks)
    assert len(list((Path(settings.MEDIA_ROOT) / "imports").iterdir())) == 1


def test_it_redirects_anonymous_to_login(client, project):
    response = client.post(upload_url(project), {"file": SimpleUploadedFile("emissions.csv", b"x")})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not ImportJob.objects.exists()


def test_it_hides_the_project_from_outsiders(outsider_client, project):
    response = outsider_client.post(upload_url(project), {"file": SimpleUploadedFile("emissions.csv", b"a,b\n")})
    assert response.status_code == 404
    assert not ImportJob.objects.exists()


def test_it_hides_other_projects_from_engineers(engineer_client, other_project):
    response = engineer_client.post(upload_url(other_project), {"file": SimpleUploadedFile("emissions.csv", b"a\n")})
    assert response.status_code == 404
    assert not ImportJob.objects.exists()


def test_it_forbids_auditors_to_upload(auditor_client, project):
    assert auditor_client.get(upload_url(project)).status_code == 403
    response = auditor_client.post(upload_url(project), {"file": SimpleUploadedFile("emissions.csv", b"a\n")})
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_it_shows_the_upload_page(engineer_client, project):
    response = engineer_client.get(upload_url(project))
    assert response.status_code == 200
    assert b'name="file"' in response.content and b"csrfmiddlewaretoken" in response.content


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("emissions.xlsx", b"timestamp,run_id\n", b"ending in .csv or .bak"),
        ("emissions.csv.exe", b"timestamp,run_id\n", b"ending in .csv or .bak"),
        ("emissions.csv", b"PK\x03\x04zipped", b"Compressed files"),
        ("emissions.csv", b"\x00\x01\x02binary", b"binary"),
        ("emissions.csv", b"   \n", b"empty"),
    ],
)
def test_it_refuses_files_that_are_not_codecarbon_csv(engineer_client, project, name, content, message):
    response = engineer_client.post(upload_url(project), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    assert message in response.content
    assert not ImportJob.objects.exists()


def test_it_refuses_a_post_without_file(engineer_client, project):
    response = engineer_client.post(upload_url(project), {})
    assert response.status_code == 400
    assert not ImportJob.objects.exists()


def test_it_refuses_too_large_files_with_413(engineer_client, project, settings):
    settings.MAX_UPLOAD_BYTES = 100
    body = b"timestamp,run_id,duration,energy_consumed\n" + b"2026-01-01T00:00:00,a,1,1\n" * 10
    response = engineer_client.post(upload_url(project), {"file": SimpleUploadedFile("emissions.csv", body)})
    assert response.status_code == 413
    assert b"File too large" in response.content
    assert not ImportJob.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.upload"))


def test_it_enforces_csrf(engineer, project):
    client = Client(enforce_csrf_checks=True)
    client.force_login(engineer)
    response = client.post(upload_url(project), {"file": SimpleUploadedFile("emissions.csv", b"a,b\n1,2\n")})
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_it_accepts_a_post_with_the_csrf_token(engineer, project, sample_dir, django_capture_on_commit_callbacks):
    client = Client(enforce_csrf_checks=True)
    client.force_login(engineer)
    client.get(upload_url(project))
    token = client.cookies["csrftoken"].value
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(upload_url(project), {"file": sample_upload(sample_dir), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert ImportJob.objects.count() == 1


def test_the_upload_snippet_renders_for_a_project_page(project):
    from django.template.loader import render_to_string

    html = render_to_string("ingestion/_upload_form.html", {"project": project, "organisation": project.organisation})
    assert upload_url(project) in html and 'enctype="multipart/form-data"' in html


# ---------------------------------------------------------------------------------------------- job page


@pytest.mark.parametrize(
    ("persona", "job_project", "expected"),
    [
        ("officer_client", "project", 200),
        ("officer_client", "other_project", 200),
        ("auditor_client", "other_project", 200),
        ("engineer_client", "project", 200),
        ("engineer_client", "other_project", 404),
        ("outsider_client", "project", 404),
    ],
)
def test_the_job_page_follows_roles(request, persona, job_project, expected):
    client = request.getfixturevalue(persona)
    job = make_job(request.getfixturevalue(job_project))
    for name in ("import-detail", "import-status", "import-rejected-csv"):
        response = client.get(reverse(name, args=["acme", job.pk]))
        assert response.status_code == expected, name


def test_the_job_page_redirects_anonymous(client, project):
    job = make_job(project)
    response = client.get(reverse("import-detail", args=["acme", job.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_job_page_is_not_reachable_through_another_org(outsider_client, project):
    job = make_job(project)
    assert outsider_client.get(reverse("import-detail", args=["globex", job.pk])).status_code == 404


def test_the_job_page_lists_rejected_rows_and_the_error(officer_client, project):
    job = make_job(project, status=JobStatus.DONE, rows_read=3, rows_rejected=1, records_new=2)
    RowError.objects.create(
        job=job, row=3, column="duration", code="not_a_number", message="duration is not a number", raw_value="<b>x</b>"
    )
    failed = make_job(project, sha256="1" * 64, status=JobStatus.FAILED, error_message="missing required columns")

    page = officer_client.get(reverse("import-detail", args=["acme", job.pk])).content.decode()
    assert "duration is not a number" in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert reverse("import-rejected-csv", args=["acme", job.pk]) in page
    assert "http-equiv" not in page  # finished: no refresh
    failed_page = officer_client.get(reverse("import-detail", args=["acme", failed.pk])).content.decode()
    assert "missing required columns" in failed_page


def test_a_running_job_page_refreshes_without_js_and_polls_with_js(engineer_client, project):
    job = make_job(project, status=JobStatus.RUNNING, stage="reading", rows_processed=1000)
    page = engineer_client.get(reverse("import-detail", args=["acme", job.pk])).content.decode()
    assert '<noscript><meta http-equiv="refresh"' in page
    assert reverse("import-status", args=["acme", job.pk]) in page and "js/import_progress.js" in page
    assert "<script>" not in page  # CSP: no inline script


def test_the_status_json_reports_progress(engineer_client, project):
    job = make_job(project, status=JobStatus.RUNNING, stage="reading", rows_processed=1000)
    data = engineer_client.get(reverse("import-status", args=["acme", job.pk])).json()
    assert data["status"] == "running" and data["finished"] is False and data["rows_processed"] == 1000
    assert 0 < data["progress"] < 100

    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.DONE, stage="done", records_new=3)
    data = engineer_client.get(reverse("import-status", args=["acme", job.pk])).json()
    assert data["finished"] is True and data["progress"] == 100 and data["records_new"] == 3


def test_the_rejected_rows_csv_is_formula_safe(engineer_client, project):
    job = make_job(project, rows_rejected=2)
    RowError.objects.create(
        job=job,
        row=7,
        column="project_name",
        code="bad",
        message="=cmd|' /C calc'!A0",
        raw_value='=HYPERLINK("http://x","y")',
    )
    RowError.objects.create(job=job, row=9, column="duration", code="bad", message="negative", raw_value="-12.5")

    response = engineer_client.get(reverse("import-rejected-csv", args=["acme", job.pk]))

    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["line", "column", "code", "reason", "raw_value"]
    assert rows[1] == ["7", "project_name", "bad", "'=cmd|' /C calc'!A0", '\'=HYPERLINK("http://x","y")']
    assert rows[2][4] == "'-12.5"  # a raw cell is text, however numeric it looks
    assert text.splitlines()[1].startswith("7,")  # the line number stays a bare number


def test_the_formula_safe_writer_keeps_numbers_numeric():
    assert safe_cell(-12.5) == -12.5 and safe_cell(3) == 3
    for trigger in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx"):
        assert safe_cell(trigger) == "'" + trigger
    line = list(safe_csv_lines(["a", "b"], [[-12.5, 'x"y,z']], bom=False))[1]
    assert line == '-12.5,"x""y,z"\r\n'


def test_the_original_file_downloads_as_attachment(
    engineer_client, project, sample_dir, django_capture_on_commit_callbacks
):
    response = post_upload(engineer_client, project, sample_upload(sample_dir), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    download = engineer_client.get(reverse("import-file", args=["acme", job.pk]))
    assert download.status_code == 200, response
    assert download["Content-Disposition"].startswith("attachment;") and SAMPLE in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == (sample_dir / SAMPLE).read_bytes()


def test_the_original_file_is_404_without_a_stored_file(officer_client, project):
    job = make_job(project, stored_path="")
    assert officer_client.get(reverse("import-file", args=["acme", job.pk])).status_code == 404


def test_the_original_file_is_hidden_from_non_members(engineer_client, outsider_client, other_project):
    job = make_job(other_project, stored_path="nothing.upload")
    assert engineer_client.get(reverse("import-file", args=["acme", job.pk])).status_code == 404
    assert outsider_client.get(reverse("import-file", args=["acme", job.pk])).status_code == 404


# ---------------------------------------------------------------------------------------------- list


def test_the_project_imports_list_pages(engineer_client, project):
    for i in range(30):
        make_job(project, sha256=f"{i:064d}", original_name=f"run-{i}.csv")
    url = reverse("project-imports", args=["acme", "ml"])
    first = engineer_client.get(url)
    assert first.status_code == 200
    assert first.content.count(b"run-") == 25 and b"Page 1 of 2" in first.content
    assert engineer_client.get(url + "?page=2").content.count(b"run-") == 5


@pytest.mark.parametrize(("persona", "expected"), [("auditor_client", 200), ("outsider_client", 404)])
def test_the_project_imports_list_follows_roles(request, project, persona, expected):
    client = request.getfixturevalue(persona)
    assert client.get(reverse("project-imports", args=["acme", "ml"])).status_code == expected


def test_the_project_imports_list_hides_other_projects_from_engineers(engineer_client, other_project):
    assert engineer_client.get(reverse("project-imports", args=["acme", "web"])).status_code == 404


def test_auditors_see_no_upload_form_on_the_list(auditor_client, project):
    page = auditor_client.get(reverse("project-imports", args=["acme", "ml"]))
    assert b'name="file"' not in page.content


# ---------------------------------------------------------------------------------------------- job → its runs


@pytest.mark.django_db
def test_the_job_page_links_to_the_runs_it_wrote(
    engineer_client, project, sample_dir, django_capture_on_commit_callbacks
):
    post_upload(engineer_client, project, sample_upload(sample_dir), django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    response = engineer_client.get(reverse("import-detail", args=["acme", job.pk]))
    url = response.context["runs_url"]
    assert url == reverse("project-detail", args=["acme", project.slug]) + f"?job={job.pk}#runs-heading"
    assert f'href="{url}"' in response.content.decode()

    runs_page = engineer_client.get(url.split("#")[0])
    listed = {entry.pk for entry in runs_page.context["table"]["page"].object_list}
    written = set(LedgerEntry.objects.filter(import_job=job, source="codecarbon").values_list("pk", flat=True))
    assert len(listed) == SAMPLE_RUNS and listed == written


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [{"records_unchanged": 3}, {"kind": "billing", "records_new": 3}])
def test_a_job_that_wrote_no_runs_has_no_runs_link(officer_client, project, fields):
    job = make_job(project, **fields)
    response = officer_client.get(reverse("import-detail", args=["acme", job.pk]))
    assert response.context["runs_url"] is None
    assert 'id="job-runs-link"' not in response.content.decode()
