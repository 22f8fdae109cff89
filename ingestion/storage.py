"""Private storage of uploaded files: streamed to disk under a generated name while hashing."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


class UploadTooLarge(Exception):
    pass


@dataclass(frozen=True)
class StoredFile:
    relative_path: str
    sha256: str
    size_bytes: int

    @property
    def absolute_path(self) -> Path:
        return imports_root() / self.relative_path


def imports_root() -> Path:
    root = Path(settings.MEDIA_ROOT) / "imports"
    root.mkdir(parents=True, exist_ok=True)
    return root


def store_chunks(chunks: Iterable[bytes], *, max_bytes: int | None = None) -> StoredFile:
    """Write chunks to a new file, hashing as we go; never holds the whole file in memory.

    The size cap is enforced while streaming, so an oversized upload is stopped and its partial
    file deleted before any job exists.
    """
    limit = max_bytes if max_bytes is not None else settings.MAX_UPLOAD_BYTES
    name = f"{uuid.uuid4().hex}.upload"
    path = imports_root() / name
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
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StoredFile(relative_path=name, sha256=digest.hexdigest(), size_bytes=size)


def store_path(source: Path) -> StoredFile:
    def chunks() -> Iterable[bytes]:
        with open(source, "rb") as handle:
            while block := handle.read(1024 * 1024):
                yield block

    return store_chunks(chunks())


def discard(relative_path: str) -> None:
    if relative_path:
        (imports_root() / relative_path).unlink(missing_ok=True)


def open_stored(relative_path: str) -> os.PathLike[str]:
    return imports_root() / relative_path
