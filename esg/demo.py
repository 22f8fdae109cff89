"""Demo ESG data: a year of S and G values (most approved, some awaiting approval, a few missing), an
AP-ledger import, approved regions, accessibility reports for two projects and a model review.

Everything goes through the services, so the demo also shows a real audit trail. Values are
submitted by the demo officer and approved by a second demo officer, "controller" (four-eyes needs
two). Idempotent: a second call finds the values and reports already there.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from esg import services
from esg.models import EsgSettings, MetricValue, ModelReview
from esg.periods import Period, period_current
from greenesg.accounts.models import Membership, Organisation, Project, Role
from greenesg.lib.periods import month_start

# Left out of the latest quarter, so the completeness panel has something to show.
MISSING_LATEST = ("S1-16.highest_remuneration", "S1-16.median_remuneration", "G1-5.political_contributions_eur")
# Still awaiting approval in the latest quarter.
SUBMITTED_LATEST = (
    "S1-6.headcount",
    "S1-6.headcount_female",
    "S1-6.headcount_male",
    "S1-6.leavers",
    "S1-13.training_hours_total",
    "G1-6.avg_days_to_pay",
    "G1-6.payments_on_term_share",
)
APPROVED_REGIONS = ["europe-west1", "europe-north1", "eu-north-1", "SWE"]


def _officers(organisation: Organisation) -> tuple[User, User]:
    from demo.loader import DEMO_PASSWORD

    officers = list(
        User.objects.filter(memberships__organisation=organisation, memberships__role=Role.OFFICER).order_by("pk")
    )
    controller, created = User.objects.get_or_create(username="controller", defaults={"email": "controller@demo.test"})
    if created:
        controller.set_password(DEMO_PASSWORD)
        controller.save()
    Membership.objects.get_or_create(user=controller, organisation=organisation, defaults={"role": Role.OFFICER})
    submitter = next((user for user in officers if user.pk != controller.pk), None)
    if submitter is None:
        submitter, _ = User.objects.get_or_create(username="officer", defaults={"email": "officer@demo.test"})
        Membership.objects.get_or_create(user=submitter, organisation=organisation, defaults={"role": Role.OFFICER})
    return submitter, controller


def _quarter_values(index: int, rng: random.Random) -> dict[str, Any]:
    headcount = 118 + 4 * index
    female = round(headcount * 0.41)
    return {
        "S1-6.headcount": headcount,
        "S1-6.headcount_female": female,
        "S1-6.headcount_other": 1,
        "S1-6.headcount_male": headcount - female - 1,
        "S1-6.leavers": rng.randint(2, 6),
        "S1-8.collective_bargaining_coverage": 0,
        "S1-9.top_management_total": 12,
        "S1-9.top_management_female": 4 + (index >= 2),
        "S1-13.training_hours_total": headcount * rng.randint(7, 11),
        "S1-14.fatalities": 0,
        "S1-14.recordable_accidents": int(index == 1),
        "S1-14.hours_worked": headcount * 410,
        "S1-16.avg_pay_male": 41.20 + index * 0.3,
        "S1-16.avg_pay_female": 36.10 + index * 0.45,
        "S1-16.highest_remuneration": 265000,
        "S1-16.median_remuneration": 67400 + index * 500,
        "S1-17.discrimination_incidents": int(index == 2),
        "S1-17.fines_eur": 0,
        "G1-3.anti_corruption_training_coverage": 88 + 3 * index,
        "G1-4.corruption_convictions": 0,
        "G1-4.corruption_fines_eur": 0,
        "G1-5.political_contributions_eur": 0,
        "G1-6.late_payment_proceedings": 0,
    }


def _ap_csv(period: Period, rng: random.Random) -> bytes:
    lines = ["invoice_id,invoice_date,payment_date,amount,due_date"]
    for number in range(40):
        paid = period.start + dt.timedelta(days=rng.randint(0, 85))
        start = paid - dt.timedelta(days=rng.choice([14, 21, 28, 30, 35, 45]))
        due = start + dt.timedelta(days=30)
        lines.append(f"INV-{period.key}-{number:03d},{start},{paid},{rng.randint(200, 18000)}.00,{due}")
    return ("\n".join(lines) + "\n").encode()


def _load_quarter(
    organisation: Organisation, period: Period, index: int, latest: bool, users: tuple[User, User]
) -> None:
    submitter, approver = users
    rng = random.Random(f"esg-demo-{period.key}")  # noqa: S311 - deterministic demo data
    values = {
        code: value for code, value in _quarter_values(index, rng).items() if not (latest and code in MISSING_LATEST)
    }
    services.metric_values_submit(
        organisation=organisation,
        actor=submitter,
        period=period,
        cells=values,
        source="demo",
        evidence="Demo HR system export",
    )
    services.metric_values_import(
        organisation=organisation,
        actor=submitter,
        name=f"ap-ledger-{period.key}.csv",
        file=io.BytesIO(_ap_csv(period, rng)),
        kind="ap_ledger",
        period=period,
    )
    for value in MetricValue.objects.filter(organisation=organisation, period=period.key):
        if not (latest and value.metric_code in SUBMITTED_LATEST):
            services.metric_value_approve(value=value, actor=approver)


def _axe(url: str, when: dt.datetime, serious: int) -> dict[str, Any]:
    node = {"html": '<button class="icon"></button>', "target": ["button.icon"], "failureSummary": "Fix any"}
    violations = [
        {"id": "color-contrast", "impact": "serious", "tags": ["wcag2aa"], "nodes": [node] * serious},
        {"id": "region", "impact": "moderate", "tags": ["best-practice"], "nodes": [node]},
    ]
    return {
        "testEngine": {"name": "axe-core", "version": "4.10.2"},
        "testRunner": {"name": "axe"},
        "url": url,
        "timestamp": when.isoformat().replace("+00:00", "Z"),
        "violations": [v for v in violations if v["nodes"]],
        "passes": [
            {"id": rule, "impact": None, "nodes": [node]}
            for rule in (
                "aria-allowed-attr",
                "button-name",
                "document-title",
                "html-has-lang",
                "image-alt",
                "label",
                "link-name",
                "list",
                "meta-viewport",
            )
        ],
        "incomplete": [],
        "inapplicable": [],
    }


def _lighthouse(url: str, when: dt.datetime, score: float) -> dict[str, Any]:
    audits = {
        "color-contrast": {
            "score": 0 if score < 0.95 else 1,
            "scoreDisplayMode": "binary",
            "details": {
                "type": "table",
                "items": [{"node": {}}],
                "debugData": {"type": "debugdata", "impact": "serious"},
            },
        },
        "image-alt": {"score": 1, "scoreDisplayMode": "binary"},
        "button-name": {"score": 1, "scoreDisplayMode": "binary"},
        "tabindex": {"score": None, "scoreDisplayMode": "notApplicable"},
    }
    refs = [{"id": key, "weight": 7} for key in audits]
    return {
        "lighthouseVersion": "12.4.0",
        "requestedUrl": url,
        "finalDisplayedUrl": url,
        "fetchTime": when.isoformat().replace("+00:00", "Z"),
        "audits": audits,
        "categories": {"accessibility": {"id": "accessibility", "score": score, "auditRefs": refs}},
    }


def _reports(organisation: Organisation, projects: list[Project], today: dt.date) -> None:
    base = dt.datetime.combine(month_start(today), dt.time(6), tzinfo=dt.UTC)
    for months_back in (5, 3, 1):
        when = base - dt.timedelta(days=30 * months_back)
        bodies = [(projects[0], _axe(f"https://{projects[0].slug}.demo.test/", when, serious=months_back))]
        if len(projects) > 1:
            bodies.append(
                (projects[1], _lighthouse(f"https://{projects[1].slug}.demo.test/", when, score=1 - months_back / 100))
            )
        for project, doc in bodies:
            services.accessibility_report_record(
                project=project, body=json.dumps(doc).encode(), actor=None, actor_label="demo CI"
            )


def esg_demo_load(organisation: Organisation, *, today: dt.date | None = None) -> list[str]:
    """Load the ESG demo into an organisation; returns what was done (for the demo command's output)."""
    today = today or timezone.localdate()
    done: list[str] = []
    users = _officers(organisation)
    quarters = period_current(today).history(4)
    if not MetricValue.objects.filter(organisation=organisation, period=quarters[0].key).exists():
        for index, quarter in enumerate(quarters):
            _load_quarter(organisation, quarter, index, index == len(quarters) - 1, users)
        services.period_close(
            organisation=organisation,
            period=quarters[0],
            actor=users[1],
            reason="Demo: first quarter reviewed and signed off",
        )
        done.append(f"ESG values for {quarters[0]}–{quarters[-1]} ({quarters[0]} closed)")
    if not EsgSettings.objects.filter(organisation=organisation).exists():
        services.esg_settings_update(organisation=organisation, actor=users[0], approved_regions=APPROVED_REGIONS)
        done.append("approved regions")
    projects = list(organisation.projects.order_by("slug")[:2])
    if projects:
        _reports(organisation, projects, today)
        done.append(f"accessibility reports for {', '.join(p.slug for p in projects)}")
        if not ModelReview.objects.filter(project=projects[0]).exists():
            services.model_review_record(
                project=projects[0],
                actor=users[0],
                actor_label=users[0].get_username(),
                subject="training dataset v3",
                reviewed=True,
                reviewed_on=today - dt.timedelta(days=20),
                model_card_url="https://models.demo.test/cards/ranker-v3",
            )
            done.append("a model review record")
    return done
