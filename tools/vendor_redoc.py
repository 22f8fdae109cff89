"""Copy Redoc's standalone bundle from drf-spectacular-sidecar into static/js/, without its one external request.

Redoc's side menu shows the Redocly logo from cdn.redoc.ly, which our CSP (img-src 'self') blocks and which
would tell a third party who reads our API docs. The copy differs from the pinned sidecar bundle only in that
URL, now empty (the image's error handler then hides it), and the dropped source-map comment;
tests/api/test_redoc_vendored.py checks exactly that.
Run after upgrading drf-spectacular-sidecar: .venv/bin/python tools/vendor_redoc.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

LOGO = b'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"'
NO_LOGO = b'src:""'
# The source map stays in the sidecar; a reference to a file we do not ship would fail collectstatic's manifest.
SOURCE_MAP = b"\n//# sourceMappingURL=redoc.standalone.js.map"
TARGET = Path(__file__).resolve().parent.parent / "static" / "js"


def sidecar_bundle() -> Path:
    import drf_spectacular_sidecar

    return Path(drf_spectacular_sidecar.__file__).parent / "static/drf_spectacular_sidecar/redoc/bundles"


def patched(original: bytes) -> bytes:
    if original.count(LOGO) != 1:
        raise SystemExit("the Redoc bundle changed: the logo URL is not there exactly once; review by hand")
    return original.replace(LOGO, NO_LOGO).replace(SOURCE_MAP, b"")


def main() -> int:
    source = sidecar_bundle()
    (TARGET / "redoc.standalone.js").write_bytes(patched((source / "redoc.standalone.js").read_bytes()))
    shutil.copyfile(source / "redoc.standalone.js.LICENSE.txt", TARGET / "redoc.standalone.js.LICENSE.txt")
    print(f"wrote {TARGET / 'redoc.standalone.js'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
