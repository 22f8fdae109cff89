"""`{% load status_chips %}` … `{% status_chip job.status job.get_status_display %}`: one markup for every status.

Lives beside the capabilities tags because this core app is the one every page's templates already load from;
the mapping itself is `greenesg.lib.status`. The chip carries a symbol and the status word as text, so the
meaning never rests on colour alone (WCAG 1.4.1).
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from greenesg.lib.status import Meaning, status_key, status_meaning

register = template.Library()

_SYMBOLS = {Meaning.NEEDS_ACTION: "!", Meaning.DONE: "✓", Meaning.FAILED: "✕", Meaning.NEUTRAL: ""}


@register.simple_tag
def status_chip(status: object, label: object = None, kind: str = "") -> SafeString:
    """A chip for a status: `label` is the text shown (defaults to the status), `kind` picks per-object
    meanings such as "report" (a ready report waits for sign-off)."""
    meaning = status_meaning(status, kind)
    symbol = _SYMBOLS[meaning]
    return format_html(
        '<span class="tag status status-{}" data-status="{}">{}{}</span>',
        meaning.value,
        status_key(status),
        format_html('<span class="status-symbol" aria-hidden="true">{}</span> ', symbol) if symbol else "",
        label if label not in (None, "") else status,
    )


@register.filter
def status_class(status: object, kind: str = "") -> str:
    """The meaning's class alone, for markup that is not a chip (a row, a live-updated field)."""
    return f"status-{status_meaning(status, kind).value}"
