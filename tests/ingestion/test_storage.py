"""Uploads through Django's STORAGES (issue 13, item 8): a shared folder or a backend without local paths."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db.models import Sum

from greenesg.accounts.models import Project
from greenesg.footprint.models import LedgerEntry
from ingestion import storage
from ingestion.jobs import import_job_submit
from ingestion.models import JobStatus
from ingestion.process import import_job_process

pytestmark = pytest.mark.django_db


class ObjectStoreLike(Storage):
    """Like S3 through django-storages: objects by name, no local path (Storage.path raises)."""

    objects: dict[str, bytes] = {}

    def _save(self, name: str, content) -> str:  # noqa: ANN001 - Django's File
        self.objects[name] = b"".join(content.chunks())
        return name

    def _open(self, name: str, mode: str = "rb") -> ContentFile:
        return ContentFile(self.objects[name], name=name)

    def exists(self, name: str) -> bool:
        return name in self.objects

    def delete(self, name: str) -> None:
        self.objects.pop(name, None)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return [], [name.removeprefix(f"{path}/") for name in self.objects if name.startswith(f"{path}/")]


REMOTE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # No local path, like an object store: the worker must copy the upload first.
    "imports": {"BACKEND": f"{__name__}.ObjectStoreLike"},
}


def test_a_shared_location_holds_the_uploads_whatever_the_var_folder(settings, tmp_path: Path) -> None:
    shared = tmp_path / "shared-volume"
    settings.STORAGES = {
        **settings.STORAGES,
        "imports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(shared)}},
    }
    stored = storage.store_chunks([b"a,b\n", b"1,2\n"])
    assert (shared / "imports" / stored.relative_path).read_bytes() == b"a,b\n1,2\n"
    assert storage.open_stored(stored.relative_path) == shared / "imports" / stored.relative_path
    storage.discard(stored.relative_path)
    assert not (shared / "imports" / stored.relative_path).exists()


def test_a_backend_without_local_paths_stores_hashes_and_serves_a_local_copy(settings, tmp_path: Path) -> None:
    settings.STORAGES = REMOTE
    settings.VAR_DIR = tmp_path / "var"
    content = b"x" * 3_000_000
    stored = storage.store_chunks([content[:1_000_000], content[1_000_000:]])
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.size_bytes == len(content)
    assert storages["imports"].exists(f"imports/{stored.relative_path}")
    assert not list((tmp_path / "var" / "imports-scratch").glob("*.staged"))  # the staging copy is gone

    local = storage.open_stored(stored.relative_path)
    assert local.read_bytes() == content
    assert local.parent == tmp_path / "var" / "imports-scratch"

    storage.discard(stored.relative_path)
    assert not storages["imports"].exists(f"imports/{stored.relative_path}")
    assert not local.exists()


def test_an_oversized_upload_leaves_nothing_on_a_remote_backend(settings, tmp_path: Path) -> None:
    settings.STORAGES = REMOTE
    settings.VAR_DIR = tmp_path / "var"
    with pytest.raises(storage.UploadTooLarge):
        storage.store_chunks([b"y" * 600, b"y" * 600], max_bytes=1000)
    assert storages["imports"].listdir("imports") == ([], [])
    assert not list((tmp_path / "var" / "imports-scratch").iterdir())


def test_a_codecarbon_import_runs_from_a_backend_without_local_paths(
    settings, tmp_path: Path, project: Project, sample_dir: Path
) -> None:
    settings.STORAGES = REMOTE
    settings.VAR_DIR = tmp_path / "var"
    stored = storage.store_chunks([(sample_dir / "emissions_codecarbon_3.3.2.csv").read_bytes()])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="cli", stored=stored, original_name="e.csv", enqueue=False
    ).job
    import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error_message
    assert job.records_new > 0
    assert LedgerEntry.objects.filter(project=project).aggregate(s=Sum("energy_facility_kwh"))["s"] > 0
