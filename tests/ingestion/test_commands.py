"""`manage.py ingest` and `manage.py create_token`."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from greenesg.accounts.models import Organisation, Project
from greenesg.footprint.models import LedgerEntry
from ingestion.models import ImportJob, JobStatus

SAMPLE = "emissions_codecarbon_3.3.2.csv"


def ingest(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("ingest", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


@pytest.fixture
def with_bad_rows(tmp_path: Path, sample_dir: Path) -> Path:
    lines = (sample_dir / SAMPLE).read_text().splitlines()
    header = lines[0].split(",")
    broken = lines[3].split(",")
    broken[header.index("duration")] = "=HYPERLINK(1)"
    path = tmp_path / "emissions.csv"
    path.write_text("\n".join([*lines[:3], ",".join(broken), *lines[4:]]) + "\n")
    return path


def test_it_imports_files_synchronously(project, sample_dir):
    code, out = ingest("codecarbon", str(sample_dir / SAMPLE), "--project", "acme/ml")

    assert code == 0, out
    assert f"{SAMPLE}: done: 5 rows read, runs 4 new / 0 updated / 0 unchanged, 0 rows rejected" in out
    job = ImportJob.objects.get()
    assert (job.origin, job.status) == ("cli", JobStatus.DONE)
    assert LedgerEntry.objects.filter(project=project).count() == 4


def test_it_reports_a_second_import_as_already_imported(project, sample_dir):
    ingest("codecarbon", str(sample_dir / SAMPLE), "--project", "acme/ml")
    code, out = ingest("codecarbon", str(sample_dir / SAMPLE), "--project", "acme/ml")
    assert code == 0
    assert "already imported" in out and ImportJob.objects.count() == 1


def test_it_exits_1_and_lists_rejected_rows(project, with_bad_rows):
    code, out = ingest("codecarbon", str(with_bad_rows), "--project", "acme/ml")

    assert code == 1
    assert "1 rows rejected" in out and "line 4, column duration:" in out
    assert "0 file(s) refused, 1 row(s) rejected" in out
    assert ImportJob.objects.get().status == JobStatus.DONE  # the good rows are kept


def test_it_exits_1_when_a_file_is_refused(project, tmp_path, sample_dir):
    not_codecarbon = tmp_path / "other.csv"
    not_codecarbon.write_text("name,value\nx,1\n")
    wrong_name = tmp_path / "emissions.txt"
    wrong_name.write_text("x")

    code, out = ingest(
        "codecarbon",
        str(not_codecarbon),
        str(wrong_name),
        str(tmp_path / "missing.csv"),
        str(sample_dir / SAMPLE),
        "--project",
        "acme/ml",
    )

    assert code == 1
    assert "other.csv: refused (failed):" in out and "missing required columns" in out
    assert "emissions.txt: refused: Only codecarbon files" in out
    assert "missing.csv: refused: no such file" in out
    assert f"{SAMPLE}: done" in out  # the good file is still imported
    assert "3 file(s) refused" in out


def test_it_refuses_an_unknown_project_unless_asked_to_create_it(db, sample_dir):
    code, out = ingest("codecarbon", str(sample_dir / SAMPLE), "--project", "neworg/newproj")
    assert code == 1 and "No project 'neworg/newproj'" in out
    assert not ImportJob.objects.exists()

    code, out = ingest("codecarbon", str(sample_dir / SAMPLE), "--project", "neworg/newproj", "--create")
    assert code == 0, out
    project = Project.objects.get(organisation__slug="neworg", slug="newproj")
    assert Organisation.objects.filter(slug="neworg").count() == 1
    assert LedgerEntry.objects.filter(project=project).count() == 4


BILLING_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "billing"


def test_billing_files_are_imported_for_an_organisation(org):
    code, out = ingest("billing", str(BILLING_FIXTURES / "cur_legacy.csv"), "--org", "acme")
    assert code == 0, out
    job = ImportJob.objects.get(organisation=org, kind="billing")
    assert job.status == JobStatus.DONE
    assert LedgerEntry.objects.filter(organisation=org, source="billing").exists()


def test_a_billing_file_of_unknown_format_exits_1(org, tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_text("foo,bar\n1,2\n")
    code, out = ingest("billing", str(path), "--org", "acme")
    assert code == 1
    assert not LedgerEntry.objects.filter(organisation=org).exists()


def test_billing_needs_an_organisation(db):
    with pytest.raises(CommandError):
        call_command("ingest", "billing", "cur.csv", stdout=StringIO(), stderr=StringIO())


def test_a_source_is_required(db):
    with pytest.raises(CommandError):
        call_command("ingest")


def test_create_refuses_labels_that_are_not_slugs(db, sample_dir):
    code, out = ingest("codecarbon", str(sample_dir / SAMPLE), "--project", "Acme Corp/ml", "--create")
    assert code == 1 and "ORG/PROJECT" in out
    assert not Organisation.objects.exists()
