"""Forms only validate; views hand cleaned_data to a service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms

from greenesg.accounts.models import Project
from greenesg.lib.residency import ANY, RESIDENCY_CHOICES
from steering import budget, webhook
from steering.models import Basis, TargetSplit

MAX_UNIT_CSV_BYTES = 1024 * 1024
PROVIDER_CHOICES = [("aws", "AWS"), ("gcp", "Google Cloud"), ("azure", "Azure")]


class PeriodField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 10)
        kwargs.setdefault("help_text", "2026 (year), 2026-Q4 (quarter) or 2026-11 (month).")
        super().__init__(**kwargs)

    def clean(self, value: Any) -> budget.Period:
        text = super().clean(value)
        try:
            return budget.period_parse(text)
        except budget.InvalidPeriod as exc:
            raise forms.ValidationError(str(exc)) from exc


class BudgetForm(forms.Form):
    period = PeriodField()
    kg = forms.FloatField(min_value=0, label="Budget (kgCO2e)")
    basis = forms.ChoiceField(choices=Basis.choices, initial=Basis.LOCATION)
    run_limit_kg = forms.FloatField(
        min_value=0,
        required=False,
        label="Per-run limit (kgCO2e, optional)",
        help_text="The CI gate fails a run above this figure.",
    )


class ProjectSteeringForm(forms.Form):
    webhook_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Receives a JSON POST when 50, 80 and 100 % of a budget is reached.",
    )
    functional_unit = forms.CharField(
        required=False, max_length=100, help_text='SCI functional unit, e.g. "training run" or "1,000 inferences".'
    )
    non_production = forms.BooleanField(
        required=False,
        label="Non-production environment",
        help_text="Development, test or staging: the advisor proposes scheduling compute billed around the clock.",
    )
    quality_tolerance_percent = forms.FloatField(
        required=False,
        initial=1.0,
        min_value=0.0,
        max_value=50.0,
        label="Model quality tolerance (%)",
        help_text="How much worse a model's quality metric may be (relative) and still be proposed as good enough.",
    )

    def clean_webhook_url(self) -> str:
        # Refuses internal literal addresses, plain http where https is required and hosts off the allow-list;
        # the send repeats these checks after resolving the name.
        url = self.cleaned_data["webhook_url"]
        problem = webhook.webhook_url_problem(url) if url else None
        if problem:
            raise forms.ValidationError(problem)
        return url


class OrgTargetForm(forms.Form):
    base_year = forms.IntegerField(min_value=2000, max_value=2100)
    base_year_kg = forms.FloatField(min_value=0, label="Base-year emissions (kgCO2e)")
    target_year = forms.IntegerField(min_value=2000, max_value=2100)
    reduction_pct = forms.FloatField(min_value=0, max_value=100, label="Reduction by the target year (%)")
    basis = forms.ChoiceField(choices=Basis.choices, initial=Basis.LOCATION)
    split = forms.ChoiceField(choices=TargetSplit.choices, initial=TargetSplit.BASE_YEAR_SHARE)

    def __init__(self, *args: Any, projects: list[Project], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.projects = projects
        for project in projects:
            self.fields[f"share_{project.pk}"] = forms.FloatField(
                min_value=0, max_value=100, required=False, label=f"Manual share of {project.name} (%)"
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("base_year") and data.get("target_year") and data["target_year"] <= data["base_year"]:
            self.add_error("target_year", "The target year must come after the base year.")
        shares = self.shares()
        if data.get("split") == TargetSplit.MANUAL and not any(v > 0 for v in shares.values()):
            self.add_error("split", "A manual split needs at least one project share.")
        return data

    def shares(self) -> dict[Project, float]:
        values = {p: self.cleaned_data.get(f"share_{p.pk}") for p in self.projects}
        return {p: v for p, v in values.items() if v is not None}


class DeriveBudgetsForm(forms.Form):
    period = PeriodField()


class UnitCountForm(forms.Form):
    period = PeriodField()
    count = forms.FloatField(min_value=0, label="Functional units in the period")

    def clean_count(self) -> float:
        count = self.cleaned_data["count"]
        if count is None or count <= 0:
            raise forms.ValidationError("The count must be greater than zero.")
        return count


class UnitCountUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV with the columns period,count (header optional).")

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UNIT_CSV_BYTES:
            raise forms.ValidationError("The file is larger than 1 MB.")
        return upload.read()


class RegionMoveForm(forms.Form):
    provider = forms.ChoiceField(choices=PROVIDER_CHOICES)
    from_region = forms.CharField(max_length=64)
    to_region = forms.CharField(max_length=64, help_text="Where the runs now run.")
    period = PeriodField()
    note = forms.CharField(max_length=300, required=False)


MAX_CANDIDATES = 30


class RegionCandidatesForm(forms.Form):
    """My candidate regions of one provider, checked against the regions the factor registry knows for it.

    `regions_of(provider)` returns the registry's region names; names are compared by `zone_of(provider, name)`
    so an Azure display name ("West Europe") is the same region as westeurope.
    """

    provider = forms.ChoiceField(choices=PROVIDER_CHOICES)
    current_region = forms.CharField(max_length=64, label="Current region")
    candidates = forms.CharField(
        max_length=2000,
        label="Candidate regions",
        help_text=f"Comma-separated, up to {MAX_CANDIDATES}: eu-north-1, eu-west-3",
    )
    residency = forms.ChoiceField(choices=RESIDENCY_CHOICES, initial=ANY, required=False, label="Data residency")

    def __init__(
        self,
        *args: Any,
        regions_of: Callable[[str], list[str]],
        zone_of: Callable[[str, str], str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.regions_of = regions_of
        self.zone_of = zone_of

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "residency" in data and not data["residency"]:
            data["residency"] = ANY  # left out: no filter
        provider = data.get("provider")
        if not provider:
            return data
        known = {self.zone_of(provider, r): r for r in self.regions_of(provider)}
        current = data.get("current_region")
        if current is not None:
            if self.zone_of(provider, current) not in known:
                self.add_error("current_region", f"{current!r} is not a {provider} region of the factor registry.")
            else:
                data["current_region"] = known[self.zone_of(provider, current)]
        raw = data.get("candidates")
        if raw is not None:
            names = list(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
            unknown = [n for n in names if self.zone_of(provider, n) not in known]
            if not names:
                self.add_error("candidates", "Name at least one candidate region.")
            elif len(names) > MAX_CANDIDATES:
                self.add_error("candidates", f"Name at most {MAX_CANDIDATES} candidate regions, not {len(names)}.")
            elif unknown:
                self.add_error("candidates", f"Not {provider} regions of the factor registry: {', '.join(unknown)}.")
            else:
                data["candidates"] = list(dict.fromkeys(known[self.zone_of(provider, n)] for n in names))
        return data
