"""Rights are read from the capabilities table only (greenesg/accounts/access.py, docs/security.md §2).

A role compared by hand somewhere (`membership.role == Role.OFFICER`, `{% if m.role == "engineer" %}`) is a
second table that the next role or changed right forgets; these checks keep such comparisons from coming back.
"""

from __future__ import annotations

import re
from pathlib import Path

from greenesg.accounts.access import Capability

ROOT = Path(__file__).resolve().parent.parent
CODE = ("greenesg", "reports", "ingestion", "esg", "steering", "demo", "tools")
# Where roles may still be named: the model, the table, the member form's choices, demo and seed data.
ALLOWED = {
    "greenesg/accounts/models.py",
    "greenesg/accounts/access.py",
    "greenesg/accounts/manage_forms.py",
    "demo/loader.py",
    "demo/logins.py",
    "esg/demo.py",
}
ROLE_MEMBER = re.compile(r"\bRole\.[A-Z]")
ROLE_COMPARED = re.compile(r"\brole\s*(?:==|!=|\bin\b|\bnot in\b)|\brole(?:__in)?\s*=\s*[\"'\[({]")
ROLE_STRING = re.compile(r"[\"'](?:officer|engineer|auditor)[\"']")
# Properties that once encoded roles; templates would read them as quietly false.
RETIRED = re.compile(r"\.(?:can_manage|can_ingest|can_manage_tokens|can_read_audit_log|sees_whole_org)\b")
TEMPLATE_ROLE = re.compile(r"\brole\b\s*(?:==|!=|\bin\b)|\brole\s*\|")
TEMPLATE_CAP = re.compile(r"\|\s*can\s*:\s*[\"'](\w+)[\"']")


def _python_files() -> list[Path]:
    files = [p for top in CODE for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts]
    return sorted(p for p in files if p.relative_to(ROOT).as_posix() not in ALLOWED)


def _hits(paths: list[Path], *patterns: re.Pattern[str]) -> list[str]:
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(p.search(line) for p in patterns):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_no_role_is_compared_outside_the_capabilities_table() -> None:
    assert _hits(_python_files(), ROLE_MEMBER, ROLE_COMPARED, ROLE_STRING, RETIRED) == []


def test_no_template_compares_roles() -> None:
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert _hits(templates, TEMPLATE_ROLE, RETIRED) == []


def test_templates_ask_only_for_capabilities_that_exist() -> None:
    names = {Capability(m) for p in (ROOT / "templates").rglob("*.html") for m in TEMPLATE_CAP.findall(p.read_text())}
    assert names  # the pattern still matches how templates ask


def test_the_guard_catches_the_comparisons_it_exists_for() -> None:
    lines = [
        "if membership.role == Role.OFFICER:",
        "if access.role not in (x, y):",
        'members.filter(role="officer")',
        "members.filter(role__in=[a, b])",
        "return self.org.can_manage",
    ]
    assert all(any(p.search(line) for p in (ROLE_MEMBER, ROLE_COMPARED, ROLE_STRING, RETIRED)) for line in lines)
    assert TEMPLATE_ROLE.search('{% if m.role == "engineer" %}') and RETIRED.search("{% if access.can_ingest %}")
    assert not ROLE_COMPARED.search("role=form.cleaned_data['role'],")
