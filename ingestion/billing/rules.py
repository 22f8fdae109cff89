"""Writes on attribution rules. Every write is audited and re-attributes the organisation's billing data."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max

from greenesg.accounts.models import Organisation
from greenesg.accounts.services import audit_log_write
from ingestion.billing.pipeline import billing_reattribute
from ingestion.models import AttributionRule, AttributionTarget


def rule_snapshot(rule: AttributionRule) -> dict[str, Any]:
    """The rule as the audit log records it (project slugs, so the entry reads without lookups)."""
    return {
        "position": rule.position,
        "provider": rule.provider,
        "match_field": rule.match_field,
        "tag_key": rule.tag_key,
        "match_value": rule.match_value,
        "note": rule.note,
        "targets": [[t.project.slug, t.percent] for t in rule.targets.select_related("project")],
    }


def _set_targets(rule: AttributionRule, targets: tuple[tuple[int, float], ...]) -> None:
    rule.targets.all().delete()
    AttributionTarget.objects.bulk_create(
        AttributionTarget(rule=rule, project_id=project_id, percent=percent) for project_id, percent in targets
    )


def _audit(
    rule_org: Organisation,
    actor: User | None,
    action: str,
    rule_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit_log_write(
        organisation=rule_org,
        actor=actor,
        action=action,
        object_type="attribution_rule",
        object_id=str(rule_id),
        before=before,
        after=after,
    )


@transaction.atomic
def attribution_rule_create(*, organisation: Organisation, actor: User | None, data: dict[str, Any]) -> AttributionRule:
    last = AttributionRule.objects.filter(organisation=organisation).aggregate(last=Max("position"))["last"]
    rule = AttributionRule.objects.create(
        organisation=organisation,
        position=(last or 0) + 1,
        provider=data.get("provider") or "",
        match_field=data["match_field"],
        tag_key=data.get("tag_key", ""),
        match_value=data["match_value"],
        note=data.get("note", ""),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _set_targets(rule, data["targets"])
    _audit(organisation, actor, "attribution_rule.create", rule.pk, None, rule_snapshot(rule))
    billing_reattribute(organisation=organisation)
    return rule


@transaction.atomic
def attribution_rule_update(*, rule: AttributionRule, actor: User | None, data: dict[str, Any]) -> None:
    before = rule_snapshot(rule)
    for name in ("provider", "match_field", "tag_key", "match_value", "note"):
        setattr(rule, name, data.get(name) or "")
    rule.save()
    _set_targets(rule, data["targets"])
    _audit(rule.organisation, actor, "attribution_rule.update", rule.pk, before, rule_snapshot(rule))
    billing_reattribute(organisation=rule.organisation)


@transaction.atomic
def attribution_rule_delete(*, rule: AttributionRule, actor: User | None) -> None:
    before, organisation, pk = rule_snapshot(rule), rule.organisation, rule.pk
    rule.delete()
    _audit(organisation, actor, "attribution_rule.delete", pk, before, None)
    billing_reattribute(organisation=organisation)


@transaction.atomic
def attribution_rule_move(*, rule: AttributionRule, actor: User | None, direction: str) -> None:
    """Swap the rule with its neighbour above ("up") or below ("down"); order decides which rule wins."""
    rules = list(AttributionRule.objects.select_for_update().filter(organisation=rule.organisation))
    index = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rules):
        return
    rules[index], rules[other] = rules[other], rules[index]
    for position, item in enumerate(rules, start=1):
        if item.position != position:
            AttributionRule.objects.filter(pk=item.pk).update(position=position)
    _audit(rule.organisation, actor, "attribution_rule.move", rule.pk, {"position": index + 1}, {"position": other + 1})
    billing_reattribute(organisation=rule.organisation)
