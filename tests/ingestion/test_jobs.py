"""The shared job lifecycle and the after-import hook list (issue 11, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenesg.accounts.models import Project
from ingestion import hooks, storage
from ingestion.hooks import ImportPublished
from ingestion.jobs import ImportRefused, import_job_submit
from ingestion.models import JobStatus
from ingestion.process import import_job_process

pytestmark = pytest.mark.django_db


def test_a_refusal_carries_its_row_count_from_the_constructor() -> None:
    error = ImportRefused("too many bad rows", rows_read=12)
    assert (str(error), error.rows_read) == ("too many bad rows", 12)
    assert ImportRefused("empty").rows_read == 0


def test_steering_registers_its_budget_check_as_an_after_import_hook() -> None:
    from steering.tasks import budget_check_after_import_hook

    assert budget_check_after_import_hook in hooks.after_import_hooks


def test_hooks_run_after_the_import_commits_with_the_project(
    project: Project, sample_dir: Path, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    seen: list[ImportPublished] = []
    monkeypatch.setattr(hooks, "after_import_hooks", [seen.append])
    stored = storage.store_chunks([(sample_dir / "emissions_codecarbon_3.3.2.csv").read_bytes()])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job
    with django_capture_on_commit_callbacks(execute=True):
        import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert seen == [ImportPublished(organisation_id=project.organisation_id, project_id=project.pk, kind="codecarbon")]


def test_a_refused_file_runs_no_hook(
    project: Project, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    seen: list[ImportPublished] = []
    monkeypatch.setattr(hooks, "after_import_hooks", [seen.append])
    stored = storage.store_chunks([b"timestamp,project_name,run_id\n"])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job
    with django_capture_on_commit_callbacks(execute=True):
        import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert seen == []


def test_ingestion_imports_no_feature_app() -> None:
    # The lifecycle and both pipelines must load without steering, esg or reports (import-linter checks the rest).
    import ast

    root = Path(__file__).resolve().parents[2] / "ingestion"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(("steering", "esg"))]
    assert offenders == []
