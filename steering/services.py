"""Writes for steering: budgets and the target, notifications, SCI unit counts, region moves, run model tags.

Every write leaves an audit-log entry (actor = the user, or `token <prefix>` for API tokens, or `cli`).
"""

from __future__ import annotations

import csv
import io
import logging
from smtplib import SMTPException
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from greenesg.accounts.access import Capability, OrgAccess, roles_with
from greenesg.accounts.models import Membership, Organisation, Project
from greenesg.accounts.services import audit_log_write
from greenesg.footprint.models import LedgerEntry
from greenesg.footprint.vocabulary import Source
from steering import advice, budget, pareto, selectors, webhook
from steering.models import (
    Basis,
    Budget,
    BudgetNotification,
    BudgetOrigin,
    NotificationStatus,
    OrgTarget,
    ProjectSteering,
    RegionMove,
    RunModel,
    RunModelSource,
    TargetShare,
    TargetSplit,
    UnitCount,
)

logger = logging.getLogger(__name__)

MAX_UNIT_CSV_ROWS = 1000


class SteeringError(ValueError):
    """A request that cannot be carried out; the message is shown to the user as is."""


def _actor(actor: User | None) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def _budget_state(item: Budget) -> dict[str, Any]:
    return {
        "period": item.period,
        "kg": item.kg,
        "basis": item.basis,
        "run_limit_kg": item.run_limit_kg,
        "origin": item.origin,
    }


# ---------------------------------------------------------------------------------------------- budgets


@transaction.atomic
def budget_set(
    *,
    project: Project,
    period: budget.Period,
    kg: float,
    basis: str = Basis.LOCATION,
    run_limit_kg: float | None = None,
    origin: str = BudgetOrigin.MANUAL,
    actor: User | None,
    actor_label: str = "",
) -> Budget:
    """Create or replace the project's budget for a period (one per period: the unique constraint)."""
    if kg < 0 or (run_limit_kg is not None and run_limit_kg < 0):
        raise SteeringError("Budgets and run limits cannot be negative.")
    item = Budget.objects.select_for_update().filter(project=project, period=period.key).first()
    before = _budget_state(item) if item else None
    if item is None:
        item = Budget(project=project, period=period.key)
    item.kg, item.basis, item.run_limit_kg, item.origin = kg, Basis(basis), run_limit_kg, origin
    item.updated_by = _actor(actor)
    item.save()
    audit_log_write(
        organisation=project.organisation,
        actor=_actor(actor),
        actor_label=actor_label,
        action="budget.update" if before else "budget.create",
        object_type="budget",
        object_id=str(item.pk),
        before=before,
        after={"project": str(project), **_budget_state(item)},
    )
    return item


@transaction.atomic
def org_target_save(
    *,
    organisation: Organisation,
    base_year: int,
    base_year_kg: float,
    target_year: int,
    reduction_pct: float,
    basis: str,
    split: str,
    shares: dict[Project, float],
    actor: User | None,
) -> OrgTarget:
    # Validate through the pure function first so a bad target never reaches the table.
    budget.target_annual_kg(
        base_year=base_year,
        base_year_kg=base_year_kg,
        target_year=target_year,
        reduction_pct=reduction_pct,
        year=target_year,
    )
    target = OrgTarget.objects.filter(organisation=organisation).first()
    before = _target_state(target) if target else None
    target = target or OrgTarget(organisation=organisation)
    target.base_year, target.base_year_kg, target.target_year = base_year, base_year_kg, target_year
    target.reduction_pct, target.basis, target.split = reduction_pct, basis, split
    target.save()
    target.shares.all().delete()
    TargetShare.objects.bulk_create(TargetShare(target=target, project=p, share_pct=v) for p, v in shares.items())
    audit_log_write(
        organisation=organisation,
        actor=_actor(actor),
        action="target.save",
        object_type="org_target",
        object_id=str(target.pk),
        before=before,
        after=_target_state(target),
    )
    return target


def _target_state(target: OrgTarget) -> dict[str, Any]:
    return {
        "base_year": target.base_year,
        "base_year_kg": target.base_year_kg,
        "target_year": target.target_year,
        "reduction_pct": target.reduction_pct,
        "basis": target.basis,
        "split": target.split,
        "shares": {str(s.project): s.share_pct for s in target.shares.select_related("project")},
    }


@transaction.atomic
def budgets_from_target(*, access: OrgAccess, period: budget.Period, actor: User | None) -> list[Budget]:
    """Derive every project's budget for a period from the organisation target.

    1. the target's allowance for the period's year (linear path from base year to target), pro rata by days;
    2. the weights: each project's inventory kg in the base year, or the hand-set shares;
    3. one budget per weighted project (origin "target"), replacing earlier ones for that period.
    """
    target = selectors.org_target_get(access=access)
    if target is None:
        raise SteeringError("Set the organisation's reduction target first.")
    annual = budget.target_annual_kg(
        base_year=target.base_year,
        base_year_kg=target.base_year_kg,
        target_year=target.target_year,
        reduction_pct=target.reduction_pct,
        year=period.start.year,
    )
    if target.split == TargetSplit.MANUAL:
        weights = {share.project_id: share.share_pct for share in target.shares.all()}
    else:
        weights = selectors.base_year_kg_by_project(access=access, year=target.base_year, basis=target.basis)
    try:
        split = budget.split_by_share(budget.period_allowance_kg(annual, period), weights)
    except ValueError as exc:
        raise SteeringError(str(exc)) from exc
    projects = {p.pk: p for p in access.organisation.projects.filter(pk__in=list(split))}
    return [
        budget_set(
            project=projects[pk],
            period=period,
            kg=kg,
            basis=target.basis,
            origin=BudgetOrigin.TARGET,
            run_limit_kg=_run_limit(projects[pk], period),
            actor=actor,
        )
        for pk, kg in split.items()
        if pk in projects and kg > 0
    ]


def _run_limit(project: Project, period: budget.Period) -> float | None:
    # Deriving from the target replaces the budget figure only; a per-run limit set by hand is kept.
    existing = Budget.objects.filter(project=project, period=period.key).values_list("run_limit_kg", flat=True)
    return next(iter(existing), None)


@transaction.atomic
def project_steering_save(
    *,
    project: Project,
    webhook_url: str,
    functional_unit: str,
    actor: User | None,
    non_production: bool | None = None,
    quality_tolerance_percent: float | None = None,
) -> ProjectSteering:
    item, _ = ProjectSteering.objects.get_or_create(project=project)

    def state() -> dict[str, object]:
        # The URL itself is a credential for many webhook receivers: the audit log records only whether it is set.
        return {
            "webhook_set": bool(item.webhook_url),
            "functional_unit": item.functional_unit,
            "non_production": item.non_production,
            "quality_tolerance_percent": item.quality_tolerance_percent,
        }

    before = state()
    item.webhook_url, item.functional_unit = webhook_url, functional_unit
    if non_production is not None:
        item.non_production = non_production
    if quality_tolerance_percent is not None:
        item.quality_tolerance_percent = quality_tolerance_percent
    item.save()
    audit_log_write(
        organisation=project.organisation,
        actor=_actor(actor),
        action="steering.update",
        object_type="project_steering",
        object_id=str(item.pk),
        before=before,
        after=state(),
    )
    return item


# ---------------------------------------------------------------------------------------------- notifications


def budget_check_after_import(*, project_id: int) -> list[BudgetNotification]:
    """After an import: send each newly reached threshold of each budget once, and pick up model tags.

    1. for every budget of the project, compute use and the thresholds reached;
    2. claim each threshold by inserting its notification row: the unique constraint lets exactly one
       concurrent caller win, the others skip it;
    3. the winner emails the officers and project engineers and POSTs the project's webhook, then records
       the outcome (a failed webhook is recorded, not retried: "sent once" is the promise);
    4. parse `model=…;metric=…` project names of new runs into RunModel rows.
    """
    project = Project.objects.select_related("organisation").filter(pk=project_id).first()
    if project is None:
        return []  # deleted since the import: nothing to notify
    sent = []
    today = selectors.today_utc()
    for item in Budget.objects.filter(project=project).select_related("project__organisation"):
        status = selectors.budget_status_for(item=item, today=today)
        for threshold in budget.thresholds_reached(status.used_kg, status.budget_kg):
            note = _notification_claim(item, threshold, status)
            if note is not None:
                _notification_send(note, item, status)
                sent.append(note)
    run_models_sync_from_naming(project=project)
    return sent


def _notification_claim(item: Budget, threshold: int, status: budget.BudgetStatus) -> BudgetNotification | None:
    try:
        with transaction.atomic():
            return BudgetNotification.objects.create(
                budget=item, threshold=threshold, used_kg=status.used_kg, budget_kg=status.budget_kg
            )
    except IntegrityError:
        return None


def _recipients(project: Project) -> list[str]:
    # Alerted: members who take alerts and can see the project (the whole org, or the project as a member).
    members = Membership.objects.filter(
        organisation=project.organisation, role__in=roles_with(Capability.RECEIVE_BUDGET_ALERTS)
    ).select_related("user")
    seeing = members.filter(Q(role__in=roles_with(Capability.VIEW_WHOLE_ORG)) | Q(projects=project)).distinct()
    return sorted({m.user.email for m in seeing if m.user.email})


def _notification_send(note: BudgetNotification, item: Budget, status: budget.BudgetStatus) -> None:
    project = item.project
    subject = f"[GreenESG] {project} has used {note.threshold}% of its {item.period} carbon budget"
    body = (
        f"{project}: {status.used_kg:,.2f} of {status.budget_kg:,.2f} kgCO2e ({item.basis}-based) used in "
        f"{item.period}; projected end of period {status.projected_kg:,.2f} kgCO2e."
    )
    recipients = _recipients(project)
    email_failed = False
    try:
        if recipients:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
    except (SMTPException, OSError) as exc:
        # Recorded, not raised: the row is claimed, so a retry would not send it anyway.
        logger.warning("budget email failed for %s: %s", project, exc)
        email_failed = True
    url = ProjectSteering.objects.filter(project=project).values_list("webhook_url", flat=True).first() or ""
    # Checked again at send time, not only when saved: DNS answers and the allow-list may have changed since.
    hook = webhook.webhook_deliver(url=url, payload=_webhook_payload(note, item, status)) if url else None
    webhook_status = hook.status if hook else ""
    if hook is not None and not hook.delivered:
        logger.warning("budget webhook of %s not delivered: %s", project, hook.status)
    failed = email_failed or (hook is not None and not hook.delivered)
    BudgetNotification.objects.filter(pk=note.pk).update(
        status=NotificationStatus.FAILED if failed else NotificationStatus.DONE,
        emailed_to=recipients,
        webhook_status=webhook_status[:200],
        sent_at=timezone.now(),
    )
    audit_log_write(
        organisation=project.organisation,
        actor=None,
        actor_label="system",
        action="budget.notify",
        object_type="budget",
        object_id=str(item.pk),
        after={
            "threshold": note.threshold,
            "used_kg": status.used_kg,
            "emailed": len(recipients),
            "webhook": webhook_status[:200],
        },
    )


def _webhook_payload(note: BudgetNotification, item: Budget, status: budget.BudgetStatus) -> dict[str, Any]:
    return {
        "event": "budget.threshold",
        "project": str(item.project),
        "period": item.period,
        "threshold_percent": note.threshold,
        "basis": item.basis,
        "budget_kg": status.budget_kg,
        "used_kg": status.used_kg,
        "projected_kg": status.projected_kg,
        "verdict": status.verdict,
    }


# ---------------------------------------------------------------------------------------------- SCI


@transaction.atomic
def unit_count_set(
    *, project: Project, period: budget.Period, count: float, actor: User | None, actor_label: str = ""
) -> UnitCount:
    if not count > 0:
        raise SteeringError("The count of functional units must be greater than zero.")
    item = UnitCount.objects.select_for_update().filter(project=project, period=period.key).first()
    before = {"period": item.period, "count": item.count} if item else None
    item = item or UnitCount(project=project, period=period.key)
    item.count = count
    item.save()
    audit_log_write(
        organisation=project.organisation,
        actor=_actor(actor),
        actor_label=actor_label,
        action="sci.units",
        object_type="unit_count",
        object_id=str(item.pk),
        before=before,
        after={"project": str(project), "period": item.period, "count": count},
    )
    return item


def unit_counts_parse_csv(content: bytes) -> list[tuple[budget.Period, float]]:
    """Rows `period,count` (a header line is optional); raise SteeringError naming the first bad line."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SteeringError("The file must be UTF-8 text.") from exc
    rows = []
    for line, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or not "".join(fields).strip():
            continue
        if line == 1 and fields[0].strip().lower() == "period":
            continue
        if len(fields) != 2:
            raise SteeringError(f"line {line}: expected two columns, period and count")
        try:
            period, count = budget.period_parse(fields[0]), float(fields[1])
        except ValueError as exc:
            raise SteeringError(f"line {line}: {exc}") from exc
        if not count > 0 or count == float("inf"):
            raise SteeringError(f"line {line}: the count must be a number greater than zero")
        rows.append((period, count))
    if not rows or len(rows) > MAX_UNIT_CSV_ROWS:
        raise SteeringError(f"The file must hold 1 to {MAX_UNIT_CSV_ROWS} rows of period,count.")
    return rows


@transaction.atomic
def unit_counts_import(*, project: Project, content: bytes, actor: User | None) -> int:
    rows = unit_counts_parse_csv(content)
    for period, count in rows:
        unit_count_set(project=project, period=period, count=count, actor=actor)
    return len(rows)


# ---------------------------------------------------------------------------------------------- regions


@transaction.atomic
def region_move_record(
    *,
    project: Project,
    provider: str,
    from_region: str,
    to_region: str,
    period: budget.Period,
    note: str,
    actor: User | None,
) -> RegionMove:
    """Record that the project's runs moved region; avoided kg = the moved energy × the factor difference.

    The energy is what the project actually ran in the new region during the period (the runs that moved).
    """
    factors = selectors.registry_factors(
        provider=provider, regions=[from_region, to_region], organisation_id=project.organisation_id
    )
    missing = [r for r in (from_region, to_region) if r not in factors]
    if missing:
        raise SteeringError(f"Not in the factor registry for {provider}: {', '.join(missing)}.")
    usage = selectors.project_cloud_usage(project=project, period=period)
    energy = sum(
        row["energy_kwh"] or 0.0
        for row in usage
        if row["provider"] == provider and row["region"].lower() == to_region.lower()
    )
    from_g, to_g = factors[from_region].g_co2e_per_kwh, factors[to_region].g_co2e_per_kwh
    move = RegionMove.objects.create(
        project=project,
        provider=provider,
        from_region=from_region,
        to_region=to_region,
        period=period.key,
        energy_kwh=energy,
        from_g_per_kwh=from_g,
        to_g_per_kwh=to_g,
        note=note,
        created_by=_actor(actor),
        avoided_kg=advice.avoided_kg(energy_kwh=energy, from_g_per_kwh=from_g, to_g_per_kwh=to_g),
    )
    audit_log_write(
        organisation=project.organisation,
        actor=_actor(actor),
        action="advice.followed",
        object_type="region_move",
        object_id=str(move.pk),
        after={
            "project": str(project),
            "provider": provider,
            "from": from_region,
            "to": to_region,
            "period": period.key,
            "energy_kwh": energy,
            "avoided_kg": move.avoided_kg,
        },
    )
    return move


# ---------------------------------------------------------------------------------------------- run models


@transaction.atomic
def run_model_set(
    *,
    project: Project,
    run_id: str,
    model: str,
    metric_name: str,
    metric_value: float,
    higher_is_better: bool,
    actor: User | None,
    actor_label: str = "",
) -> RunModel:
    """Tag a run with its model and quality metric; an API post replaces a tag parsed from the run's name."""
    item = RunModel.objects.select_for_update().filter(project=project, run_id=run_id).first()
    before = _run_model_state(item) if item else None
    item = item or RunModel(project=project, run_id=run_id)
    item.model, item.metric_name, item.metric_value = model, metric_name, metric_value
    item.higher_is_better, item.source = higher_is_better, RunModelSource.API
    item.save()
    audit_log_write(
        organisation=project.organisation,
        actor=_actor(actor),
        actor_label=actor_label,
        action="run_model.set",
        object_type="run_model",
        object_id=str(item.pk),
        before=before,
        after={"project": str(project), **_run_model_state(item)},
    )
    return item


def _run_model_state(item: RunModel) -> dict[str, Any]:
    return {
        "run_id": item.run_id,
        "model": item.model,
        "metric_name": item.metric_name,
        "metric_value": item.metric_value,
        "higher_is_better": item.higher_is_better,
        "source": item.source,
    }


def run_models_sync_from_naming(*, project: Project) -> int:
    """Create RunModel rows for runs named `model=<name>;<metric>=<value>` that have no tag yet.

    Only new runs are read, and an existing tag (API-posted or parsed earlier) is never overwritten, so the
    call is idempotent and cheap after each import. Lower-is-better cannot be told from a name: metrics whose
    name says loss or error are taken as lower-is-better, everything else higher-is-better.
    """
    tagged = RunModel.objects.filter(project=project).values("run_id")
    runs = (
        LedgerEntry.objects.filter(project=project, source=Source.CODECARBON)
        # Only names that can carry a tag are read, so untagged projects cost one indexed query per import.
        .filter(Q(attributes__project_name__icontains="model=") | Q(experiment__icontains="model="))
        .exclude(run_id__in=tagged)
        .values_list("run_id", "attributes", "experiment")
    )
    created = []
    for run_id, attributes, experiment in runs.iterator():
        name = str((attributes or {}).get("project_name") or "")
        tag = pareto.parse_model_tag(name) or pareto.parse_model_tag(experiment or "")
        if tag is None or not run_id:
            continue
        lower = any(word in tag.metric_name.lower() for word in ("loss", "error", "perplexity", "wer", "rmse"))
        created.append(
            RunModel(
                project=project,
                run_id=run_id,
                model=tag.model,
                metric_name=tag.metric_name,
                metric_value=tag.metric_value,
                higher_is_better=not lower,
                source=RunModelSource.NAMING,
            )
        )
    RunModel.objects.bulk_create(created, ignore_conflicts=True)
    if created:
        audit_log_write(
            organisation=project.organisation,
            actor=None,
            actor_label="system",
            action="run_model.parse",
            object_type="project",
            object_id=str(project.pk),
            after={"runs": len(created)},
        )
    return len(created)
