from __future__ import annotations

from zoneinfo import available_timezones

from django import forms
from django.contrib.auth.models import User

from greenesg.accounts.models import Organisation, Project, Role
from greenesg.accounts.selectors import AuditChoices, AuditFilter


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


class AuditFilterForm(forms.Form):
    """GET filters of the audit log. Choices come from the log itself, so a tampered value is a 400."""

    user = forms.ChoiceField(required=False)
    action = forms.ChoiceField(required=False)
    object_type = forms.ChoiceField(required=False, label="Object type")
    date_from = forms.DateField(required=False, label="From (UTC day)", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To (UTC day)", widget=forms.DateInput(attrs={"type": "date"}))
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    format = forms.ChoiceField(required=False, choices=[("", "page"), ("csv", "CSV")], widget=forms.HiddenInput)

    def __init__(self, *args: object, choices: AuditChoices, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name, values in (
            ("user", choices.actors),
            ("action", choices.actions),
            ("object_type", choices.object_types),
        ):
            self.fields[name].choices = [("", "All"), *((value, value) for value in values)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The 'from' day comes after the 'to' day.")
        return cleaned

    def audit_filter(self) -> AuditFilter:
        data = self.cleaned_data
        return AuditFilter(
            actor=data.get("user") or "",
            action=data.get("action") or "",
            object_type=data.get("object_type") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
