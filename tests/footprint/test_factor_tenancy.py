"""Emission factors per tenant: one organisation's approved override never changes another's figures.

Before: EmissionFactorSet was global and factor_lookup unfiltered, so two officers of org B could change the
factors every organisation got. Now B's set is B's own; the global sets change only by the platform command.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Sum

from esg import services
from greenesg.accounts.models import Membership, Organisation, Project, Role
from greenesg.footprint.factors import factor_lookup
from greenesg.footprint.models import EmissionFactorSet, FactorSetStatus, LedgerEntry
from tests.conftest import SAMPLES

ZONE = "FRA"


def _officer(org: Organisation, name: str) -> User:
    user = User.objects.create_user(username=name, password="pw")
    Membership.objects.create(user=user, organisation=org, role=Role.OFFICER)
    return user


def _latest_vintage() -> int:
    """The global registry's newest French vintage: the one a 2026 run resolves to."""
    return max(choice.vintage_year for choice in factor_lookup(None)(ZONE))


def _override(org: Organisation, g_per_kwh: float) -> None:
    change = services.factor_set_change_submit(
        organisation=org,
        actor=_officer(org, f"{org.slug}-a"),
        name="grid-owid",
        kind="grid_country",
        source="Our own estimate",
        factors=[{"zone": ZONE, "vintage_year": _latest_vintage(), "g_co2e_per_kwh": g_per_kwh}],
        reason="Supplier data for our sites",
    )
    services.factor_set_change_approve(request=change, actor=_officer(org, f"{org.slug}-b"))


def _factor(org: Organisation) -> float:
    choices = [c for c in factor_lookup(org.pk)(ZONE) if c.vintage_year == _latest_vintage()]
    return choices[0].g_co2e_per_kwh


@pytest.mark.django_db
def test_an_override_of_org_b_leaves_org_a_untouched(org, other_org) -> None:
    before = _factor(org)

    _override(other_org, 1.0)

    assert _factor(org) == before
    assert _factor(other_org) == 1.0
    assert EmissionFactorSet.objects.filter(organisation=None, status=FactorSetStatus.SUPERSEDED).count() == 0


@pytest.mark.django_db
def test_org_a_imports_with_the_global_factor_after_org_b_changed_its_own(org, other_org) -> None:
    _override(other_org, 1.0)
    project_a = Project.objects.create(organisation=org, slug="ml2", name="ML 2")
    project_b = Project.objects.create(organisation=other_org, slug="ml2", name="ML 2")

    for project in (project_a, project_b):
        call_command(
            "ingest",
            "codecarbon",
            str(SAMPLES / "emissions_codecarbon_3.3.2.csv"),
            "--project",
            f"{project.organisation.slug}/{project.slug}",
            stdout=StringIO(),
        )

    factors_a = set(LedgerEntry.objects.filter(project=project_a).values_list("factor_g_per_kwh", flat=True))
    factors_b = set(LedgerEntry.objects.filter(project=project_b).values_list("factor_g_per_kwh", flat=True))
    assert 1.0 not in factors_a
    kg_a = LedgerEntry.objects.filter(project=project_a).aggregate(s=Sum("kgco2e_location"))["s"]
    kg_b = LedgerEntry.objects.filter(project=project_b).aggregate(s=Sum("kgco2e_location"))["s"]
    assert 1.0 in factors_b  # the sample's French runs of 2026 resolve to the overridden vintage
    assert kg_b < kg_a


@pytest.mark.django_db
def test_only_the_platform_command_changes_a_global_set(org, tmp_path: Path) -> None:
    _override(org, 2.0)
    csv_path = tmp_path / "factors.csv"
    csv_path.write_text(f"zone,vintage_year,g_co2e_per_kwh\nFRA,{_latest_vintage()},33.3\n")
    out = StringIO()

    call_command(
        "factor_set_global",
        str(csv_path),
        "--name",
        "platform-grid",
        "--kind",
        "grid_country",
        "--source",
        "Agency 2025",
        stdout=out,
    )
    call_command(
        "factor_set_global",
        str(csv_path),
        "--name",
        "platform-grid",
        "--kind",
        "grid_country",
        "--source",
        "Agency 2025 rev",
        stdout=out,
    )

    sets = EmissionFactorSet.objects.filter(name="platform-grid").order_by("version")
    assert [(s.version, s.status, s.organisation_id) for s in sets] == [(1, "superseded", None), (2, "active", None)]
    assert _factor(org) == 2.0  # the organisation's own override still wins for its figures
    assert "platform-grid@v2 active" in out.getvalue()
