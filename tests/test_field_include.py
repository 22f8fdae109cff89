"""templates/_field.html: every main form shows label, field, help and errors in that order (issue 14 item 7)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django import forms
from django.template.loader import render_to_string


class SampleForm(forms.Form):
    name = forms.CharField(help_text="As on the invoice.")
    agree = forms.BooleanField(help_text="Tick to confirm.")
    colours = forms.MultipleChoiceField(
        choices=[("r", "Red"), ("g", "Green")], widget=forms.CheckboxSelectMultiple, help_text="Pick any."
    )

    def clean_name(self) -> str:
        raise forms.ValidationError("Name is wrong.")


def _render(form: forms.Form, name: str) -> BeautifulSoup:
    return BeautifulSoup(render_to_string("_field.html", {"field": form[name]}), "html.parser")


def _order(soup: BeautifulSoup) -> list[str]:
    kinds = []
    for tag in soup.find_all(["label", "legend", "input", "p"]):
        if tag.name in ("label", "legend") and not tag.find("input"):
            kinds.append("label")
        elif tag.name == "input" or (tag.name == "label" and tag.find("input")):
            kinds.append("field")
        elif "help" in tag.get("class", []):
            kinds.append("help")
        elif tag.get("role") == "alert":
            kinds.append("error")
    return [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]


def test_it_renders_label_field_help_then_errors_as_alerts() -> None:
    form = SampleForm({"name": "x"})
    form.is_valid()
    soup = _render(form, "name")
    assert _order(soup) == ["label", "field", "help", "error"]
    box = soup.find(class_="field")
    assert "invalid" in box["class"]
    assert soup.label["for"] == "id_name" and soup.find(role="alert").get_text() == "Name is wrong."
    # Django points the input at its help and errors by id, for screen readers; the include must use those ids.
    assert soup.input["aria-describedby"].split() == [
        soup.find(class_="help")["id"],
        soup.find(role="alert").parent["id"],
    ]
    assert soup.input["aria-invalid"] == "true"


def test_a_valid_field_has_no_alert() -> None:
    soup = _render(SampleForm(), "name")
    assert soup.find(role="alert") is None and "invalid" not in soup.find(class_="field")["class"]
    assert soup.find(class_="required") is not None


def test_a_checkbox_sits_inside_its_label() -> None:
    soup = _render(SampleForm(), "agree")
    assert soup.label.input["type"] == "checkbox" and "Agree" in soup.label.get_text()


def test_a_checkbox_group_is_a_fieldset_checklist_with_a_legend() -> None:
    soup = _render(SampleForm({"colours": ["x"]}), "colours")
    fieldset = soup.fieldset
    assert fieldset is not None and "checklist" in fieldset["class"] and fieldset.legend.get_text() == "Colours"
    assert [i["value"] for i in fieldset.find_all("input", type="checkbox")] == ["r", "g"]
    assert _order(soup) == ["label", "field", "help", "error"]


@pytest.mark.parametrize(
    "template",
    [
        "accounts/members.html",
        "accounts/project_form.html",
        "steering/form.html",
        "reports/esrs/reports.html",
        "reports/esrs/settings.html",
        "reports/esrs/settings_section.html",
        "reports/esrs/other_import.html",
        "esg/settings.html",
        "esg/import.html",
    ],
)
def test_the_main_forms_use_the_shared_include(template: str) -> None:
    from pathlib import Path

    from django.conf import settings

    source = (Path(settings.BASE_DIR) / "templates" / template).read_text()
    assert '{% include "_field.html" %}' in source and "as_p" not in source
