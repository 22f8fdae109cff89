"""`manage.py demo` stops with one line that says why, never a traceback: production mode, a failed report."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from demo import approvals
from greenesg.accounts.models import Organisation
from reports.esrs.services import ReportError
from reports.models import Report, ReportStatus

pytestmark = pytest.mark.django_db


def test_a_report_that_fails_to_render_names_the_report_and_the_reason(
    org: Organisation, officer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pango(html: str) -> bytes:
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr("reports.esrs.render.render_pdf", no_pango)
    with pytest.raises(ReportError, match=r"ESRS report 2026-Q3 v1 failed: cannot load library 'libpango-1.0-0'"):
        approvals.signed_report_load(org, "2026-Q3", officer, officer)
    assert Report.objects.get().status == ReportStatus.FAILED  # nothing signed


def test_the_command_turns_it_into_a_command_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(**kwargs: object) -> list[str]:
        raise ReportError("The demo's ESRS report 2026-Q3 v1 failed: no fonts")

    monkeypatch.setattr("demo.loader.demo_load", failing)
    with pytest.raises(CommandError, match="2026-Q3 v1 failed: no fonts"):
        call_command("demo")


def test_production_mode_refuses_the_demo(settings) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refused in production mode"):
        call_command("demo")
