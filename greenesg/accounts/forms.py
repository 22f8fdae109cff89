"""Forms only validate; views hand cleaned_data to a service."""

from __future__ import annotations

from django import forms

from greenesg.accounts.models import TokenScope, token_scopes_default


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, initial="CI", help_text="What will use it, e.g. 'GitHub Actions' or 'live tracker on gpu-3'"
    )

    scopes = forms.MultipleChoiceField(
        choices=TokenScope.choices,
        initial=token_scopes_default,
        widget=forms.CheckboxSelectMultiple,
        help_text="The CI gate (tools/greenesg-ci) needs ingest and ci-gate; dashboards and scripts that read "
        "data need read.",
        error_messages={"required": "Choose at least one scope."},
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the token a name.")
        return name
