"""The report's URL fetcher allows our static files and data: URIs only; user text cannot fetch or inject."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from greenesg.accounts.models import Project
from reports.esrs import render
from reports.esrs import selectors as report_selectors
from reports.esrs import services as report_services
from reports.esrs.fetcher import BlockedFetch, ReportURLFetcher
from tests.esrs.helpers import pdf_text

STATIC = Path(settings.BASE_DIR) / "static"


class _Server:
    def __init__(self) -> None:
        self.hits: list[str] = []
        self.target = "file:///etc/hostname"
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.hits.append(self.path)
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", outer.target)
                    self.end_headers()
                    return
                body = b"body { background: red }"
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def test_it_serves_static_files_and_data_uris() -> None:
    fetcher = ReportURLFetcher()
    response = fetcher.fetch((STATIC / "favicon.svg").as_uri())
    assert b"<svg" in response.read()
    response.close()
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "file://localhost/etc/passwd", "file://evil.example/x.css"])
def test_it_blocks_files_outside_static(url: str) -> None:
    with pytest.raises(BlockedFetch):
        ReportURLFetcher().fetch(url)


def test_it_blocks_path_traversal_and_symlinks_out_of_static(tmp_path: Path) -> None:
    root = tmp_path / "static"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (root / "link.txt").symlink_to(secret)
    fetcher = ReportURLFetcher(roots=[root], forbidden=[])
    for url in ((root / "link.txt").as_uri(), f"{root.as_uri()}/../secret.txt", root.as_uri() + "/"):
        with pytest.raises(BlockedFetch):
            fetcher.fetch(url)


def test_it_blocks_uploads_even_if_they_sit_under_a_static_root(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    upload = media / "evidence.pdf"
    upload.write_bytes(b"%PDF")
    fetcher = ReportURLFetcher(roots=[tmp_path], forbidden=[media])
    with pytest.raises(BlockedFetch):
        fetcher.fetch(upload.as_uri())


def test_it_blocks_http_without_sending_a_request(server: _Server) -> None:
    for url in (server.url + "/style.css", server.url + "/redirect", server.url.replace("http", "https") + "/x"):
        with pytest.raises(BlockedFetch):
            ReportURLFetcher().fetch(url)
    assert server.hits == []


def test_it_never_follows_redirects_even_where_http_were_allowed(server: _Server, tmp_path: Path) -> None:
    # A fetcher variant that lets http through the allow-list still has no redirect handler installed.
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    server.target = secret.as_uri()

    class HttpAllowed(ReportURLFetcher):
        def fetch(self, url: str, headers: dict[str, str] | None = None):
            if url.startswith("http:"):
                return super(ReportURLFetcher, self).fetch(url, headers)
            return super().fetch(url, headers)

    fetcher = HttpAllowed()
    fetcher._allowed_protocols = ("http", "data", "file")
    assert b"background" in fetcher.fetch(server.url + "/ok.css").read()
    with pytest.raises(Exception) as caught:
        fetcher.fetch(server.url + "/redirect")
    assert "302" in str(caught.value)
    assert server.hits == ["/ok.css", "/redirect"]


def test_a_forbidden_resource_fails_the_render_instead_of_being_skipped(server: _Server) -> None:
    for html in (
        '<p>x</p><img src="file:///etc/passwd">',
        f'<link rel="stylesheet" href="{server.url}/style.css"><p>x</p>',
        f"<style>@import url({server.url}/redirect);</style><p>x</p>",
        f'<link rel="attachment" href="{server.url}/a.txt"><p>x</p>',
        f'<svg xmlns="http://www.w3.org/2000/svg"><image href="{server.url}/i.png"/></svg>',
        # Inside an SVG image WeasyPrint swallows even fatal errors: render_pdf re-raises from the fetcher's record.
        '<img src="data:image/svg+xml;utf8,<svg xmlns=%22http://www.w3.org/2000/svg%22>'
        '<image href=%22file:///etc/passwd%22 width=%2210%22 height=%2210%22/></svg>">',
    ):
        with pytest.raises(BlockedFetch):
            render.render_pdf(html)
    assert server.hits == []


@pytest.mark.django_db
def test_hostile_names_render_as_text(acme, project: Project, server: _Server) -> None:
    hostile_project = f'<img src="{server.url}/p.png">=HYPERLINK("x")'
    project.name = hostile_project
    project.save()
    settings_row = acme.reporting_settings
    settings_row.legal_name = f'Acme <b>bold</b><link rel="stylesheet" href="{server.url}/s.css">'
    settings_row.actions_statement = f"<script>alert(1)</script><style>@import url({server.url}/i.css);</style>"
    settings_row.save()
    period = report_selectors.report_period_parse(organisation=acme, text="2026-Q2")
    built = report_services.report_build(organisation=acme, period=period)
    built.meta = report_services.report_meta(None, built.inputs)
    html = report_services.report_document(built, "html").decode()
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>" not in html
    text = pdf_text(report_services.report_document(built, "pdf"))
    assert server.hits == []
    flat = " ".join(text.split())
    assert "Acme <b>bold</b>" in flat
    assert "<script>alert(1)</script>" in flat
    assert '<img src="' in flat  # the project name, printed in the cloud table
