"""A PNG of a report PDF's first page, shown on the report page beside the downloads. Pure, no Django.

Rendered once with `pdftoppm` (poppler-utils) when the report is generated or signed, and stored as an artifact
with its SHA-256 like every other document. WeasyPrint draws no raster images, and a whole PDF renderer in
Python would be a heavy dependency for a thumbnail, so the preview is optional: without poppler the page says
that there is no preview, and nothing else changes.
"""

from __future__ import annotations

import logging
import shutil
import subprocess  # noqa: S404 - a fixed argument list, no shell, the PDF goes in on stdin

logger = logging.getLogger(__name__)

PDFTOPPM = "pdftoppm"
WIDTH_PX = 800  # wide enough to read headings on the page, small enough to stay ~100 KB
TIMEOUT_S = 60  # a first page takes well under a second; a stuck renderer must not hold the reports worker


def preview_available() -> bool:
    return shutil.which(PDFTOPPM) is not None


def pdf_first_page_png(pdf: bytes) -> bytes | None:
    """The first page as PNG, or None when poppler is missing or fails (the report itself is unaffected)."""
    binary = shutil.which(PDFTOPPM)
    if binary is None:
        return None
    args = [binary, "-png", "-f", "1", "-l", "1", "-singlefile", "-scale-to", str(WIDTH_PX), "-"]
    try:
        done = subprocess.run(args, input=pdf, capture_output=True, timeout=TIMEOUT_S, check=True)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        logger.warning("pdftoppm could not render a report preview", exc_info=True)
        return None
    return done.stdout if done.stdout.startswith(b"\x89PNG") else None
