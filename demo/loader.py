"""The demo organisation: projects, users for each role, and a year of codecarbon runs.

Loaded through the real import pipeline (jobs, lineage, rollups), so the demo shows what a user's own
data would look like. Idempotent: a second load finds the same files already imported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from demo.logins import DEMO_PASSWORD
from greenesg.accounts.models import Infrastructure, Membership, Organisation, Project, Role
from greenesg.accounts.services import organisation_get_or_create, project_get_or_create
from greenesg.lib.periods import add_months, month_start
from ingestion import storage
from ingestion.codecarbon.synthetic import RunProfile, generate_csv
from ingestion.jobs import import_job_submit
from ingestion.models import JobKind, JobOrigin
from ingestion.process import import_job_process


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
    # How some experiments use their machines, so the efficiency advisor has something to find (issue 16).
    profiles: tuple[tuple[str, RunProfile], ...] = ()


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
        # GPUs a quarter busy; batching (from the 9th month) cuts the time each run takes by more than two thirds.
        (
            (
                "lora-r8",
                RunProfile(gpu_utilization=22.0, duration_scale=0.7, changed_on=None, duration_scale_after=0.2),
            ),
            ("distilled", RunProfile(duration_scale=0.45)),
        ),
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
        (("load-tests", RunProfile(cpu_utilization=4.0)),),  # load generators left running with nothing to do
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
        (("sweep", RunProfile(ram_used_share=0.2)),),  # a fifth of the RAM ever used
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
    """Load (or complete) the demo organisation; returns one short line per part, for the command's output.

    Order matters: the attribution rules exist before the exports they map; the signed report is made before the
    late FOCUS delivery that its restated draft then shows; the organisation target and the budgets are set
    from the final inventory, and the advisor looks at it last.
    """
    if settings.PRODUCTION:
        raise ImproperlyConfigured("the demo loader creates users with known passwords: refused in production mode")
    today = today or dt.date.today()  # noqa: DTZ011 - the calendar day is what matters here
    org, projects = _organisation_and_users()
    start = demo_start(today)
    lines = [_demo_codecarbon(spec, project, start) for spec, project in zip(DEMO_PROJECTS, projects, strict=True)]
    lines.append(_demo_market_inputs(org, start.date()))
    lines.append(_demo_staging_billing(org, start))
    lines.extend(_demo_cloud_billing(org, start.date()))
    lines.extend(_optional_demo_data(org))
    lines.extend(_demo_reporting(org, start.date(), today))
    # Last, on the final data: a second load then finds the same recommendations (nothing new to open or close).
    lines.append(_demo_advisor([*projects, Project.objects.get(organisation=org, slug=STAGING_SLUG)], start))
    return lines


def _demo_codecarbon(spec: DemoProject, project: Project, start: dt.datetime) -> str:
    content = generate_csv(
        runs=spec.runs,
        start=start,
        days=365,
        project=spec.slug,
        sites=spec.sites,
        experiments=spec.experiments,
        seed=len(spec.slug) * 101,
        profiles=_profiles(spec, start),
    )
    submission = import_job_submit(
        project=project,
        kind=JobKind.CODECARBON,
        origin=JobOrigin.DEMO,
        stored=storage.store_chunks([content]),
        original_name=f"{spec.slug}-emissions.csv",
        enqueue=False,
    )
    if submission.created:
        import_job_process(job_id=str(submission.job.pk))
    submission.job.refresh_from_db()
    return f"{project}: {submission.job.status}, {submission.job.records_accepted} runs" + (
        "" if submission.created else " (already loaded)"
    )


def _demo_cloud_billing(org: Organisation, first: dt.date) -> list[str]:
    """GCP and Azure exports of the whole demo year, after the rules that attribute them (demo/billing.py)."""
    from demo import billing

    rules = billing.demo_rules_create(org)
    days = (add_months(first, 12) - first).days
    return [
        f"Attribution rules: {rules} added" + ("" if rules else " (already there)"),
        billing.billing_import(org, billing.gcp_export(first, days), "gcp-billing-export.csv"),
        billing.billing_import(org, billing.azure_export(first, days), "azure-cost-export.csv"),
    ]


def _demo_reporting(org: Organisation, first: dt.date, today: dt.date) -> list[str]:
    """Reporting settings and targets, a signed report and its restated draft, pending approvals, budgets."""
    from demo import approvals, billing, targets

    officer, controller = (User.objects.get(username=name) for name in ("officer", "controller"))
    period = approvals.report_period(org, today)
    late_first = add_months(first, 6)  # the demo's last six months: always the whole last closed quarter
    late = billing.focus_export(late_first, (add_months(first, 12) - late_first).days)
    lines = [
        targets.reporting_settings_load(org, first),
        approvals.signed_report_load(org, period, officer, controller),
        billing.billing_import(org, late, "focus-aws-late-delivery.csv"),
        approvals.restated_draft_load(org, period, officer),
        approvals.factor_change_load(org, controller, today.year),
        targets.org_target_load(org, first),
        targets.budgets_load(org, first),
    ]
    return [line for line in lines if line]


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


# A staging environment billed through AWS and left running around the clock: the advisor's schedule-it finding.
STAGING_SLUG = "staging"
STAGING_ACCOUNT = "123456789012"
CUR_COLUMNS = (
    "identity/LineItemId,bill/PayerAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,"
    "lineItem/UsageAccountId,lineItem/ProductCode,lineItem/UsageType,lineItem/Operation,lineItem/ResourceId,"
    "lineItem/UsageAmount,lineItem/CurrencyCode,lineItem/UnblendedCost,pricing/unit,product/region,"
    "product/instanceType,product/vcpu,resourceTags/user:env"
)
STAGING_INSTANCES = (
    ("i-0a1b2c3d4e5f60001", "m5.xlarge", "4", 0.192),
    ("i-0a1b2c3d4e5f60002", "m5.2xlarge", "8", 0.384),
)


def staging_cur(first: dt.date, days: int) -> bytes:
    """A daily AWS Cost and Usage Report (legacy CSV columns) of two instances running 24 hours every day."""
    lines = [CUR_COLUMNS]
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        begin, end = f"{day.isoformat()}T00:00:00Z", f"{(day + dt.timedelta(days=1)).isoformat()}T00:00:00Z"
        for number, (resource, instance, vcpu, price) in enumerate(STAGING_INSTANCES):
            lines.append(
                f"demo-{day.isoformat()}-{number},999988887777,Usage,{begin},{end},{STAGING_ACCOUNT},AmazonEC2,"
                f"USE1-BoxUsage:{instance},RunInstances,{resource},24.0,USD,{24 * price:.4f},Hrs,us-east-1,"
                f"{instance},{vcpu},staging"
            )
    return ("\n".join(lines) + "\n").encode()


def _demo_staging_billing(org: Organisation, start: dt.datetime) -> str:
    from ingestion.billing.pipeline import billing_job_submit
    from ingestion.billing.rules import attribution_rule_create
    from ingestion.models import AttributionRule, MatchField
    from steering.models import ProjectSteering

    project = project_get_or_create(organisation=org, slug=STAGING_SLUG, name="Staging environment", team="Platform")
    ProjectSteering.objects.update_or_create(project=project, defaults={"non_production": True})
    if not AttributionRule.objects.filter(organisation=org, match_value=STAGING_ACCOUNT).exists():
        attribution_rule_create(
            organisation=org,
            actor=None,
            data={
                "provider": "aws",
                "match_field": MatchField.ACCOUNT,
                "match_value": STAGING_ACCOUNT,
                "note": "Staging account (demo)",
                "targets": ((project.pk, 100.0),),
            },
        )
    last_month = add_months(start.date(), 11)  # the demo year's last two months
    first = add_months(last_month, -1)
    content = staging_cur(first, (add_months(last_month, 1) - first).days)
    submission = billing_job_submit(
        organisation=org,
        origin=JobOrigin.DEMO,
        stored=storage.store_chunks([content]),
        original_name="staging-cur-daily.csv",
        enqueue=False,
    )
    if submission.created:
        import_job_process(job_id=str(submission.job.pk))
    submission.job.refresh_from_db()
    return f"Staging billing (AWS CUR, daily): {submission.job.status}" + (
        "" if submission.created else " (already loaded)"
    )


def _profiles(spec: DemoProject, start: dt.datetime) -> dict[str, RunProfile]:
    """The project's run profiles; the batching change of lora-r8 happens eight months into the demo year."""
    changed_on = _batching_day(start)
    return {
        name: replace(profile, changed_on=changed_on) if profile.duration_scale_after != 1.0 else profile
        for name, profile in spec.profiles
    }


def _batching_day(start: dt.datetime) -> dt.date:
    return add_months(start.date().replace(day=1), 8)


# Model review records for ml-training: one model per experiment. Distilled and LoRA/int8 were tried in the first
# months only, so the full model is the one in use and the advisor can propose the quantized variant, whose
# accuracy is within the project's 1 % tolerance (the distilled model's is not).
DEMO_MODELS = {
    "baseline": ("bert-large", 0.912),
    "distilled": ("distilbert-base", 0.887),
    "lora-r8": ("bert-large-lora-int8", 0.906),
}


def _demo_advisor(projects: list[Project], start: dt.datetime) -> str:
    from greenesg.footprint.models import LedgerEntry, Source
    from steering.models import Recommendation, RecommendationStatus, RunModel, RunModelSource
    from steering.recommendations import recommendation_status_set, recommendations_refresh

    ml = next(p for p in projects if p.slug == "ml-training")
    trial_end = start.date() + dt.timedelta(days=120)
    for entry in LedgerEntry.objects.filter(project=ml, source=Source.CODECARBON).values("run_id", "experiment", "day"):
        model, accuracy = DEMO_MODELS.get(entry["experiment"], (None, 0.0))
        if model is None or (entry["experiment"] != "baseline" and entry["day"] > trial_end):
            continue
        RunModel.objects.get_or_create(
            project=ml,
            run_id=entry["run_id"],
            defaults={
                "model": model,
                "metric_name": "accuracy",
                "metric_value": accuracy,
                "higher_is_better": True,
                "source": RunModelSource.API,
            },
        )
    found = sum(len(recommendations_refresh(project=project)) for project in projects)
    # One recommendation carried through: the GPU batching of lora-r8, done the day the runs got shorter.
    gpu = Recommendation.objects.filter(project=ml, detector="gpu_underuse", subject="lora-r8").first()
    if gpu is not None and gpu.status == RecommendationStatus.OPEN:
        gpu = recommendation_status_set(
            recommendation=gpu,
            status=RecommendationStatus.DONE,
            reason="Batched the LoRA fine-tuning jobs (demo)",
            actor=None,
        )
        done = dt.datetime.combine(_batching_day(start), dt.time(9, 0), tzinfo=dt.UTC)
        Recommendation.objects.filter(pk=gpu.pk).update(done_at=done, status_changed_at=done)
    return f"Efficiency advisor: {found} open recommendation(s)"


def _optional_demo_data(org: Organisation) -> list[str]:
    """S and G values (issue 6): a year of metrics, most approved, and accessibility reports."""
    from esg.demo import esg_demo_load

    return [f"ESG: {line}" for line in esg_demo_load(org)]
