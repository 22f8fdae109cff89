"""Shared fixtures: personas in two organisations, clients logged in as each, quick settings.

Personas (demo org "acme"): olivia the officer, erin the engineer (member of project "ml" only),
audrey the auditor; outsider oscar is an officer of another organisation "globex".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from greenesg.accounts.models import Membership, Organisation, Project, Role
from greenesg.accounts.services import api_token_create

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Real codecarbon 3.3.2 output (a run file with a mid-run flush row, and a task file), kept in the repository
# so that a fresh clone runs every test that reads them.
SAMPLES = FIXTURES / "samples"


@pytest.fixture(autouse=True)
def _quick_settings(settings, tmp_path: Path) -> Iterator[None]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.AXES_ENABLED = False
    from django.core.cache import cache

    from greenesg.celery import app

    cache.clear()  # throttle counters and dashboard aggregates must not leak between tests
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


_DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


@pytest.fixture(autouse=True)
def _factor_registry(request: pytest.FixtureRequest) -> None:
    """The registry the data migration seeds. Transactional tests flush tables, including that seed, so
    tests that come after them would find no factors: re-seed when it is gone (cheap, about 0.2 s)."""
    if not _DB_FIXTURES & set(request.fixturenames) and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    from greenesg.footprint.factor_seed import seed_factor_sets
    from greenesg.footprint.models import EmissionFactor, EmissionFactorSet
    from greenesg.footprint.services import factor_sets_load

    if not EmissionFactor.objects.exists():
        factor_sets_load(seed_factor_sets(), set_model=EmissionFactorSet, factor_model=EmissionFactor)


LIVE_REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def live_redis_url() -> str:
    """A Redis that answers (database 15 of the local server), or the test is skipped saying so."""
    import redis

    try:
        redis.Redis.from_url(LIVE_REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        pytest.skip(f"needs a Redis at {LIVE_REDIS_URL}: {exc}")
    return LIVE_REDIS_URL


@pytest.fixture
def sample_dir() -> Path:
    return SAMPLES


def _user(username: str) -> User:
    return User.objects.create_user(username=username, password="pw-" + username, email=f"{username}@example.org")


@pytest.fixture
def org(db) -> Organisation:
    return Organisation.objects.create(slug="acme", name="Acme Software")


@pytest.fixture
def other_org(db) -> Organisation:
    return Organisation.objects.create(slug="globex", name="Globex")


@pytest.fixture
def project(org: Organisation) -> Project:
    return Project.objects.create(organisation=org, slug="ml", name="ML platform", team="Data science")


@pytest.fixture
def other_project(org: Organisation) -> Project:
    return Project.objects.create(organisation=org, slug="web", name="Web shop", team="Commerce")


@pytest.fixture
def foreign_project(other_org: Organisation) -> Project:
    return Project.objects.create(organisation=other_org, slug="ml", name="Globex ML", team="R&D")


@pytest.fixture
def officer(org: Organisation) -> User:
    user = _user("olivia")
    Membership.objects.create(user=user, organisation=org, role=Role.OFFICER)
    return user


@pytest.fixture
def engineer(org: Organisation, project: Project, other_project: Project) -> User:
    user = _user("erin")
    membership = Membership.objects.create(user=user, organisation=org, role=Role.ENGINEER)
    membership.projects.add(project)
    return user


@pytest.fixture
def auditor(org: Organisation) -> User:
    user = _user("audrey")
    Membership.objects.create(user=user, organisation=org, role=Role.AUDITOR)
    return user


@pytest.fixture
def outsider(other_org: Organisation, foreign_project: Project) -> User:
    user = _user("oscar")
    Membership.objects.create(user=user, organisation=other_org, role=Role.OFFICER)
    return user


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def officer_client(officer: User) -> Client:
    return _client_for(officer)


@pytest.fixture
def engineer_client(engineer: User) -> Client:
    return _client_for(engineer)


@pytest.fixture
def auditor_client(auditor: User) -> Client:
    return _client_for(auditor)


@pytest.fixture
def outsider_client(outsider: User) -> Client:
    return _client_for(outsider)


@pytest.fixture
def project_token(project: Project, officer: User) -> str:
    # Every scope (ingest, read, ci-gate), like tokens created before scopes existed; scope limits are
    # tested in tests/accounts/test_token_scopes.py.
    return api_token_create(project=project, name="ci", created_by=officer, scopes=["ingest", "read", "ci-gate"]).raw
