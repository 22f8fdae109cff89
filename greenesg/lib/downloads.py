"""One way to answer a download: every file the product hands out goes through `attachment_response`.

Why one helper: a `FileResponse` over an iterator (not a file object) silently drops Content-Disposition,
so browsers saved reports as "download.csv" and opened PDF/JSON/iXBRL inline. Every download here is
an attachment with a meaningful name, an explicit Content-Type, no MIME sniffing (a stored upload or an
echoed cell must never be run as HTML) and no shared caching (the files are tenant data).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import BinaryIO

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

# Path separators and control characters never reach a saved name; the rest (spaces, accents) is kept
# and encoded by content_disposition_header as RFC 6266 filename*.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def download_filename(name: str, *, default: str = "download") -> str:
    """A name a browser can save as given: no directories, no control characters, at most 150 characters."""
    cleaned = _UNSAFE.sub("_", name).strip(" ._")
    if len(cleaned) > 150:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (stem[: 149 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else cleaned[:150]
    return cleaned or default


def attachment_response(
    content: bytes | str | Iterable[bytes] | Iterable[str] | BinaryIO, *, filename: str, content_type: str
) -> HttpResponseBase:
    """Answer `content` as a download named `filename`.

    bytes/str are sent whole; an open binary file is streamed by FileResponse (which closes it); any other
    iterable is streamed chunk by chunk, so CSV exports need not be held in memory.
    """
    response: HttpResponseBase
    if isinstance(content, bytes | str):
        response = HttpResponse(content, content_type=content_type)
    elif hasattr(content, "read"):
        response = FileResponse(content, content_type=content_type)
    else:
        response = StreamingHttpResponse(content, content_type=content_type)
    # Set after construction: FileResponse would otherwise derive the name from the stored path.
    response["Content-Disposition"] = content_disposition_header(True, download_filename(filename))
    response["Content-Type"] = content_type
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
