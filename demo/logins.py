"""The demo's logins and their password: what the loader creates and, in demo mode, the login page lists.

Kept apart from the loader (which imports the import pipeline) so the login page reads only these constants.
"""

from __future__ import annotations

DEMO_PASSWORD = "demo"  # noqa: S105 - demo-only accounts, refused in production mode

# (user name, what the login is for), in the order the login page lists them.
DEMO_LOGINS = (
    ("officer", "sustainability officer (every page, approvals, settings, reports)"),
    ("controller", "a second officer, for four-eyes approvals and report sign-off"),
    ("engineer", "engineer of two projects (uploads, runs, budgets)"),
    ("auditor", "read-only auditor (figures, evidence, the audit log)"),
)
