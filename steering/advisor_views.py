"""Efficiency advisor pages: a project's recommendations with their evidence and proof, the organisation's list.

Engineers see and act on their projects' recommendations; officers see the whole organisation's, largest saving
first; auditors read. A status change is a POST with a reason (a dismissal needs one), audited by the service.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from greenesg.accounts.access import Capability, ProjectAccess, org_access_for_request, project_access_for_request
from greenesg.http import AuthedHttpRequest
from steering import recommendations
from steering.models import Recommendation, RecommendationStatus


def _get_project_for_user(
    request: HttpRequest, org_slug: str, project_slug: str, *, write: bool = False
) -> ProjectAccess:
    access = project_access_for_request(request, org_slug, project_slug)
    if write and not access.can(Capability.WRITE_PROJECT_DATA):
        raise PermissionDenied("Auditors read recommendations; the project's engineers and officers act on them.")
    return access


def _get_recommendation(access: ProjectAccess, pk: int) -> Recommendation:
    item = recommendations.recommendation_list(project=access.project).filter(pk=pk).first()
    if item is None:
        raise Http404
    return item


def _rows(items: list[Recommendation]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for item in items:
        realised = recommendations.recommendation_realised(recommendation=item)
        rows.append(
            {
                "item": item,
                "realised": realised,
                "realised_month": recommendations.realised_per_month(recommendation=item, realised=realised)
                if realised
                else None,
            }
        )
    return rows


@login_required
@require_GET
def project_recommendations(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access = _get_project_for_user(request, org_slug, project_slug)
    org, project = access.org.organisation, access.project
    items = list(recommendations.recommendation_list(project=project))
    context = {
        "access": access,
        "org": org,
        "project": project,
        "rows": _rows(items),
        "statuses": RecommendationStatus,
        "breadcrumbs": [
            {"label": org.name, "url": reverse("org-overview", args=[org.slug])},
            {"label": project.name, "url": reverse("project-detail", args=[org.slug, project.slug])},
            {"label": "Savings", "url": ""},
        ],
    }
    return render(request, "steering/project_recommendations.html", context)


@login_required
@require_POST
def project_recommendations_refresh(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access = _get_project_for_user(request, org_slug, project_slug, write=True)
    found = recommendations.recommendations_refresh(project=access.project)
    messages.success(
        request,
        f"The advisor checked the last {recommendations.WINDOW_DAYS} days: {len(found)} open "
        "or accepted recommendation(s).",
    )
    return redirect("steering-project-recommendations", org_slug, project_slug)


@login_required
@require_POST
def recommendation_status(request: AuthedHttpRequest, org_slug: str, project_slug: str, pk: int) -> HttpResponse:
    access = _get_project_for_user(request, org_slug, project_slug, write=True)
    item = _get_recommendation(access, pk)
    status = request.POST.get("status", "")
    if status not in RecommendationStatus.values:
        return render(request, "steering/bad_request.html", {"message": "Unknown status."}, status=400)
    try:
        recommendations.recommendation_status_set(
            recommendation=item, status=status, reason=request.POST.get("reason", "")[:1000], actor=request.user
        )
    except recommendations.RecommendationError as exc:
        messages.error(request, str(exc))
        return redirect("steering-project-recommendations", org_slug, project_slug)
    messages.success(request, f"Marked {RecommendationStatus(status).label.lower()}: {item.title}")
    return redirect(reverse("steering-project-recommendations", args=[org_slug, project_slug]) + f"#rec-{item.pk}")


@login_required
@require_GET
def org_recommendations(request: HttpRequest, org_slug: str) -> HttpResponse:
    access = org_access_for_request(request, org_slug)
    status = request.GET.get("status", "")
    if status and status not in RecommendationStatus.values:
        return render(request, "steering/bad_request.html", {"message": "Unknown status."}, status=400)
    items = list(recommendations.org_recommendation_list(access=access, status=status)[:500])
    context = {
        "access": access,
        "org": access.organisation,
        "rows": _rows(items),
        "status": status,
        "statuses": RecommendationStatus,
        "totals": recommendations.org_recommendation_totals(access=access),
        "breadcrumbs": [
            {"label": access.organisation.name, "url": reverse("org-overview", args=[access.organisation.slug])},
            {"label": "Savings", "url": ""},
        ],
    }
    return render(request, "steering/org_recommendations.html", context)
