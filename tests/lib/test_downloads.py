"""greenesg.lib.downloads: one helper answers every download as a named attachment."""

from __future__ import annotations

import io

from greenesg.lib.downloads import attachment_response, download_filename


def test_bytes_download_as_a_named_attachment():
    response = attachment_response(b"%PDF-1.7", filename="acme-2026-Q3-v2-report.pdf", content_type="application/pdf")
    assert response["Content-Disposition"] == 'attachment; filename="acme-2026-Q3-v2-report.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response.content == b"%PDF-1.7"


def test_an_iterator_streams_and_keeps_its_name():
    # The defect: FileResponse over an iterator dropped Content-Disposition.
    response = attachment_response(iter([b"a,b\r\n", b"1,2\r\n"]), filename="t.csv", content_type="text/csv")
    assert response.streaming and response["Content-Disposition"] == 'attachment; filename="t.csv"'
    assert b"".join(response.streaming_content) == b"a,b\r\n1,2\r\n"


def test_a_file_streams_under_the_given_name_not_its_stored_path():
    stored = io.BytesIO(b"raw upload")
    stored.name = "/var/media/imports/9f/3a.bin"
    response = attachment_response(stored, filename="cur.csv.gz", content_type="application/octet-stream")
    assert response["Content-Disposition"] == 'attachment; filename="cur.csv.gz"'
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"raw upload"


def test_non_ascii_names_are_sent_as_rfc_6266_filename_star():
    response = attachment_response(b"", filename="Émissions été.csv", content_type="text/csv")
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%C3%89missions%20%C3%A9t%C3%A9.csv"


def test_names_lose_directories_quotes_and_control_characters():
    assert download_filename('../../etc/"passwd"\r\n.csv') == "etc_passwd_.csv"
    assert download_filename("..") == "download"
    long = download_filename("x" * 300 + ".xlsx")
    assert len(long) == 150 and long.endswith(".xlsx")
