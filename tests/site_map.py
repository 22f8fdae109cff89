"""Every URL pattern of the app, filled with real objects: the permission matrix walks it for each persona and
the browser tests visit every HTML page of the demo for each demo login.

Patterns come from the URLconf, so a page added tomorrow is walked tomorrow without touching a list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver


def url_patterns(patterns: list | None = None, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(route, name) of every named pattern, nested includes flattened."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + str(pattern.pattern), pattern.name


def _group_value(match: re.Match[str], values: dict[str, str]) -> str:
    """The fixture value if it fits the group's regex, else the group's first literal alternative."""
    name, regex = match.group(1), match.group(2)
    value = values[name]
    if re.fullmatch(regex, value):
        return value
    return regex.split("|")[0]


def url_fill(route: str, values: dict[str, str]) -> str | None:
    """Turn a route (path() or re_path()) into a concrete URL, or None if a parameter is unknown."""
    route = route.replace("^", "").replace("$", "").replace("\\.", ".")
    names = re.findall(r"<(?:\w+:)?(\w+)>", route)
    if any(name not in values for name in names):
        return None
    # Regex groups first: their "(?P<name>…)" also contains "<name>".
    url = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", lambda m: _group_value(m, values), route)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], url)
    return "/" + url


@dataclass(frozen=True)
class SitePage:
    name: str
    url: str


# Not pages a person reads: machine endpoints, and the admin (Django's own, styled by Django).
NOT_PAGES = ("api/", "admin/", "healthz", "readyz", "metrics")


def demo_url_values(org_slug: str = "demo", project_slug: str = "ml-training") -> dict[str, dict[str, str]]:
    """Parameter values taken from the demo's own objects, per pattern-name prefix ("" is the default).

    `pk` means a different object on different pages, so it is chosen by the pattern's name.
    """
    from esg.models import MetricValue
    from greenesg.accounts.models import Membership
    from greenesg.footprint.models import LedgerEntry
    from ingestion.models import AttributionRule, ImportJob
    from reports.models import OtherActivityImport, Report
    from steering.models import Recommendation

    def first_pk(queryset) -> str:  # type: ignore[no-untyped-def]
        value = queryset.values_list("pk", flat=True).first()
        return "0" if value is None else str(value)

    entry = LedgerEntry.objects.filter(project__organisation__slug=org_slug, project__slug=project_slug).first()
    period = MetricValue.objects.filter(organisation__slug=org_slug).order_by("-period").first()
    base = {
        "org_slug": org_slug,
        "project_slug": project_slug,
        "experiment": entry.experiment if entry and entry.experiment else "_none",
        "period": period.period if period else "2026-Q3",
        "action": "approve",
        "code": "S1-6.headcount",
        "fmt": "pdf",
        "section": "targets",
        "job_id": first_pk(ImportJob.objects.filter(project__slug=project_slug, project__organisation__slug=org_slug)),
        "pk": str(entry.pk) if entry else "0",
        "run_id": entry.run_id if entry else "_",
        "token_id": "0",
        "membership_id": first_pk(Membership.objects.filter(organisation__slug=org_slug)),
    }
    return {
        "": base,
        "esrs-report": {**base, "pk": first_pk(Report.objects.filter(organisation__slug=org_slug))},
        "esrs-other-import": {
            **base,
            "pk": first_pk(OtherActivityImport.objects.filter(organisation__slug=org_slug)),
        },
        "billing-rule": {**base, "pk": first_pk(AttributionRule.objects.filter(organisation__slug=org_slug))},
        "steering-recommendation": {
            **base,
            "pk": first_pk(Recommendation.objects.filter(project__organisation__slug=org_slug)),
        },
    }


def html_pages(client: Client, values_by_prefix: dict[str, dict[str, str]]) -> list[SitePage]:
    """Every page this client can open (GET answers 200 with HTML), in URLconf order."""
    pages = []
    for route, name in url_patterns():
        if route.startswith(NOT_PAGES):
            continue
        prefix = max((p for p in values_by_prefix if name.startswith(p)), key=len)
        url = url_fill(route, values_by_prefix[prefix])
        if url is None:
            continue
        response = client.get(url)
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            pages.append(SitePage(name, url))
    return pages
