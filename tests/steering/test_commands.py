"""`manage.py budget set/show`."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from greenesg.accounts.models import AuditLog, Project
from steering.models import Budget
from tests.steering.conftest import add_run

pytestmark = pytest.mark.django_db


def _call(*args: str) -> str:
    out = StringIO()
    call_command("budget", *args, stdout=out)
    return out.getvalue()


def test_budget_set_and_show(project: Project) -> None:
    assert "saved" in _call("set", "acme/ml", "--period", "2026-q4", "--kg", "92", "--run-limit-kg", "1")
    item = Budget.objects.get(project=project)
    assert (item.period, item.kg, item.basis, item.run_limit_kg) == ("2026-Q4", 92.0, "location", 1.0)
    assert AuditLog.objects.get(action="budget.create").actor_label == "cli"
    add_run(project, day=dt.date(2026, 10, 20), kg=4.0)
    # 4 kg in 41 of 92 days (1 Oct to 10 Nov): projected 4 / 41 × 92.
    body = json.loads(_call("show", "acme/ml", "--period", "2026-Q4", "--json"))
    assert body["used_kg"] == 4.0 and body["projected_kg"] == pytest.approx(4 / 41 * 92)
    assert "verdict pass" in _call("show", "acme/ml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set", "acme/ml", "--period", "2026-Q7", "--kg", "1"), "2026-Q7"),
        (("set", "acme/ml", "--period", "2026", "--kg", "-1"), "--kg"),
        (("set", "acme", "--period", "2026", "--kg", "1"), "ORG/PROJECT"),
        (("set", "acme/nope", "--period", "2026", "--kg", "1"), "no project"),
        (("show", "acme/ml", "--period", "2025"), "no budget"),
    ],
)
def test_bad_arguments_are_refused(project: Project, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _call(*args)
    assert not Budget.objects.exists()
