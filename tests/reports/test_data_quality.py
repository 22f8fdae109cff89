"""The data-quality panel, the glossary of flags and the records list narrowed to one flag."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from greenesg.footprint.flags import GLOSSARY

from .conftest import refresh, utc

pytestmark = pytest.mark.django_db


def _panel(client) -> dict[str, dict[str, str]]:
    response = client.get(reverse("data-quality", args=["acme"]))
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    rows = {}
    for tr in soup.select("#data-quality tbody tr"):
        cells = tr.find_all("td")
        rows[tr["data-code"]] = {
            "count": cells[0].get_text(" ", strip=True),
            "detail": cells[1].get_text(strip=True),
            "status": cells[2].get_text(strip=True),
            "link": cells[3].a["href"],
        }
    return rows


def test_the_panel_counts_flagged_rows_and_links_each_to_its_fix(officer_client, ledger, make_entry, org, project):
    make_entry(org, project, "u1", end=utc(2025, 2, 9), flags=["region_unmapped"], provider="aws", region="xx-1")
    make_entry(
        org,
        project,
        "u2",
        end=utc(2025, 2, 10),
        flags=["region_unmapped", "proxy_vintage"],
        provider="aws",
        region="xx-1",
    )
    refresh(org)

    rows = _panel(officer_client)

    assert rows["region_unmapped"]["count"].startswith("2") and "aws/xx-1" in rows["region_unmapped"]["detail"]
    assert rows["region_unmapped"]["status"] == "needs action"
    assert rows["proxy_vintage"]["count"].startswith("1")
    assert rows["no_factor"]["status"] == "fine"
    assert rows["region_unmapped"]["link"].endswith("?flag=region_unmapped")
    assert rows["settings_unset"]["link"] == reverse("esrs-settings", args=["acme"])
    assert {"billing_unestimated", "esg_unapproved", "esg_missing", "residual_mix_missing"} <= set(rows)


def test_the_records_list_narrows_to_one_flag_and_explains_it(officer_client, ledger, make_entry, org, project):
    make_entry(org, project, "u1", end=utc(2025, 2, 9), flags=["region_unmapped"], provider="aws", region="xx-1")
    refresh(org)

    response = officer_client.get(reverse("org-records", args=["acme"]) + "?flag=region_unmapped")

    soup = BeautifulSoup(response.content, "html.parser")
    assert response.status_code == 200
    assert len(soup.select("table.records tbody tr")) == 1
    assert GLOSSARY["region_unmapped"].meaning in soup.select_one("#flag-filter").get_text(" ", strip=True)


def test_an_unknown_flag_is_a_bad_request(officer_client, ledger):
    response = officer_client.get(reverse("org-records", args=["acme"]) + "?flag=<script>")
    assert response.status_code == 400


def test_engineers_do_not_see_the_organisation_panel_and_outsiders_get_404(engineer_client, outsider_client):
    assert engineer_client.get(reverse("data-quality", args=["acme"])).status_code == 403
    assert outsider_client.get(reverse("data-quality", args=["acme"])).status_code == 404


def test_the_glossary_explains_every_flag(client, officer_client):
    assert client.get(reverse("glossary")).status_code == 302  # login first
    soup = BeautifulSoup(officer_client.get(reverse("glossary")).content, "html.parser")
    assert {dt["id"] for dt in soup.select("dl.glossary dt")} == set(GLOSSARY)
