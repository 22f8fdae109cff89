"""The site map the browser tests walk: every demo login reaches the pages of its journey, and only those."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client

from demo.loader import demo_load
from tests.site_map import demo_url_values, html_pages

pytestmark = pytest.mark.django_db


def test_every_demo_login_walks_its_own_pages() -> None:
    demo_load(today=dt.date(2026, 11, 15))
    values = demo_url_values()
    pages = {}
    for login in ("officer", "engineer", "auditor"):
        client = Client()
        client.force_login(User.objects.get(username=login))
        pages[login] = {page.name for page in html_pages(client, values)}

    for login in ("officer", "engineer", "auditor"):
        assert {"org-overview", "project-detail", "org-records", "ledger-detail", "glossary"} <= pages[login], login
    assert {"esg-inbox", "org-members", "billing-home", "steering-org-budgets", "esrs-settings"} <= pages["officer"]
    assert {"project-imports", "import-detail", "steering-project-sci", "experiment-detail"} <= pages["engineer"]
    assert "org-audit" in pages["auditor"]
    assert "org-members" not in pages["engineer"]
    assert "project-upload" not in pages["auditor"]
