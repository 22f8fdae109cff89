"""Argon2 hashes new passwords; hashes made before (PBKDF2) still verify and are upgraded on login."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def project_hashers(settings):
    # tests/conftest.py swaps in MD5 for speed; read the list the deployed settings module defines.
    settings.PASSWORD_HASHERS = importlib.import_module("greenesg.settings").PASSWORD_HASHERS
    return settings.PASSWORD_HASHERS


def test_argon2_comes_first(project_hashers):
    assert project_hashers[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in project_hashers


def test_new_passwords_are_hashed_with_argon2(project_hashers):
    user = User.objects.create_user("nina", password="a long passphrase")
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("a long passphrase")


def test_an_existing_pbkdf2_hash_still_logs_in_and_is_upgraded(project_hashers):
    user = User.objects.create_user("olaf")
    user.password = make_password("old secret", hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])

    response = Client().post("/login/", {"username": "olaf", "password": "old secret"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
