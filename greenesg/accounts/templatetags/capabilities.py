"""`{% load capabilities %}` … `{% if access|can:"manage_esg" %}`: templates read the capabilities table too.

A misspelt capability raises instead of quietly hiding a button: Django templates swallow unknown attributes,
so a renamed or mistyped property would simply read as false everywhere.
"""

from __future__ import annotations

from django import template

from greenesg.accounts.access import Capability, OrgAccess, ProjectAccess, capability_has
from greenesg.accounts.models import Membership

register = template.Library()


@register.filter
def can(subject: OrgAccess | ProjectAccess | Membership | None, capability: str) -> bool:
    cap = Capability(capability)  # ValueError for a name that is not in the table
    if isinstance(subject, OrgAccess | ProjectAccess):
        return subject.can(cap)
    if isinstance(subject, Membership):
        return capability_has(subject, cap)
    return False
