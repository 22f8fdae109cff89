"""The only URL fetcher WeasyPrint gets for reports (docs/security.md §8; verified against WeasyPrint 70).

WeasyPrint 70 takes a `URLFetcher` subclass (`weasyprint.urls.URLFetcher`, an urllib OpenerDirector with
`timeout`, `allowed_protocols`, `allow_redirects`, `fail_on_errors`). Its default fetches http, https, ftp,
file and data and follows redirects. Ours allows `data:` URIs (our inlined charts) and `file:` URLs of
regular files inside our static folders, never under MEDIA_ROOT (user uploads). Everything else raises
`FatalURLFetchingError` (a BaseException WeasyPrint does not swallow), so a blocked fetch fails the render
instead of silently dropping a resource. Redirect handling is not even installed (allow_redirects=False),
and http(s)/ftp never reach urllib at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint.urls import FatalURLFetchingError, URLFetcher

ALLOWED_PROTOCOLS = ("data", "file")
TIMEOUT_SECONDS = 3


class BlockedFetch(FatalURLFetchingError):
    """A resource outside the report's allow-list was requested."""


def default_roots() -> list[Path]:
    from django.conf import settings

    roots = [Path(p) for p in getattr(settings, "STATICFILES_DIRS", [])]
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(settings.STATIC_ROOT))
    return roots


def default_forbidden() -> list[Path]:
    from django.conf import settings

    return [Path(settings.MEDIA_ROOT)] if getattr(settings, "MEDIA_ROOT", None) else []


class ReportURLFetcher(URLFetcher):
    def __init__(self, roots: Iterable[Path] | None = None, forbidden: Iterable[Path] | None = None) -> None:
        super().__init__(
            timeout=TIMEOUT_SECONDS,
            allowed_protocols=ALLOWED_PROTOCOLS,
            allow_redirects=False,
            fail_on_errors=True,
        )
        self.roots = [Path(r).resolve() for r in (default_roots() if roots is None else roots)]
        self.forbidden = [Path(f).resolve() for f in (default_forbidden() if forbidden is None else forbidden)]
        self.blocked: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file" and self.file_allowed(url):
            return super().fetch(url, headers)
        self.blocked.append(url[:200])
        raise BlockedFetch(f"Report rendering blocked a fetch of {url[:200]!r}")

    def file_allowed(self, url: str) -> bool:
        parts = urlsplit(url.split("?", 1)[0])
        if parts.netloc not in ("", "localhost"):
            return False
        # resolve() follows symlinks, so a link inside static pointing elsewhere is judged by its target.
        path = Path(url2pathname(parts.path)).resolve()
        if any(path.is_relative_to(root) for root in self.forbidden):
            return False
        return path.is_file() and any(path.is_relative_to(root) for root in self.roots)
