"""Upload acceptance: the file-name allow-list, a cheap content sniff and a byte-counting upload handler.

Used by the browser upload, the API and the CLI, so every entry point refuses the same files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler

from ingestion.storage import UploadTooLarge

# codecarbon writes emissions.csv, task files emissions_<experiment>_<run>.csv and, when the header
# changes, emissions.csv.bak / emissions.csv_0.bak. Nothing else is a codecarbon file.
ALLOWED_NAME = re.compile(r"[^\x00-\x1f/\\]{1,200}\.(csv|bak)", re.IGNORECASE)
# Multipart framing (boundaries, part headers, the CSRF field) on top of the file itself.
MULTIPART_OVERHEAD = 64 * 1024
SNIFF_BYTES = 4096


def display_name(raw_name: str) -> str:
    """The original name as display text only: last path component, control characters dropped, capped."""
    name = Path(raw_name.replace("\\", "/")).name
    return "".join(ch for ch in name if ch.isprintable())[:200]


def name_problem(raw_name: str) -> str | None:
    name = display_name(raw_name or "")
    if "\x00" in (raw_name or "") or not ALLOWED_NAME.fullmatch(name):
        return "Only codecarbon files can be imported: a name ending in .csv or .bak (e.g. emissions.csv)."
    return None


def content_problem(head: bytes) -> str | None:
    """Refuse what is obviously not a text CSV, whatever its name and Content-Type say (OWASP upload rules)."""
    if not head.strip():
        return "The file is empty."
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\x1f\x8b"):
        return "Compressed files are not accepted for codecarbon imports; upload the .csv itself."
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 text (Excel "Unicode text"): the reader decides
    if b"\x00" in head:
        return "The file is binary, not a CSV text file."
    return None


def stored_head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(SNIFF_BYTES)


class UploadForm(forms.Form):
    file = forms.FileField(label="codecarbon file", help_text="emissions.csv, a task file or a .bak backup")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        problem = name_problem(upload.name)
        if problem is None:
            # A few KB from the start of the spooled file, never the whole file.
            upload.seek(0)
            problem = content_problem(upload.read(SNIFF_BYTES))
            upload.seek(0)
        if problem:
            raise forms.ValidationError(problem)
        return upload


class LimitedUploadHandler(FileUploadHandler):
    """Counts the bytes of the request body and stops at the upload cap with UploadTooLarge.

    Django has no file-size limit of its own; without this handler a huge upload would be spooled to
    a temporary file in full before any view code could refuse it (docs/security.md §5).
    """

    def __init__(self, request: Any = None, *, max_bytes: int | None = None) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes if max_bytes is not None else settings.MAX_UPLOAD_BYTES
        self.received = 0

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: str | None = None
    ) -> None:
        # Refuse before reading a byte when the client announces more than we would ever keep.
        if content_length and content_length > self.max_bytes + MULTIPART_OVERHEAD:
            raise UploadTooLarge(f"the file is larger than the limit of {self.max_bytes:,} bytes")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            raise UploadTooLarge(f"the file is larger than the limit of {self.max_bytes:,} bytes")
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
