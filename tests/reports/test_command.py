"""`manage.py footprint`: the same JSON as the API, clear errors for unknown targets."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("footprint", *args, stdout=out)
    return out.getvalue()


def test_it_prints_the_organisation_summary(ledger):
    body = json.loads(_run("--org", "acme", "--json"))
    assert body["organisation"] == "acme"
    assert body["project"] is None
    assert body["runs"] == 4
    assert body["kgco2e_location"] == pytest.approx(35.0)
    assert body["by_scope"]["scope3.cat1.1"]["kgco2e_location"] == pytest.approx(31.1)


def test_it_accepts_a_project_alone_or_with_its_org(ledger):
    alone = json.loads(_run("--project", "acme/ml", "--json"))
    with_org = json.loads(_run("--org", "acme", "--project", "ml", "--json"))
    assert alone == with_org
    assert alone["project"] == "ml"
    assert alone["runs"] == 3


def test_it_prints_a_readable_table_without_json(ledger):
    text = _run("--project", "acme/ml")
    assert "Footprint of acme/ml" in text
    assert "scope3.cat1.1" in text
    assert "total" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--org", "nope"), "Unknown organisation 'nope'"),
        (("--project", "acme/nope"), "Unknown project acme/nope"),
        (("--project", "nope/ml"), "Unknown organisation 'nope'"),
        (("--org", "globex", "--project", "acme/ml"), "is not in --org globex"),
        (("--project", "ml"), "ORG/PROJECT"),
        ((), "Give --org ORG or --project ORG/PROJECT"),
        (("--org", "acme", "--start", "2025-02-30"), "not a real calendar date"),
        (("--org", "acme", "--start", "2025-03-01", "--end", "2025-01-01"), "after end"),
    ],
)
def test_it_fails_with_a_clear_message(ledger, args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args, "--json")


def test_it_exits_non_zero_from_the_shell(ledger, capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "footprint", "--org", "nope", "--json"]).execute()
    assert exit_info.value.code != 0
    assert "Unknown organisation" in capsys.readouterr().err
