"""Grammar of the identifier fields of a normalised billing line, checked once for every format.

Why here and not in each format's parser: the fast (column-wise) and slow (row) parsers of four formats
would each need the same checks; every line of every format passes through the shared read loop, so the
check runs there on the parsed values. A line that breaks a rule is dropped and reported as a row problem
(line, column as written in the file, code, message, raw value), like a bad number.

Rules, on the values the parsers produce:
- currency: ISO 4217, three letters (or empty);
- region: a provider region code ("us-east-1", "europe-west1", "West Europe"...): letters, digits, spaces and
  . _ - : / ( ) @, at most 64 characters;
- account: an id or, for Azure, possibly the subscription's name: no control characters, at most 200;
- every text field (service, usage type, tags, names...) may hold any character except NUL, which
  PostgreSQL text and jsonb cannot store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields

from greenesg.footprint.methodology.cloud import NormalisedBillingLine
from ingestion.billing.readers.columns import LineBatch
from ingestion.billing.readers.common import ReadReport, RowProblem

_RULES: dict[str, tuple[re.Pattern[str], str, str]] = {
    "currency": (re.compile(r"[A-Za-z]{3}", re.ASCII), "bad_currency", "an ISO 4217 currency code such as EUR"),
    "region": (
        re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._:/()@-]{0,63}", re.ASCII),
        "bad_region",
        "a region code such as us-east-1 or westeurope (letters, digits, spaces and . _ - : / ( ) @; at most 64)",
    ),
    # Azure may give the subscription's display name here: any printable text, no control characters.
    "account": (
        re.compile(r"[^\x00-\x1f\x7f-\x9f]{1,200}"),
        "bad_account",
        "an account, subscription or project id (no control characters; at most 200)",
    ),
}
_TEXT_FIELDS = [f.name for f in fields(NormalisedBillingLine) if f.type in ("str", str)]


def line_problem(line: NormalisedBillingLine, headers: dict[str, str]) -> RowProblem | None:
    """The first rule the line breaks, as a row problem; None when the line is fine."""
    for name in _TEXT_FIELDS:
        value = getattr(line, name)
        if "\x00" in value:
            return _problem(line, headers, name, "nul_character", "must not contain a NUL character", value)
    for key, value in line.tags.items():
        if "\x00" in key or "\x00" in value:
            return _problem(line, headers, "tags", "nul_character", "must not contain a NUL character", value)
    for name, (pattern, code, what) in _RULES.items():
        value = getattr(line, name)
        if value and not pattern.fullmatch(value):
            return _problem(line, headers, name, code, f"must be {what}", value)
    return None


def _problem(
    line: NormalisedBillingLine, headers: dict[str, str], name: str, code: str, rule: str, raw: str
) -> RowProblem:
    shown = raw.replace("\x00", "\u2400")  # the error report is stored in PostgreSQL too
    column = headers.get(name, name)
    return RowProblem(line.source_line, column, code, f"{column} {rule}, got {shown[:60]!r}", shown[:200])


def keep_valid_lines(
    lines: Iterable[NormalisedBillingLine], report: ReadReport, headers: dict[str, str]
) -> list[NormalisedBillingLine]:
    """Lines that pass the grammar; the others move from 'kept' to 'rejected' in the report's counters."""
    kept: list[NormalisedBillingLine] = []
    for line in lines:
        problem = line_problem(line, headers)
        if problem is None:
            kept.append(line)
            continue
        report.add_problem(problem)
        report.rows_kept -= 1
        report.rows_rejected += 1
        report.buckets[line.bucket] -= 1
        if not report.buckets[line.bucket]:
            del report.buckets[line.bucket]
    return kept


def _batch_clean(batch: LineBatch) -> bool:
    """True when no line of the batch breaks a rule: each rule checked once per distinct value of its column."""
    columns = batch.columns
    for name in _TEXT_FIELDS:
        if any("\x00" in value for value in set(columns[name])):
            return False
    distinct_tags = {id(tags): tags for tags in columns["tags"]}.values()
    if any("\x00" in k or "\x00" in v for tags in distinct_tags for k, v in tags.items()):
        return False
    for name, (pattern, _, _) in _RULES.items():
        if any(value and not pattern.fullmatch(value) for value in set(columns[name])):
            return False
    return True


def keep_valid_batch(batch: LineBatch, report: ReadReport, headers: dict[str, str]) -> LineBatch:
    """keep_valid_lines for a column batch: a clean batch (the usual case) is checked per distinct value and
    passes as it is; otherwise its lines are checked one by one, so problems come out exactly as before."""
    if not batch.size or _batch_clean(batch):
        return batch
    return LineBatch.from_lines(keep_valid_lines(batch.lines(), report, headers))
