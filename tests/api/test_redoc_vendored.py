"""static/js/redoc.standalone.js is the pinned sidecar bundle minus its CDN logo and source-map line, nothing else."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location("vendor_redoc", ROOT / "tools" / "vendor_redoc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_vendored_redoc_is_the_sidecar_bundle_without_the_cdn_logo():
    tool = _tool()
    vendored = (ROOT / "static" / "js" / "redoc.standalone.js").read_bytes()
    original = (tool.sidecar_bundle() / "redoc.standalone.js").read_bytes()
    assert vendored == tool.patched(original), "run .venv/bin/python tools/vendor_redoc.py"
    # No external URL left, and no source-map line for collectstatic's manifest to resolve.
    assert b"cdn.redoc.ly" not in vendored
    assert re.search(rb"(?m)^//# sourceMappingURL=", vendored) is None
