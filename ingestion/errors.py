"""Which import errors are worth another attempt (docs/operations.md §4.2).

Kept apart from ingestion.jobs so that task decorators can import it without loading models. The ledger's
COPY runs on the raw psycopg cursor, so its errors arrive as psycopg's own classes, not Django's wrappers:
both are listed.
"""

from __future__ import annotations

import psycopg
from django.db import DataError, IntegrityError, InterfaceError, OperationalError

# Transient: a lost connection, a lock or statement timeout, a serialization failure or deadlock (psycopg raises
# these as OperationalError subclasses). Anything else fails the same way on every attempt.
RETRYABLE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)

# A value of the file the database refuses (too long, out of range, a broken constraint).
DATA_ERRORS: tuple[type[Exception], ...] = (DataError, IntegrityError, psycopg.DataError, psycopg.IntegrityError)


def database_diagnostics(exc: BaseException) -> tuple[str | None, str | None, str]:
    """(SQLSTATE, constraint name, context) of a PostgreSQL error, raw or wrapped by Django."""
    for candidate in (exc, exc.__cause__):
        diag = getattr(candidate, "diag", None)
        if diag is not None:
            return getattr(candidate, "sqlstate", None), diag.constraint_name, diag.context or ""
    return None, None, ""
