"""Private storage of uploaded files: streamed under a generated name while hashing.

Uploads live in the `imports` storage of Django's STORAGES (docs/operations.md §9): by default a folder
under MEDIA_ROOT, which several machines share as a volume (`IMPORTS_STORAGE_LOCATION`); any Django
storage backend (for example django-storages' S3 backend for S3-compatible object storage) can replace it
with `IMPORTS_STORAGE_BACKEND`. The readers need a local file (they seek, and pyarrow maps it), so a worker
on a backend without local paths copies the upload into its own scratch folder first.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

FOLDER = "imports"


class UploadTooLarge(Exception):
    pass


@dataclass(frozen=True)
class StoredFile:
    relative_path: str
    sha256: str
    size_bytes: int

    @property
    def absolute_path(self) -> Path:
        return open_stored(self.relative_path)


def imports_storage() -> Storage:
    return storages["imports"]


def _storage_name(relative_path: str) -> str:
    return f"{FOLDER}/{relative_path}"


def _local_path(relative_path: str) -> Path | None:
    """The file's own path when the backend has one (a filesystem or shared volume), else None."""
    try:
        return Path(imports_storage().path(_storage_name(relative_path)))
    except NotImplementedError:
        return None


def _scratch_dir() -> Path:
    """This machine's scratch folder for copies of uploads kept on a remote backend."""
    folder = Path(settings.VAR_DIR) / "imports-scratch"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def imports_root() -> Path:
    """The local folder of the uploads (filesystem backends); tests and the CLI list it."""
    root = Path(imports_storage().path(FOLDER))
    root.mkdir(parents=True, exist_ok=True)
    return root


def store_chunks(chunks: Iterable[bytes], *, max_bytes: int | None = None) -> StoredFile:
    """Write chunks to a new file, hashing as we go; never holds the whole file in memory.

    The size cap is enforced while streaming, so an oversized upload is stopped and its partial
    file deleted before any job exists.
    """
    limit = max_bytes if max_bytes is not None else settings.MAX_UPLOAD_BYTES
    name = f"{uuid.uuid4().hex}.upload"
    local = _local_path(name)
    if local is not None:
        local.parent.mkdir(parents=True, exist_ok=True)
        path = local
    else:
        handle, staged = tempfile.mkstemp(dir=_scratch_dir(), suffix=".staged")
        os.close(handle)
        path = Path(staged)
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(f"the file is larger than the limit of {limit:,} bytes")
                digest.update(chunk)
                out.write(chunk)
        if local is None:
            with open(path, "rb") as staged_file:
                imports_storage().save(_storage_name(name), File(staged_file, name=name))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        if local is None:
            path.unlink(missing_ok=True)
    return StoredFile(relative_path=name, sha256=digest.hexdigest(), size_bytes=size)


def store_path(source: Path) -> StoredFile:
    def chunks() -> Iterable[bytes]:
        with open(source, "rb") as handle:
            while block := handle.read(1024 * 1024):
                yield block

    return store_chunks(chunks())


def discard(relative_path: str) -> None:
    if not relative_path:
        return
    local = _local_path(relative_path)
    if local is not None:
        local.unlink(missing_ok=True)
        return
    imports_storage().delete(_storage_name(relative_path))
    (_scratch_dir() / relative_path).unlink(missing_ok=True)


def open_stored(relative_path: str) -> Path:
    """A local path to read the upload from: the file itself, or this machine's copy of a remote one."""
    local = _local_path(relative_path)
    if local is not None:
        return local
    copy = _scratch_dir() / relative_path
    if not copy.exists():
        partial = copy.with_suffix(".partial")
        with imports_storage().open(_storage_name(relative_path), "rb") as remote, open(partial, "wb") as out:
            shutil.copyfileobj(remote, out, length=1024 * 1024)
        partial.replace(copy)
    return copy
