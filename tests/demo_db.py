"""The demo loaded once for a whole test module.

A load runs every import and renders three ESRS PDFs, so modules that only read the demo share one: it is
loaded in an outer transaction that is rolled back after the module, and each test runs in its own savepoint
inside it (pytest-django's django_db nests). The settings the per-test fixtures would set (fast hasher, media
folder, local cache) are applied around the load, which runs before them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import transaction
from django.test import override_settings

from demo.loader import demo_load
from greenesg.accounts.models import Organisation


@contextmanager
def demo_loaded_once(django_db_blocker: Any, media_root: Path, today: dt.date) -> Iterator[Organisation]:
    quick = {
        "MEDIA_ROOT": media_root,
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    }
    with override_settings(**quick), django_db_blocker.unblock(), transaction.atomic():
        demo_load(today=today)
        yield Organisation.objects.get(slug="demo")
        transaction.set_rollback(True)
