"""Reads on tenancy objects: the audit log with its filters, object links and CSV rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse

from greenesg.accounts.audit_diff import FieldChange, changes_text, field_changes, snapshot_text
from greenesg.accounts.models import AuditLog, Organisation

AUDIT_CSV_HEADER = ["at_utc", "actor", "action", "object_type", "object_id", "changes", "before", "after", "reason"]


@dataclass(frozen=True)
class AuditFilter:
    """Validated filters of the audit log; empty values filter nothing. Dates are UTC days, both inclusive."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass(frozen=True)
class AuditChoices:
    actors: list[str]
    actions: list[str]
    object_types: list[str]


def audit_filter_choices(*, organisation: Organisation) -> AuditChoices:
    """What the filters may take: values present in this organisation's log, plus its members' names (so an
    auditor can ask "what did X do" and get an empty page rather than an error for a member who did nothing)."""
    entries = AuditLog.objects.filter(organisation=organisation)

    def distinct(field: str) -> list[str]:
        return list(entries.order_by(field).values_list(field, flat=True).distinct())

    members = organisation.memberships.values_list("user__username", flat=True)
    return AuditChoices(
        actors=sorted(set(distinct("actor_label")) | set(members)),
        actions=distinct("action"),
        object_types=distinct("object_type"),
    )


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def audit_entry_list(*, organisation: Organisation, flt: AuditFilter) -> QuerySet[AuditLog]:
    entries = AuditLog.objects.filter(organisation=organisation)
    if flt.actor:
        entries = entries.filter(actor_label=flt.actor)
    if flt.action:
        entries = entries.filter(action=flt.action)
    if flt.object_type:
        entries = entries.filter(object_type=flt.object_type)
    if flt.date_from:
        entries = entries.filter(at__gte=_utc_midnight(flt.date_from))
    if flt.date_to:
        entries = entries.filter(at__lt=_utc_midnight(flt.date_to + dt.timedelta(days=1)))
    return entries.order_by("-at", "-id")


def audit_export_rows(entries: Iterable[AuditLog]) -> Iterator[list[Any]]:
    """CSV rows: the changes as one readable cell, and each snapshot as compact JSON for re-processing."""
    for e in entries:
        yield [
            e.at.isoformat(),
            e.actor_label,
            e.action,
            e.object_type,
            e.object_id,
            changes_text(e.before, e.after),
            snapshot_text(e.before),
            snapshot_text(e.after),
            e.reason,
        ]


# ------------------------------------------------------------------------------------------ object links

# Object types whose page needs only the organisation and the logged id: type → (URL name, id kind).
# "" as id kind: the page lists all such objects of the organisation (no page per object).
_ORG_PAGES: dict[str, tuple[str, str]] = {
    "organisation": ("org-overview", ""),
    "membership": ("org-members", ""),
    "login_lockout": ("org-members", ""),
    "esrs_report": ("esrs-report-detail", "int"),
    "import_job": ("import-detail", "uuid"),
    "attribution_rule": ("billing-rule-edit", "int"),
    "other_activity_import": ("esrs-other-import-detail", "int"),
    "factor_set": ("esg-factor-requests", ""),
    "org_target": ("steering-org-target", ""),
    "reportingsettings": ("esrs-settings", ""),
    "scope3screening": ("esrs-screening", ""),
}
# ESRS settings objects are logged under their model name; each has a section page.
_ESRS_SECTIONS = {
    "reductiontarget": "targets",
    "quarterrevenue": "revenue",
    "contractualinstrument": "instruments",
    "residualmixfactor": "residual-mix",
    "otheractivity": "other",
    "other_activity": "other",
}
# Object types whose page sits under their project: type → (model label, URL name). The feature apps'
# models are looked up by label, not imported: the core must not depend on them (docs/architecture), and an
# app that is not installed only costs the link.
_PROJECT_PAGES: dict[str, tuple[str, str]] = {
    "project": ("accounts.Project", "project-detail"),
    "api_token": ("accounts.ApiToken", "project-tokens"),
    "budget": ("steering.Budget", "steering-project-budget"),
    "project_steering": ("steering.ProjectSteering", "steering-settings"),
    "unit_count": ("steering.UnitCount", "steering-project-sci"),
    "run_model": ("steering.RunModel", "steering-project-models"),
    "region_move": ("steering.RegionMove", "steering-project-advice"),
    "recommendation": ("steering.Recommendation", "steering-project-recommendations"),
}
_ORG_LINKED = {*_ORG_PAGES, *_ESRS_SECTIONS, "esg_value"}


def _int_ids(values: Iterable[str]) -> set[int]:
    return {int(value) for value in values if value.isdigit()}


def _project_slugs(organisation: Organisation, object_type: str, ids: set[int]) -> dict[str, str]:
    """Logged id → project slug for objects that still exist in this organisation (one query per type)."""
    label, _ = _PROJECT_PAGES[object_type]
    try:
        model = apps.get_model(label)
    except LookupError:
        return {}
    if label == "accounts.Project":
        rows = model.objects.filter(pk__in=ids, organisation=organisation).values_list("pk", "slug")
    else:
        rows = model.objects.filter(pk__in=ids, project__organisation=organisation).values_list("pk", "project__slug")
    return {str(pk): slug for pk, slug in rows}


def _org_page_url(slug: str, entry: AuditLog) -> str:
    if entry.object_type in _ESRS_SECTIONS:
        return reverse("esrs-settings-section", args=[slug, _ESRS_SECTIONS[entry.object_type]])
    if entry.object_type == "esg_value" and "/" in entry.object_id:
        period, code = entry.object_id.split("/", 1)
        return reverse("esg-metric", kwargs={"org_slug": slug, "period": period, "code": code})
    name, kind = _ORG_PAGES[entry.object_type]
    return reverse(name, args=[slug, entry.object_id] if kind else [slug])


def audit_object_links(*, organisation: Organisation, entries: Sequence[AuditLog]) -> dict[int, str]:
    """Entry id → URL of the page of the object it concerns, where such a page exists.

    Deleted objects get no link (their page would be a 404). Per-project objects are resolved in one query
    per object type, so a page of 50 entries costs a handful of queries, not 50.
    """
    links: dict[int, str] = {}
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        if entry.object_type in _PROJECT_PAGES:
            wanted[entry.object_type] |= _int_ids([entry.object_id])
    org_slug = organisation.slug
    slugs = {kind: _project_slugs(organisation, kind, ids) for kind, ids in wanted.items() if ids}
    for entry in entries:
        if entry.action.endswith(".delete"):
            continue
        try:
            if entry.object_type in _PROJECT_PAGES:
                project_slug = slugs.get(entry.object_type, {}).get(entry.object_id)
                if project_slug:
                    links[entry.pk] = reverse(_PROJECT_PAGES[entry.object_type][1], args=[org_slug, project_slug])
            elif entry.object_type in _ORG_LINKED:
                links[entry.pk] = _org_page_url(org_slug, entry)
        except NoReverseMatch:
            continue  # an id the URL pattern cannot take (an old format, a removed page): no link
    return links


@dataclass(frozen=True)
class AuditRow:
    entry: AuditLog
    url: str  # "" when the object has no page (or no longer exists)
    changes: list[FieldChange]


def audit_rows(*, organisation: Organisation, entries: Sequence[AuditLog]) -> list[AuditRow]:
    """One page of the log as the template shows it: each entry with its object link and its changes.

    Values are cut at 120 characters on the page so one pasted blob cannot flood it; the CSV has them whole.
    """
    links = audit_object_links(organisation=organisation, entries=entries)
    return [AuditRow(e, links.get(e.pk, ""), field_changes(e.before, e.after, limit=120)) for e in entries]


# --------------------------------------------------------------------------------------------- demo logins


@dataclass(frozen=True)
class DemoLogins:
    password: str
    logins: list[tuple[str, str]]  # (user name, what the login is for)


def demo_logins_shown() -> DemoLogins | None:
    """The demo logins for the login page: only in demo mode (GREENESG_DEMO=1, which production refuses, checked
    here again) and only those that exist, so a demo mode without a loaded demo lists nobody."""
    from django.conf import settings
    from django.contrib.auth.models import User

    if not settings.DEMO_MODE or settings.PRODUCTION:
        return None
    from demo.logins import DEMO_LOGINS, DEMO_PASSWORD

    names = [name for name, _ in DEMO_LOGINS]
    existing = set(User.objects.filter(username__in=names, is_active=True).values_list("username", flat=True))
    logins = [(name, purpose) for name, purpose in DEMO_LOGINS if name in existing]
    return DemoLogins(DEMO_PASSWORD, logins) if logins else None
