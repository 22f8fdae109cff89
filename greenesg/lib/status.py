"""What a status means to the reader, so every page colours it the same way (issue 14 item 6).

Statuses come from many models (ESG values, factor-set changes, reports, import jobs, budget verdicts); what
the reader needs is the same four answers: is something waiting for a person, is it finished, did it fail, or
is it only information. Pure: no Django, so the table is tested on its own and the template tag stays a wrapper.
"""

from __future__ import annotations

from enum import StrEnum


class Meaning(StrEnum):
    NEEDS_ACTION = "needs-action"
    DONE = "done"
    FAILED = "failed"
    NEUTRAL = "neutral"


_MEANINGS: dict[str, Meaning] = {
    # Someone has to act: approve, sign, enter, look at a budget heading over its limit.
    **dict.fromkeys(
        ("pending", "submitted", "open", "draft", "ready-to-sign", "warning", "projected-over"),
        Meaning.NEEDS_ACTION,
    ),
    **dict.fromkeys(("approved", "done", "signed", "ready", "pass", "closed"), Meaning.DONE),
    **dict.fromkeys(("failed", "rejected", "fail", "refused"), Meaning.FAILED),
}

# Where one word means something else for one kind of object: a READY report is ready for sign-off, so it waits
# for an officer, while a generic "ready" is finished work.
_BY_KIND: dict[tuple[str, str], Meaning] = {
    ("report", "ready"): Meaning.NEEDS_ACTION,
}


def status_key(status: object) -> str:
    """ "Projected over", "projected_over" and "PROJECTED-OVER" are one status."""
    return "-".join(str(status or "").strip().lower().replace("_", " ").split())


def status_meaning(status: object, kind: str = "") -> Meaning:
    """The meaning of a status (value or display word); anything not in the table is information only."""
    key = status_key(status)
    return _BY_KIND.get((kind, key)) or _MEANINGS.get(key, Meaning.NEUTRAL)
