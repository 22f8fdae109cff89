"""The data-quality panel of an organisation and the glossary of flag codes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from greenesg.accounts.access import Capability, org_access_for_request
from reports.dashboards.selectors.quality import data_quality_rows, glossary_rows


@login_required
@require_GET
def data_quality(request: HttpRequest, org_slug: str) -> HttpResponse:
    access = org_access_for_request(request, org_slug)  # 404 for outsiders
    if not access.can(Capability.VIEW_WHOLE_ORG):
        raise PermissionDenied("The data-quality panel covers the whole organisation: officers and auditors see it.")
    rows = data_quality_rows(organisation=access.organisation, today=timezone.localdate())
    context = {
        "access": access,
        "org": access.organisation,
        "rows": rows,
        "open_count": sum(1 for row in rows if row.needs_action),
        "breadcrumbs": [
            {"label": access.organisation.name, "url": reverse("org-overview", args=[org_slug])},
            {"label": "Data quality", "url": ""},
        ],
    }
    return render(request, "reports/data_quality.html", context)


@login_required
@require_GET
def glossary(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/glossary.html", {"rows": glossary_rows()})
