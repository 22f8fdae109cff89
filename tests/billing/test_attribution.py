"""Attribution rules: order, splits, the visible Unallocated bucket, re-attribution after a rule change."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from greenesg.accounts.models import AuditLog
from greenesg.footprint.models import LedgerDaily, LedgerEntry
from ingestion.billing.attribution import RuleSpec, Subject, rule_matches, shares_for, targets_parse
from ingestion.billing.rules import (
    attribution_rule_create,
    attribution_rule_delete,
    attribution_rule_move,
    attribution_rule_update,
)
from ingestion.models import AttributionRule
from tests.billing.conftest import cur_row, import_file


def by_project(org) -> dict[int | None, float]:
    rows = LedgerEntry.objects.filter(organisation=org, source="billing").values("project_id").annotate(c=Sum("cost"))
    return {row["project_id"]: pytest.approx(row["c"]) for row in rows}


def daily_by_project(org) -> dict[int | None, float]:
    rows = LedgerDaily.objects.filter(organisation=org, source="billing").values("project_id").annotate(c=Sum("cost"))
    return {row["project_id"]: pytest.approx(row["c"]) for row in rows}


# ---------------------------------------------------------------------------------------------- pure rules


def test_the_first_matching_rule_wins():
    subject = Subject("aws", "111", tags={"user:team": "ML"})
    rules = [
        RuleSpec(1, "", "tag", "ml", tag_key="team", targets=((10, 100.0),)),
        RuleSpec(2, "aws", "account", "111", targets=((20, 100.0),)),
    ]

    assert [(s.project_id, s.fraction) for s in shares_for(subject, rules)] == [(10, 1.0)]
    assert [(s.project_id, s.fraction) for s in shares_for(subject, rules[::-1])] == [(20, 1.0)]


def test_a_split_leaves_the_remainder_unallocated_and_adds_up_to_one():
    shares = shares_for(Subject("gcp", "p"), [RuleSpec(1, "gcp", "account", "p*", targets=((1, 50.0), (2, 30.0)))])

    assert [(s.project_id, round(s.fraction, 9)) for s in shares] == [(1, 0.5), (2, 0.3), (None, 0.2)]
    assert sum(s.fraction for s in shares) == pytest.approx(1.0)


def test_unmatched_lines_are_unallocated_never_dropped():
    assert [(s.project_id, s.fraction) for s in shares_for(Subject("azure", "sub"), [])] == [(None, 1.0)]


def test_rules_compare_case_insensitively_and_respect_the_provider():
    rule = RuleSpec(1, "azure", "resource_group", "RG-Web", targets=((1, 100.0),))
    assert rule_matches(rule, Subject("azure", "s", resource_group="rg-web"))
    assert not rule_matches(rule, Subject("aws", "s", resource_group="rg-web"))


def test_targets_parse_reads_shares_and_refuses_nonsense():
    ids = {"ml": 1, "web": 2}
    assert targets_parse("ml=60, web=40", ids) == ((1, 60.0), (2, 40.0))
    assert targets_parse("ml", ids) == ((1, 100.0),)
    for bad in ("nope", "ml=70, web=40", "ml=0", "ml=x", "ml, ml", ""):
        with pytest.raises(ValueError):
            targets_parse(bad, ids)


# ---------------------------------------------------------------------------------------------- with the ledger


def rule_data(**fields):
    return {"provider": "", "tag_key": "", "note": "", **fields}


@pytest.mark.django_db
def test_rules_attribute_imports_in_order_with_splits_and_unallocated(org, project, other_project, officer, write_cur):
    attribution_rule_create(
        organisation=org,
        actor=officer,
        data=rule_data(match_field="tag", tag_key="team", match_value="ml", targets=((project.pk, 100.0),)),
    )
    attribution_rule_create(
        organisation=org,
        actor=officer,
        data=rule_data(
            match_field="account", match_value="222*", targets=((project.pk, 60.0), (other_project.pk, 40.0))
        ),
    )
    import_file(
        org,
        write_cur(
            [
                cur_row(cost=1.0, team="ml"),
                cur_row(cost=2.0, account="222200001111", team="ml"),  # the tag rule comes first
                cur_row(cost=10.0, account="222200001111", hour=1),
                cur_row(cost=4.0, account="333300001111"),
            ]
        ),
    )

    assert by_project(org) == {project.pk: 1.0 + 2.0 + 6.0, other_project.pk: 4.0, None: 4.0}
    assert daily_by_project(org) == by_project(org)


@pytest.mark.django_db
def test_a_rule_change_re_attributes_existing_data(org, project, other_project, officer, write_cur):
    import_file(org, write_cur([cur_row(cost=3.0, team="ml"), cur_row(cost=1.0, account="555")]))
    assert by_project(org) == {None: 4.0}

    rule = attribution_rule_create(
        organisation=org,
        actor=officer,
        data=rule_data(match_field="tag", tag_key="team", match_value="ML", targets=((project.pk, 100.0),)),
    )
    assert by_project(org) == {project.pk: 3.0, None: 1.0}
    assert daily_by_project(org) == by_project(org)

    attribution_rule_update(
        rule=rule,
        actor=officer,
        data=rule_data(match_field="tag", tag_key="team", match_value="ml", targets=((other_project.pk, 50.0),)),
    )
    assert by_project(org) == {other_project.pk: 1.5, None: 2.5}

    attribution_rule_delete(rule=rule, actor=officer)
    assert by_project(org) == {None: 4.0}
    assert daily_by_project(org) == by_project(org)
    actions = list(AuditLog.objects.filter(object_type="attribution_rule").values_list("action", flat=True))
    assert sorted(actions) == ["attribution_rule.create", "attribution_rule.delete", "attribution_rule.update"]


@pytest.mark.django_db
def test_moving_a_rule_changes_which_one_wins(org, project, other_project, officer, write_cur):
    first = attribution_rule_create(
        organisation=org,
        actor=officer,
        data=rule_data(match_field="account", match_value="111122223333", targets=((project.pk, 100.0),)),
    )
    attribution_rule_create(
        organisation=org,
        actor=officer,
        data=rule_data(match_field="tag", tag_key="team", match_value="web", targets=((other_project.pk, 100.0),)),
    )
    import_file(org, write_cur([cur_row(cost=2.0, team="web")]))
    assert by_project(org) == {project.pk: 2.0}

    attribution_rule_move(rule=first, actor=officer, direction="down")
    assert list(AttributionRule.objects.values_list("match_field", flat=True)) == ["tag", "account"]
    assert by_project(org) == {other_project.pk: 2.0}
