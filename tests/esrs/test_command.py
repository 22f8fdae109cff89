"""`manage.py report` writes the same documents as the UI."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.esrs.helpers import pdf_text, row_numbers


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["pdf", "csv", "json", "ixbrl"])
def test_it_writes_each_format(acme, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    call_command("report", org="acme", period="2026-YTD", format=fmt, out=str(out))
    data = out.read_bytes()
    assert data
    if fmt == "pdf":
        text = pdf_text(data)
        assert "Year to date 2026" in text and row_numbers(text, "S1")


@pytest.mark.django_db
def test_it_refuses_bad_input(acme, tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        call_command("report", org="nope", period="2026", out=str(tmp_path / "x"))
    with pytest.raises(CommandError):
        call_command("report", org="acme", period="26-Q3", out=str(tmp_path / "x"))
