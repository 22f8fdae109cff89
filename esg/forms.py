"""Forms only validate shape; ESG rules live in validation.py and services.py."""

from __future__ import annotations

from typing import Any

from django import forms

from esg.catalogue import Metric
from esg.services import MIN_REASON


class MetricValuesForm(forms.Form):
    """One text field per entered metric (text, so the validation module gives the message)."""

    evidence = forms.CharField(required=False, max_length=1000, help_text="Where the figures come from.")
    comment = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, metrics: list[Metric], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for metric in metrics:
            self.fields[metric.code] = forms.CharField(
                required=False,
                label=metric.name,
                max_length=40,
                help_text=f"{metric.unit} · {metric.reference}",
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
        self.metric_codes = [m.code for m in metrics]

    def cells(self) -> dict[str, str]:
        return {code: self.cleaned_data.get(code, "") for code in self.metric_codes}


class ImportForm(forms.Form):
    KIND_CHOICES = [
        ("metrics", "HR / metrics template (one row per period)"),
        ("ap_ledger", "Accounts-payable ledger export (G1-6 payment days)"),
    ]
    kind = forms.ChoiceField(choices=KIND_CHOICES)
    period = forms.CharField(required=False, max_length=7, help_text="For an AP-ledger file: 2026 or 2026-Q3.")
    file = forms.FileField(help_text="CSV (UTF-8, comma or semicolon) or XLSX, at most 5 MB.")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SettingsForm(forms.Form):
    approved_regions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One region per line, as the ledger names it: eu-north-1, europe-west1 or aws/eu-north-1.",
    )

    def regions(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["approved_regions"].splitlines() if line.strip()]


class ReviewForm(forms.Form):
    subject = forms.CharField(max_length=200, help_text="Dataset or model name.")
    reviewed = forms.BooleanField(required=False, label="Reviewed for bias")
    reviewed_on = forms.DateField(required=False, help_text="YYYY-MM-DD")
    model_card_url = forms.URLField(required=False, max_length=500, assume_scheme="https")
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reviewed") and not data.get("reviewed_on"):
            self.add_error("reviewed_on", "A completed review needs its date.")
        return data


class RejectForm(forms.Form):
    """A rejection always carries its reason, as long as the services ask for."""

    reason = forms.CharField(min_length=MIN_REASON, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class BulkApproveForm(forms.Form):
    """The submitted values ticked on the inbox page; ids of other organisations or decided values are invalid."""

    value: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        queryset=None, error_messages={"required": "Tick at least one value."}
    )

    def __init__(self, *args: Any, queryset: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].queryset = queryset  # type: ignore[attr-defined]
