"""Production mode refuses unsafe configuration; `check --deploy` is clean when configured properly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


# Variables of the test process that must not reach a fresh production-mode process.
_NOT_INHERITED = {"SECRET_KEY", "DEBUG", "GREENESG_MODE", "GREENESG_DEMO", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=clean, capture_output=True, text=True, timeout=120, check=False
    )


SETUP = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'greenesg.settings'); django.setup()"
STRONG_KEY = "x7#Lq9!vR2@mZ4$kT8^wB1&nC6*eH3(jP5)sD0_gF-yU+aI=oK~"


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = _run(SETUP, GREENESG_MODE="production", GREENESG_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_with_debug_on(tmp_path: Path) -> None:
    result = _run(SETUP, GREENESG_MODE="production", SECRET_KEY=STRONG_KEY, DEBUG="1", GREENESG_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_production_refuses_to_start_in_demo_mode(tmp_path: Path) -> None:
    # Demo mode prints the demo logins and their password on the login page (tests/accounts/test_login_page.py).
    env = dict(GREENESG_MODE="production", SECRET_KEY=STRONG_KEY, GREENESG_DEMO="1", GREENESG_VAR_DIR=str(tmp_path))
    result = _run(SETUP, **env)
    assert result.returncode != 0
    assert "GREENESG_DEMO" in result.stderr


def test_no_banner_is_logged_at_start(tmp_path: Path) -> None:
    # django-axes logs "AXES: BEGIN …" at INFO when it starts: noise in `make run` and every management command.
    result = _run(SETUP + "; import logging; logging.getLogger('x').info('started')", GREENESG_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "started" in result.stderr and "AXES" not in result.stderr + result.stdout


def test_a_malformed_boolean_is_rejected(tmp_path: Path) -> None:
    result = _run(SETUP, DEBUG="yes", GREENESG_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_check_deploy_is_clean_in_production_mode(tmp_path: Path) -> None:
    env = dict(
        GREENESG_MODE="production",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="greenesg.example.org",
        GREENESG_VAR_DIR=str(tmp_path),
        SECURE_HSTS_SECONDS="31536000",
    )
    clean = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    clean.update(env)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_security_headers_are_sent(client) -> None:
    response = client.get("/login/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_two_databases_sharing_one_var_folder_never_share_cached_figures(tmp_path: Path) -> None:
    """Dashboard bodies are cached per organisation id: the cache key must also name the database."""
    code = SETUP + "; from django.conf import settings; print(settings.CACHES['default'].get('KEY_PREFIX', ''))"
    shared = {"GREENESG_VAR_DIR": str(tmp_path), "CACHE_URL": ""}
    first = _run(code, DATABASE_URL="postgres://postgres@127.0.0.1:5432/greenesg_a", **shared)
    second = _run(code, DATABASE_URL="postgres://postgres@127.0.0.1:5432/greenesg_b", **shared)
    again = _run(code, DATABASE_URL="postgres://postgres@127.0.0.1:5432/greenesg_a", **shared)

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.strip() and first.stdout != second.stdout
    assert first.stdout == again.stdout


def test_debug_is_off_unless_asked_for(tmp_path: Path) -> None:
    # `make run` starts the development mode: a visitor must see our error pages, not Django's debug page.
    code = SETUP + "; from django.conf import settings; print(settings.DEBUG)"
    assert _run(code, GREENESG_VAR_DIR=str(tmp_path)).stdout.strip() == "False"
    assert _run(code, DEBUG="1", GREENESG_VAR_DIR=str(tmp_path)).stdout.strip() == "True"
