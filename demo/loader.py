"""The demo organisation: projects, users for each role, and a year of codecarbon runs.

Loaded through the real import pipeline (jobs, lineage, rollups), so the demo shows what a user's own
data would look like. Idempotent: a second load finds the same files already imported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from greenesg.accounts.models import Infrastructure, Membership, Organisation, Project, Role
from greenesg.accounts.services import organisation_get_or_create, project_get_or_create
from greenesg.lib.periods import month_start
from ingestion import storage
from ingestion.codecarbon.synthetic import generate_csv
from ingestion.jobs import import_job_submit
from ingestion.models import JobKind, JobOrigin
from ingestion.process import import_job_process

DEMO_PASSWORD = "demo"  # noqa: S105 - demo-only accounts, refused in production mode


@dataclass(frozen=True)
class DemoProject:
    slug: str
    name: str
    team: str
    timezone: str
    infrastructure: str
    sites: tuple[str, ...]
    experiments: tuple[str, ...]
    runs: int


DEMO_PROJECTS = (
    DemoProject(
        "ml-training",
        "ML training",
        "Data Science",
        "Europe/Paris",
        Infrastructure.AUTO,
        ("paris-office", "gcp-belgium"),
        ("baseline", "distilled", "lora-r8"),
        420,
    ),
    DemoProject(
        "recommender",
        "Recommender service",
        "Personalisation",
        "UTC",
        Infrastructure.CLOUD,
        ("gcp-belgium", "gcp-iowa"),
        ("nightly-retrain", ""),
        300,
    ),
    DemoProject(
        "web-platform",
        "Web platform CI",
        "Platform",
        "America/New_York",
        Infrastructure.CLOUD,
        ("aws-virginia",),
        ("integration-tests", "load-tests"),
        360,
    ),
    DemoProject(
        "research-lab",
        "Research lab",
        "Research",
        "Europe/Stockholm",
        Infrastructure.OWN,
        ("stockholm-lab", "berlin-rack"),
        ("ablation", "sweep"),
        240,
    ),
)
DEMO_USERS = (("officer", Role.OFFICER), ("engineer", Role.ENGINEER), ("auditor", Role.AUDITOR))
ENGINEER_PROJECTS = ("ml-training", "recommender")


def demo_start(today: dt.date) -> dt.datetime:
    """Twelve months back from the first of this month: stable within a month, so reloads are no-ops.

    Naive on purpose: codecarbon writes host-local timestamps without a zone.
    """
    first = month_start(today)
    return dt.datetime(first.year - 1, first.month, 1)  # noqa: DTZ001


@transaction.atomic
def _organisation_and_users() -> tuple[Organisation, list[Project]]:
    org = organisation_get_or_create(slug="demo", name="Demo Software GmbH", actor_label="demo")
    projects = []
    for spec in DEMO_PROJECTS:
        project = project_get_or_create(organisation=org, slug=spec.slug, name=spec.name, team=spec.team)
        Project.objects.filter(pk=project.pk).update(host_timezone=spec.timezone, infrastructure=spec.infrastructure)
        project.refresh_from_db()
        projects.append(project)
    for username, role in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@demo.test"})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        membership, _ = Membership.objects.get_or_create(user=user, organisation=org, defaults={"role": role})
        if role == Role.ENGINEER:
            membership.projects.set([p for p in projects if p.slug in ENGINEER_PROJECTS])
    return org, projects


def demo_load(*, today: dt.date | None = None) -> list[str]:
    if settings.PRODUCTION:
        raise ImproperlyConfigured("the demo loader creates users with known passwords: refused in production mode")
    org, projects = _organisation_and_users()
    start = demo_start(today or dt.date.today())  # noqa: DTZ011 - the calendar day is what matters here
    lines = []
    for spec, project in zip(DEMO_PROJECTS, projects, strict=True):
        content = generate_csv(
            runs=spec.runs,
            start=start,
            days=365,
            project=spec.slug,
            sites=spec.sites,
            experiments=spec.experiments,
            seed=len(spec.slug) * 101,
        )
        stored = storage.store_chunks([content])
        submission = import_job_submit(
            project=project,
            kind=JobKind.CODECARBON,
            origin=JobOrigin.DEMO,
            stored=stored,
            original_name=f"{spec.slug}-emissions.csv",
            enqueue=False,
        )
        if submission.created:
            import_job_process(job_id=str(submission.job.pk))
        submission.job.refresh_from_db()
        lines.append(
            f"{project}: {submission.job.status}, {submission.job.records_accepted} runs"
            + ("" if submission.created else " (already loaded)")
        )
    lines.append(_demo_market_inputs(org, start.date()))
    lines.extend(_optional_demo_data(org))
    return lines


# Contractual instruments and a residual mix, so the market-based figures differ from the location-based ones
# and show all three bases (docs/methodology.md §7.2): Sweden fully covered by a PPA (more MWh than consumed,
# cut back), Germany partly covered by guarantees of origin with a residual mix for the rest, France neither
# (grid-average fallback). Volumes fit the demo's small Scope 2 consumption; the factor is illustrative.
DEMO_INSTRUMENTS = (
    ("PPA", "SWE", 0.1, "DEMO-PPA-SWE", "Demo wind farm AB"),
    ("GO", "DEU", 0.05, "DEMO-GO-DEU", "Demo Ökostrom GmbH"),
)
DEMO_RESIDUAL_MIX = (("DEU", 600.0, 5.0),)  # zone, g CO2e/kWh, nuclear share %


def _demo_market_inputs(org: Organisation, first: dt.date) -> str:
    from reports.esrs.services import settings_object_save
    from reports.models import ContractualInstrument, ResidualMixFactor

    last = first.replace(year=first.year + 1) - dt.timedelta(days=1)
    created = 0
    for kind, market, mwh, registry, supplier in DEMO_INSTRUMENTS:
        if ContractualInstrument.objects.filter(organisation=org, registry_ids=registry).exists():
            continue
        instrument = ContractualInstrument(
            instrument_type=kind,
            mwh=mwh,
            market=market,
            generation_start=first,
            generation_end=last,
            consumption_start=first,
            consumption_end=last,
            emission_rate_g_per_kwh=0.0,
            registry_ids=registry,
            supplier=supplier,
        )
        settings_object_save(instance=instrument, user=None, organisation=org)
        created += 1
    for zone, g_per_kwh, nuclear in DEMO_RESIDUAL_MIX:
        if ResidualMixFactor.objects.filter(organisation=org, zone=zone, year=first.year, version="demo").exists():
            continue
        factor = ResidualMixFactor(
            zone=zone,
            year=first.year,
            g_co2e_per_kwh=g_per_kwh,
            nuclear_share_percent=nuclear,
            source="Demo value (illustrative, not a published residual mix)",
            version="demo",
        )
        settings_object_save(instance=factor, user=None, organisation=org)
        created += 1
    return f"Market-based inputs: {created} added" + ("" if created else " (already loaded)")


def _optional_demo_data(org: Organisation) -> list[str]:
    """S and G values (issue 6): a year of metrics, most approved, and accessibility reports."""
    from esg.demo import esg_demo_load

    return [f"ESG: {line}" for line in esg_demo_load(org)]
