from __future__ import annotations

from zoneinfo import available_timezones

from django import forms
from django.contrib.auth.models import User

from greenesg.accounts.models import Organisation, Project, Role


class ProjectSettingsForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["slug", "name", "team", "host_timezone", "infrastructure", "site_pue", "inventory_source"]
        help_texts = {"slug": "Used in URLs and the API: lower-case letters, digits and hyphens."}

    def __init__(self, *args: object, organisation: Organisation, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.organisation = organisation

    def clean_host_timezone(self) -> str:
        value = self.cleaned_data["host_timezone"].strip()
        if value and value not in available_timezones():
            raise forms.ValidationError(f"{value!r} is not an IANA time zone such as Europe/Paris.")
        return value

    def clean_site_pue(self) -> float | None:
        value = self.cleaned_data["site_pue"]
        if value is not None and not 1.0 <= value <= 3.0:
            raise forms.ValidationError("A PUE is between 1.0 and 3.0.")
        return value

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        clash = Project.objects.filter(organisation=self.organisation, slug=slug).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another project of this organisation already uses this slug.")
        return slug


class ProjectChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Project) -> str:
        # Officers filter the checklist by the names they know; the slug tells apart two alike names.
        return f"{obj.name} ({obj.slug})"


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices)
    # Checkboxes, not a multi-select: a Ctrl-click list loses every earlier choice on one plain click.
    projects = ProjectChoiceField(
        queryset=Project.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Engineers see and import into these projects only.",
    )

    def __init__(self, *args: object, organisation: Organisation, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["projects"].queryset = organisation.projects.all()  # type: ignore[attr-defined]

    def clean_username(self) -> User:
        user = User.objects.filter(username=self.cleaned_data["username"]).first()
        if user is None:
            raise forms.ValidationError("No user with this name. Ask an administrator to create the account.")
        return user
