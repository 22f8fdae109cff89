"""Status → meaning (issue 14 item 6): one table for every page's chips."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from greenesg.lib.status import Meaning, status_meaning


@pytest.mark.parametrize(
    ("status", "meaning"),
    [
        ("pending", Meaning.NEEDS_ACTION),
        ("submitted", Meaning.NEEDS_ACTION),
        ("open", Meaning.NEEDS_ACTION),
        ("draft", Meaning.NEEDS_ACTION),
        ("warning", Meaning.NEEDS_ACTION),
        ("projected over", Meaning.NEEDS_ACTION),
        ("approved", Meaning.DONE),
        ("done", Meaning.DONE),
        ("signed", Meaning.DONE),
        ("ready", Meaning.DONE),
        ("pass", Meaning.DONE),
        ("closed", Meaning.DONE),
        ("failed", Meaning.FAILED),
        ("rejected", Meaning.FAILED),
        ("fail", Meaning.FAILED),
        ("refused", Meaning.FAILED),
        ("running", Meaning.NEUTRAL),
        ("computed", Meaning.NEUTRAL),
        ("superseded", Meaning.NEUTRAL),
        ("", Meaning.NEUTRAL),
        (None, Meaning.NEUTRAL),
    ],
)
def test_it_maps_each_status_to_its_meaning(status: str | None, meaning: Meaning) -> None:
    assert status_meaning(status) == meaning


def test_spelling_and_case_do_not_change_the_meaning() -> None:
    assert status_meaning("Projected_Over") == status_meaning("  projected   over ") == Meaning.NEEDS_ACTION
    assert status_meaning("REJECTED") == Meaning.FAILED


def test_a_ready_report_waits_for_sign_off() -> None:
    assert status_meaning("ready", "report") == Meaning.NEEDS_ACTION
    assert status_meaning("signed", "report") == Meaning.DONE
    assert status_meaning("failed", "report") == Meaning.FAILED


def _render(source: str, **context: object) -> str:
    return Template("{% load status_chips %}" + source).render(Context(context))


def test_the_chip_shows_the_label_a_symbol_and_the_meaning_class() -> None:
    html = _render('{% status_chip status "Ready for sign-off" "report" %}', status="ready")
    assert html == (
        '<span class="tag status status-needs-action" data-status="ready">'
        '<span class="status-symbol" aria-hidden="true">!</span> Ready for sign-off</span>'
    )
    assert _render("{% status_chip 'running' %}") == (
        '<span class="tag status status-neutral" data-status="running">running</span>'
    )


def test_the_chip_escapes_its_label() -> None:
    html = _render("{% status_chip 'failed' label %}", label="<b>x</b>")
    assert "status-failed" in html and "&lt;b&gt;x&lt;/b&gt;" in html and "<b>" not in html


def test_the_class_filter_gives_the_meaning_alone() -> None:
    assert _render("{{ s|status_class }}", s="done") == "status-done"
    assert _render('{{ s|status_class:"report" }}', s="ready") == "status-needs-action"
