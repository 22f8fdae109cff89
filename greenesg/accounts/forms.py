"""Forms only validate; views hand cleaned_data to a service."""

from __future__ import annotations

from django import forms


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, initial="CI", help_text="What will use it, e.g. 'GitHub Actions' or 'live tracker on gpu-3'"
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the token a name.")
        return name
