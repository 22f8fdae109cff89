"""A record page tells an auditor where each figure came from: source time with its offset next to UTC, the
factor's source, vintage and factor-set version, and what each flag means (issue 14 item 13)."""

from __future__ import annotations

from io import StringIO

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from greenesg.footprint.models import EmissionFactorSet, LedgerEntry
from tests.conftest import SAMPLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(project) -> LedgerEntry:
    project.host_timezone = "Europe/Paris"
    project.save()
    sample = str(SAMPLES / "emissions_codecarbon_3.3.2.csv")
    call_command("ingest", "codecarbon", sample, "--project", "acme/ml", stdout=StringIO())
    row = LedgerEntry.objects.filter(project=project, source="codecarbon").order_by("period_end").first()
    assert row is not None and row.factor is not None
    return row


def _text(client: Client, url: str, selector: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    node = BeautifulSoup(response.content, "html.parser").select_one(selector)
    assert node is not None, selector
    return node.get_text(" ", strip=True)


def _urls(entry: LedgerEntry) -> list[str]:
    return [
        reverse("ledger-detail", args=["acme", "ml", entry.pk]),
        reverse("org-record-detail", args=["acme", entry.pk]),
    ]


def test_the_source_time_stands_next_to_its_utc_equivalent(auditor_client: Client, entry: LedgerEntry) -> None:
    for url in _urls(entry):
        text = _text(auditor_client, url, "#source-time")
        utc = entry.period_end.strftime("%Y-%m-%d %H:%M:%S")
        assert f"UTC+01:00 = {utc} UTC" in text and "Europe/Paris" in text


def test_the_factor_shows_source_vintage_and_set_version(auditor_client: Client, entry: LedgerEntry) -> None:
    factor_set = entry.factor.factor_set
    for url in _urls(entry):
        assert _text(auditor_client, url, "#factor-vintage").startswith(str(entry.factor.vintage_year))
        assert _text(auditor_client, url, "#factor-source") == (entry.factor.source or factor_set.source)
        text = _text(auditor_client, url, "#factor-set")
        assert f"{factor_set.name}, version {factor_set.version}" in text and "loaded" in text
        assert _text(auditor_client, url, "#factor-version") == entry.factor_version == factor_set.label


def test_a_row_with_only_a_version_label_finds_its_set(auditor_client: Client, entry: LedgerEntry) -> None:
    factor_set = entry.factor.factor_set
    LedgerEntry.objects.filter(pk=entry.pk).update(factor=None)
    url = _urls(entry)[0]
    assert f"{factor_set.name}, version {factor_set.version}" in _text(auditor_client, url, "#factor-set")
    assert _text(auditor_client, url, "#factor-source") == factor_set.source
    assert "kept the factor set's version only" in _text(auditor_client, url, "#factor-vintage")


def test_a_version_label_of_another_organisations_set_is_not_looked_up(
    auditor_client: Client, entry: LedgerEntry, other_org
) -> None:
    private = EmissionFactorSet.objects.create(
        organisation=other_org, name="globex-private", version=1, kind=entry.factor.factor_set.kind, source="secret"
    )
    LedgerEntry.objects.filter(pk=entry.pk).update(factor=None, factor_version=private.label)
    body = auditor_client.get(_urls(entry)[0]).content.decode()
    assert "secret" not in body and 'id="factor-set"' not in body


def test_every_flag_links_to_the_glossary_and_says_what_it_means(auditor_client: Client, entry: LedgerEntry) -> None:
    LedgerEntry.objects.filter(pk=entry.pk).update(flags=["proxy_vintage", "made_up_flag"])
    for url in _urls(entry):
        page = BeautifulSoup(auditor_client.get(url).content, "html.parser")
        flags = page.select_one("#flags")
        assert [a["href"] for a in flags.select("a")] == ["/glossary/#proxy_vintage", "/glossary/#made_up_flag"]
        text = flags.get_text(" ", strip=True)
        assert "Older factor year used" in text and "No explanation recorded" in text
        assert "not the row's own year" in page.select_one("#factor-vintage").get_text()
    glossary = BeautifulSoup(auditor_client.get("/glossary/").content, "html.parser")
    assert glossary.select_one("#proxy_vintage") is not None


def test_the_record_page_keeps_its_access_rules(
    client: Client, outsider_client: Client, engineer_client: Client, entry: LedgerEntry
) -> None:
    for url in _urls(entry):
        assert client.get(url).status_code == 302
        assert outsider_client.get(url).status_code == 404
    assert engineer_client.get(_urls(entry)[0]).status_code == 200
