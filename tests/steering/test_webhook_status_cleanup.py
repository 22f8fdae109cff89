"""Notifications sent before the SSRF fix stored the raw error text (a port-probe oracle on the budget page);
a data migration rewrites them into the generic statuses the webhook gives now."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from greenesg.accounts.models import Project
from steering import budget, services
from steering.models import BudgetNotification

pytestmark = pytest.mark.django_db

MIGRATION = "steering.migrations.0002_webhook_status_generic"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("error: <urlopen error [Errno 111] Connection refused>", "failed: no answer"),
        ("error: <urlopen error timed out>", "failed: no answer"),
        ("error: HTTP Error 500: Internal Server Error", "failed: HTTP 500"),
        ("error: HTTP Error 302: Found", "failed: HTTP 302 (redirects are not followed)"),
        ("error: not an http(s) URL", "refused: not a valid webhook URL"),
        ("ok 204", "delivered (HTTP 204)"),
        ("delivered (HTTP 200)", "delivered (HTTP 200)"),
        ("", ""),
    ],
)
def test_raw_webhook_errors_are_rewritten_as_generic_statuses(project: Project, stored: str, shown: str) -> None:
    item = services.budget_set(project=project, period=budget.period_parse("2026-11"), kg=1.0, actor=None)
    note = BudgetNotification.objects.create(budget=item, threshold=50, used_kg=0.6, budget_kg=1.0)
    BudgetNotification.objects.filter(pk=note.pk).update(webhook_status=stored)
    importlib.import_module(MIGRATION).webhook_status_generic(apps, None)
    assert BudgetNotification.objects.get(pk=note.pk).webhook_status == shown
