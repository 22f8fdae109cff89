"""The login page says what GreenESG is; in demo mode only, it lists the demo logins that exist and their password
(issue 14 item 17). Production mode refuses demo mode at start, and the page checks again."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from demo.logins import DEMO_LOGINS, DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_users() -> None:
    for name in ("officer", "controller", "auditor"):  # no engineer: the page lists only logins that exist
        User.objects.create_user(name, password=DEMO_PASSWORD)


def _page(client: Client) -> str:
    response = client.get("/login/")
    assert response.status_code == 200
    return response.content.decode()


def test_it_says_what_greenesg_is(client: Client) -> None:
    assert "carbon footprint of software" in _page(client)


def test_demo_mode_lists_the_demo_logins_that_exist(client: Client, settings, demo_users) -> None:
    settings.DEMO_MODE = True
    page = _page(client)
    assert "Demo logins" in page and f"<code>{DEMO_PASSWORD}</code>" in page
    roles = dict(DEMO_LOGINS)
    for name in ("officer", "controller", "auditor"):
        assert f"<li><code>{name}</code>: {roles[name]}</li>" in page
    assert "<code>engineer</code>" not in page


def test_without_demo_mode_no_login_or_password_is_shown(client: Client, settings, demo_users) -> None:
    settings.DEMO_MODE = False
    page = _page(client)
    assert "Demo logins" not in page and "<code>officer</code>" not in page


def test_production_mode_never_shows_them(client: Client, settings, demo_users) -> None:
    settings.DEMO_MODE, settings.PRODUCTION = True, True
    assert "Demo logins" not in _page(client)


def test_demo_mode_without_a_loaded_demo_shows_nothing(client: Client, settings) -> None:
    settings.DEMO_MODE = True
    assert "Demo logins" not in _page(client)
