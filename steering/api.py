"""Steering API: the CI budget gate, budgets for officers, region advice, SCI unit counts and run model tags.

Project tokens read the budget verdict and post SCI counts and model metrics of their own project only (other
projects are 404); setting budgets needs an officer's session. Errors use greenesg.api's one shape.
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, parsers, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from greenesg.accounts.access import Capability, project_access_for_user
from greenesg.accounts.models import ApiToken, Project
from greenesg.api import StrictJSONTypes, api_project_access
from greenesg.http import session_user
from greenesg.lib.residency import ANY, RESIDENCY_CHOICES, SAME
from ingestion.models import ImportJob, JobStatus
from steering import budget, selectors, services
from steering.models import Basis, Budget

MAX_CANDIDATES = 30
# A region id as the providers spell them (us-east-1, europe-west4, westeurope, "West Europe"): this also
# keeps NUL and other control characters, which PostgreSQL text refuses, away from the queries.
REGION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$"
# Budget periods the API takes: a year, quarter or month from 1970 to 2999 (year 0000 is no date at all).
PERIOD_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})(-[Qq][1-4]|-(0[1-9]|1[0-2]))?$"
PERIOD_HELP = "2026 | 2026-Q4 | 2026-11 (years 1970 to 2999)"
CANDIDATES_PATTERN = rf"^{REGION_PATTERN[1:-1]}(,{REGION_PATTERN[1:-1]}){{0,{MAX_CANDIDATES - 1}}}$"


class InvalidInput(exceptions.APIException):
    status_code = 400
    default_detail = "The request is invalid."
    default_code = "invalid"


class JobNotFinished(exceptions.APIException):
    status_code = 409
    default_detail = "The import job has not finished yet; poll its URL and ask again."
    default_code = "conflict"


def _project(
    request: Request, org_slug: str, project_slug: str, *, write: bool = False, manage: bool = False
) -> tuple[Project, str]:
    """The project and the audit label of the caller; 404 outside it, 403 for a role that cannot write."""
    if isinstance(request.auth, ApiToken):
        project = api_project_access(request, org_slug, project_slug)
        if manage:
            raise exceptions.PermissionDenied("Budgets are set by officers (browser session), not with a token.")
        return project, f"token {request.auth.prefix}"
    access = project_access_for_user(request.user, org_slug, project_slug)
    if manage and not access.can(Capability.MANAGE_BUDGETS):
        raise exceptions.PermissionDenied("Only officers can set budgets.")
    if write and not access.can(Capability.WRITE_PROJECT_DATA):
        raise exceptions.PermissionDenied("Your role is read-only for this project.")
    return access.project, ""


def _validated(serializer: serializers.Serializer) -> dict[str, Any]:
    if not serializer.is_valid():
        message = "; ".join(
            f"{field}: {' '.join(str(e) for e in errors)}" for field, errors in serializer.errors.items()
        )
        raise InvalidInput(message, code="invalid") from None
    return dict(serializer.validated_data)


def _period(value: str | None) -> budget.Period:
    try:
        period = budget.period_parse(value or "")
    except (budget.InvalidPeriod, ValueError) as exc:  # ValueError: year 0000 is no date
        raise InvalidInput(f"period: {exc}") from exc
    if not re.match(PERIOD_PATTERN, value or ""):
        raise InvalidInput(f"period must be {PERIOD_HELP}.")
    return period


def _number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, not {value[:40]!r}.") from None
    if not math.isfinite(number) or number < 0:
        raise InvalidInput(f"{name} must be a finite number of at least 0.")
    return number


# ---------------------------------------------------------------------------------------------- budget


class BudgetWriteSerializer(StrictJSONTypes, serializers.Serializer):
    kg = serializers.FloatField(min_value=0)
    basis = serializers.ChoiceField(choices=Basis.choices, default=Basis.LOCATION)
    run_limit_kg = serializers.FloatField(min_value=0, required=False, allow_null=True, default=None)

    def validate_kg(self, value: float) -> float:
        if not math.isfinite(value):
            raise serializers.ValidationError("must be finite")
        return value


def budget_payload(
    item: Budget, status: budget.BudgetStatus, period: budget.Period, run: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "project": str(item.project),
        "period": period.key,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "basis": item.basis,
        "origin": item.origin,
        "budget_kg": status.budget_kg,
        "used_kg": status.used_kg,
        "remaining_kg": status.remaining_kg,
        "projected_kg": status.projected_kg,
        "used_percent": status.used_percent,
        "projected_percent": status.projected_percent,
        "projected_over": status.projected_over,
        "days_elapsed": status.days_elapsed,
        "days_total": status.days_total,
        "run_limit_kg": item.run_limit_kg,
        "run": run,
        "verdict": status.verdict,
        # A budget at risk comes with the advisor's best open idea for this project (None otherwise).
        "top_recommendation": _top_recommendation(item.project)
        if status.verdict == budget.VERDICT_FAIL or status.projected_over
        else None,
    }


def _top_recommendation(project: Project) -> dict[str, Any] | None:
    from steering.recommendations import recommendation_payload, recommendation_top

    top = recommendation_top(project=project)
    if top is None:
        return None
    payload = recommendation_payload(top)
    return {key: payload[key] for key in ("id", "title", "action", "saving_per_month")}


class ProjectBudgetView(APIView):
    token_ci_gate = True  # the CI gate's verdict (scope ci-gate); writes still need an officer session

    parser_classes = [parsers.JSONParser]  # CI clients send JSON; form-encoded types have no schema

    @extend_schema(
        summary="Budget verdict for CI: budget, used, remaining, projected, pass/fail",
        tags=["steering"],
        description="Without `period`, the budget covering today (month, then quarter, then year). `run_kg` "
        "checks one run against the per-run limit; `job` checks the largest run of that import job instead. "
        "The verdict fails when the period's use exceeds the budget or the run exceeds the limit.",
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, pattern=PERIOD_PATTERN, description=PERIOD_HELP),
            OpenApiParameter("run_kg", OpenApiTypes.NUMBER, description="kgCO2e of one run"),
            OpenApiParameter("job", OpenApiTypes.UUID, description="an import job of this project"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project, _ = _project(request, org_slug, project_slug)
        item = _budget_for(project, request.query_params.get("period"))
        period = budget.period_parse(item.period)
        run = _run_check(request, project, item)
        status = selectors.budget_status_for(item=item, today=selectors.today_utc(), run_kg=run["kg"] if run else None)
        if run is not None:
            run["verdict"] = status.run_verdict
        return Response(budget_payload(item, status, period, run))

    @extend_schema(
        summary="Set the project's budget for a period (officers, session)",
        tags=["steering"],
        parameters=[
            OpenApiParameter("period", OpenApiTypes.STR, required=True, pattern=PERIOD_PATTERN, description=PERIOD_HELP)
        ],
        request=BudgetWriteSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    def put(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project, _ = _project(request, org_slug, project_slug, manage=True)
        body_period = request.data.get("period") if isinstance(request.data, dict) else None  # a JSON list has none
        period = _period(request.query_params.get("period") or body_period)
        data = _validated(BudgetWriteSerializer(data=request.data))
        item = services.budget_set(
            project=project,
            period=period,
            kg=data["kg"],
            basis=data["basis"],
            run_limit_kg=data["run_limit_kg"],
            actor=session_user(request),
        )
        status = selectors.budget_status_for(item=item, today=selectors.today_utc())
        return Response(budget_payload(item, status, period, None))


def _budget_for(project: Project, period_key: str | None) -> Budget:
    if period_key:
        item = selectors.budget_get(project=project, period=_period(period_key))
    else:
        item = selectors.budget_current(project=project, today=selectors.today_utc())
    if item is None:
        raise exceptions.NotFound("This project has no budget for that period.")
    return item


def _run_check(request: Request, project: Project, item: Budget) -> dict[str, Any] | None:
    run_kg, job_id = request.query_params.get("run_kg"), request.query_params.get("job")
    if run_kg and job_id:
        raise InvalidInput("Give run_kg or job, not both.")
    if run_kg:
        return {"kg": _number("run_kg", run_kg), "job": None}
    if not job_id:
        return None
    try:
        job_uuid = uuid.UUID(job_id)
    except ValueError:
        raise InvalidInput("job must be an import job id (a UUID).") from None
    job = ImportJob.objects.filter(project=project, pk=job_uuid).first()
    if job is None:
        raise exceptions.NotFound("No such import job in this project.")
    if job.status == JobStatus.FAILED:
        raise InvalidInput(f"The import job failed: {job.error_message[:300]}")
    if not job.is_finished:
        raise JobNotFinished()
    return {"kg": selectors.job_max_run_kg(project=project, job_id=job.pk, basis=item.basis), "job": str(job.pk)}


# ---------------------------------------------------------------------------------------------- regions


class RegionAdviceView(APIView):
    @extend_schema(
        summary="Rank candidate regions of one provider by grid intensity (cleanest first)",
        tags=["steering"],
        parameters=[
            OpenApiParameter("provider", OpenApiTypes.STR, required=True, enum=list(selectors.PROVIDERS)),
            OpenApiParameter(
                "candidates",
                OpenApiTypes.STR,
                required=True,
                pattern=CANDIDATES_PATTERN,
                description=f"1 to {MAX_CANDIDATES} region ids, comma-separated: us-east-1,eu-north-1",
            ),
            OpenApiParameter("live", OpenApiTypes.BOOL, description="false: registry only"),
            OpenApiParameter(
                "residency",
                OpenApiTypes.STR,
                enum=[mode for mode, _ in RESIDENCY_CHOICES],
                description="Data residency filter: any (default), same (the area of `current`; the EU counts as "
                "one) or eu (EU regions only). Candidates left out are listed in `excluded`.",
            ),
            OpenApiParameter(
                "current",
                OpenApiTypes.STR,
                pattern=REGION_PATTERN,
                description="The region the work runs in now; required with residency=same.",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        provider = (request.query_params.get("provider") or "").strip().lower()
        if provider not in selectors.PROVIDERS:
            raise InvalidInput(f"provider must be one of {', '.join(selectors.PROVIDERS)}.")
        candidates = _candidates(request.query_params.get("candidates") or "")
        live = _flag("live", request.query_params.get("live", "true"))
        residency, current = _residency(request.query_params.get("residency"), request.query_params.get("current"))
        result = selectors.region_advice(
            provider=provider, candidates=candidates, live=live, residency=residency, current=current
        )
        return Response(region_advice_payload(result))


_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _candidates(raw: str) -> list[str]:
    candidates = raw.split(",")  # as the schema's pattern: no blank items, no padding
    if not 1 <= len(candidates) <= MAX_CANDIDATES or not all(re.match(REGION_PATTERN, c) for c in candidates):
        raise InvalidInput(
            f"candidates must list 1 to {MAX_CANDIDATES} region ids (letters, digits, space . _ -), comma-separated."
        )
    return candidates


def _residency(raw: str | None, current: str | None) -> tuple[str, str]:
    modes = [mode for mode, _ in RESIDENCY_CHOICES]
    residency = (raw or ANY).strip().lower()
    if residency not in modes:
        raise InvalidInput(f"residency must be one of {', '.join(modes)}.")
    current = (current or "").strip()
    if current and not re.match(REGION_PATTERN, current):
        raise InvalidInput("current must be a region id (letters, digits, space . _ -).")
    if residency == SAME and not current:
        raise InvalidInput("residency=same needs current, the region the work runs in now.")
    return residency, current


def _flag(name: str, raw: str) -> bool:
    if raw.lower() not in _FLAGS:
        raise InvalidInput(f"{name} must be true or false.")
    return _FLAGS[raw.lower()]


def region_advice_payload(result: selectors.RegionAdvice) -> dict[str, Any]:
    ranked = [
        {"rank": i, "region": f.region, "g_co2e_per_kwh": f.g_co2e_per_kwh, "source": f.source, "detail": f.detail}
        for i, f in enumerate(result.ranking.ranked, start=1)
    ]
    return {
        "provider": result.provider,
        "source": result.source,
        "fallback": bool(result.live_error),
        "live_error": result.live_error or None,
        "best": ranked[0] if ranked else None,
        "ranked": ranked,
        "unmapped": result.ranking.unmapped,
        "residency": result.residency,
        "excluded": [{"region": region, "area": area} for region, area in result.excluded],
    }


# ---------------------------------------------------------------------------------------------- SCI


@extend_schema_field({"type": "number", "format": "double", "minimum": 0, "exclusiveMinimum": True})
class PositiveFloatField(serializers.FloatField):
    """A count of functional units: SCI divides by it, so it must be above zero."""


class UnitCountSerializer(StrictJSONTypes, serializers.Serializer):
    period = serializers.RegexField(PERIOD_PATTERN, max_length=7, help_text=PERIOD_HELP)
    count = PositiveFloatField()

    def validate_period(self, value: str) -> budget.Period:
        try:
            return budget.period_parse(value)
        except budget.InvalidPeriod as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_count(self, value: float) -> float:
        if not math.isfinite(value) or value <= 0:
            raise serializers.ValidationError("must be a number greater than zero")
        return value


def sci_payload(project: Project) -> list[dict[str, Any]]:
    return [
        {
            "period": p["period"],
            "energy_kwh": p["result"].energy_kwh,
            "intensity_kg_per_kwh": p["result"].intensity_kg_per_kwh,
            "embodied_kg": p["result"].embodied_kg,
            "units": p["result"].units,
            "sci_kg_per_unit": p["result"].sci_kg_per_unit,
        }
        for p in selectors.sci_trend(project=project)
    ]


class SciUnitsView(APIView):
    parser_classes = [parsers.JSONParser]  # CI clients send JSON; form-encoded types have no schema

    @extend_schema(
        summary="SCI per period (E × I + M) / R; never part of scope totals",
        tags=["steering"],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project, _ = _project(request, org_slug, project_slug)
        return Response({"project": str(project), "sci": sci_payload(project)})

    @extend_schema(
        summary="Post the count of functional units (R) for a period; replaces an earlier count",
        tags=["steering"],
        request=UnitCountSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project, label = _project(request, org_slug, project_slug, write=True)
        data = _validated(UnitCountSerializer(data=request.data))
        actor = None if label else session_user(request)
        item = services.unit_count_set(
            project=project, period=data["period"], count=data["count"], actor=actor, actor_label=label
        )
        return Response({"project": str(project), "period": item.period, "count": item.count})


# ---------------------------------------------------------------------------------------------- run models


class RunModelSerializer(StrictJSONTypes, serializers.Serializer):
    model = serializers.CharField(max_length=200)
    metric_name = serializers.CharField(max_length=100)
    metric_value = serializers.FloatField()
    higher_is_better = serializers.BooleanField(default=True)

    def validate_metric_value(self, value: float) -> float:
        if not math.isfinite(value):
            raise serializers.ValidationError("must be a finite number")
        return value


class RunModelView(APIView):
    parser_classes = [parsers.JSONParser]  # CI clients send JSON; form-encoded types have no schema

    @extend_schema(
        summary="Tag a run with its model and quality metric",
        tags=["steering"],
        request=RunModelSerializer,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, org_slug: str, project_slug: str, run_id: str) -> Response:
        project, label = _project(request, org_slug, project_slug, write=True)
        if len(run_id) > 100:
            raise InvalidInput("run_id is at most 100 characters.")
        data = _validated(RunModelSerializer(data=request.data))
        item = services.run_model_set(
            project=project, run_id=run_id, actor=None if label else session_user(request), actor_label=label, **data
        )
        return Response(
            {
                "project": str(project),
                "run_id": item.run_id,
                "model": item.model,
                "metric_name": item.metric_name,
                "metric_value": item.metric_value,
                "higher_is_better": item.higher_is_better,
            }
        )


class RecommendationsView(APIView):
    @extend_schema(
        summary="The efficiency advisor's recommendations for a project, largest saving first",
        tags=["steering"],
        description="Each with its estimated saving per month (kWh, location- and market-based kgCO2e, cost when "
        "billed), method, assumptions, evidence (ledger record ids), status and, once done, the realised reduction "
        "with its 95 % interval. `status` filters (open, accepted, done, dismissed).",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "accepted", "done", "dismissed"]),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        from steering.models import RecommendationStatus
        from steering.recommendations import recommendation_list, recommendation_payload

        project, _ = _project(request, org_slug, project_slug)
        status = request.query_params.get("status")
        items = recommendation_list(project=project)
        if status is not None:
            if status not in RecommendationStatus.values:
                raise InvalidInput("status must be one of open, accepted, done, dismissed.")
            items = items.filter(status=status)
        return Response({"project": str(project), "recommendations": [recommendation_payload(i) for i in items]})
