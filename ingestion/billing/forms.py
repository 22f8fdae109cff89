"""Forms of the billing pages: they validate only; views hand cleaned data to the services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from ingestion.billing.attribution import targets_parse
from ingestion.billing.pipeline import billing_upload_problem
from ingestion.forms import SNIFF_BYTES
from ingestion.models import MatchField

PROVIDER_CHOICES = [("", "Any provider"), ("aws", "AWS"), ("gcp", "Google Cloud"), ("azure", "Azure")]


class BillingUploadForm(forms.Form):
    file = forms.FileField(
        label="Billing or provider carbon export",
        help_text="AWS CUR (legacy or 2.0), GCP billing export, Azure cost export, FOCUS, or a provider carbon "
        "export: .csv, .csv.gz, .zip or .parquet. The format is detected from the header.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        upload.seek(0)
        problem = billing_upload_problem(upload.name or "", upload.read(SNIFF_BYTES))
        upload.seek(0)
        if problem:
            raise forms.ValidationError(problem)
        return upload


class AttributionRuleForm(forms.Form):
    provider = forms.ChoiceField(choices=PROVIDER_CHOICES, required=False)
    match_field = forms.ChoiceField(choices=MatchField.choices, label="Match on")
    tag_key = forms.CharField(max_length=128, required=False, label="Tag key", help_text="Only for tag rules.")
    match_value = forms.CharField(max_length=200, label="Value", help_text="Case-insensitive; * matches anything.")
    targets = forms.CharField(
        max_length=1000,
        label="Projects",
        help_text="Project slugs with shares, e.g. 'ml' or 'ml=60, web=40'. Shares under 100 % leave the rest "
        "unallocated.",
    )
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, project_ids: Mapping[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project_ids = project_ids

    def clean_targets(self) -> tuple[tuple[int, float], ...]:
        try:
            return targets_parse(self.cleaned_data["targets"], self.project_ids)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("match_field") == MatchField.TAG and not (data.get("tag_key") or "").strip():
            self.add_error("tag_key", "A tag rule needs the tag key, e.g. team.")
        if data.get("match_field") != MatchField.TAG:
            data["tag_key"] = ""
        return data
