"""A record shows its source timestamp in the zone the file was written in, next to UTC."""

from __future__ import annotations

from io import StringIO

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command
from django.urls import reverse

from greenesg.footprint.models import LedgerEntry
from tests.conftest import SAMPLES

pytestmark = pytest.mark.django_db


def test_a_codecarbon_record_shows_its_local_time_with_offset(officer_client, project):
    project.host_timezone = "Europe/Paris"
    project.save()
    call_command(
        "ingest",
        "codecarbon",
        str(SAMPLES / "emissions_codecarbon_3.3.2.csv"),
        "--project",
        "acme/ml",
        stdout=StringIO(),
    )
    entry = LedgerEntry.objects.filter(project=project, source="codecarbon").order_by("period_end").first()
    project.host_timezone = "America/New_York"  # a later change of the setting must not rewrite history
    project.save()

    page = officer_client.get(reverse("ledger-detail", args=["acme", "ml", entry.pk]))

    text = BeautifulSoup(page.content, "html.parser").select_one("#source-time").get_text(" ", strip=True)
    assert "UTC+01:00" in text and "Europe/Paris" in text and "current setting" not in text
    assert entry.period_end.strftime("%H:%M") != text.split()[1][:5]  # the local hour differs from UTC's
