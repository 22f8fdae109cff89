"""Dashboard filters read from the query string, so a filtered view can be shared as a link.

Every dashboard page understands the same parameters and keeps them in its links:

- `period`: `this_quarter`, `last_quarter`, `ytd`, `last_12_months` or `custom` (with `start`/`end`,
  inclusive UTC days of the ledger's `day`); `start`/`end` alone mean `custom`. Presets resolve against
  today's UTC date, so a shared "this quarter" link follows the calendar, as its name promises.
- `project` (slug, repeatable), `team`, `provider`, `region`, `service`, `scope` (`1`, `2`, `3` or a key
  such as `scope3.cat1.1`), `source` (a ledger source), and `grain` (`month` or `quarter`) for trends.

Parsing is pure (no ORM): project slugs and teams are resolved against what the reader may see by
`reports.dashboards.selectors.footprint.filter_project_ids`, which raises `InvalidFilter` for a slug the reader
cannot see.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from greenesg.footprint.vocabulary import Source
from greenesg.lib.periods import QUARTER, YEAR, Period, add_months, month_end, month_start

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")
_SCOPE = re.compile(r"^(?:scope)?([123])(?:\.cat(\d{1,2}(?:\.\d{1,2})?))?$")
# Ledger sources; the vocabulary module is pure, so parsing still needs no model import.
SOURCES: tuple[str, ...] = tuple(Source)
PRESETS: dict[str, str] = {
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "ytd": "Year to date",
    "last_12_months": "Last 12 months",
}
GRAINS = ("month", "quarter")
UNALLOCATED = "_unallocated"  # the `project` value of the bucket of billing lines no rule matched
_TEXT_LIMITS = {"team": 200, "provider": 16, "region": 64, "service": 200}
# Far wider than any ledger, yet far enough from date.min/date.max that the previous period, month and
# quarter arithmetic of the pages can never leave the calendar (a 9999-12-31 link used to be a 500).
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


class InvalidFilter(ValueError):
    """A filter value the user can fix; views answer 400 with this message."""


@dataclass(frozen=True)
class DashboardFilter:
    start: dt.date | None = None
    end: dt.date | None = None
    period: str = ""  # a preset name; "" for a custom period (start/end) or all time
    projects: tuple[str, ...] = ()
    team: str = ""
    provider: str = ""
    region: str = ""
    service: str = ""
    scope: int | None = None
    category: str | None = None  # None: any category of the scope; "" only the scope's own rows
    source: str = ""
    grain: str = "month"

    def params(self) -> list[tuple[str, str]]:
        """The non-default filter values as query parameters, in a fixed order (repeatable `project`)."""
        pairs: list[tuple[str, str]] = []
        if self.period:
            pairs.append(("period", self.period))
        else:
            pairs.extend(
                (name, value.isoformat()) for name, value in (("start", self.start), ("end", self.end)) if value
            )
        pairs.extend(("project", slug) for slug in self.projects)
        texts = (("team", self.team), ("provider", self.provider), ("region", self.region), ("service", self.service))
        pairs.extend((name, value) for name, value in texts if value)
        if self.scope is not None:
            pairs.append(("scope", self.scope_param))
        if self.source:
            pairs.append(("source", self.source))
        if self.grain != "month":
            pairs.append(("grain", self.grain))
        return pairs

    @property
    def scope_param(self) -> str:
        if self.scope is None:
            return ""
        return f"scope{self.scope}" + (f".cat{self.category}" if self.category else "")

    @property
    def querystring(self) -> str:
        """The query string to append to links ("?period=…&provider=…"), or "" when nothing is filtered."""
        params = self.params()
        return "?" + urlencode(params) if params else ""

    def with_changes(self, **changes: Any) -> DashboardFilter:
        return replace(self, **changes)

    def link(self, **changes: Any) -> str:
        """The query string of this filter with some fields changed (for drill-down links)."""
        return self.with_changes(**changes).querystring

    @property
    def cache_part(self) -> str:
        # Resolved dates are part of the key: a preset ("this quarter") moves with the calendar.
        text = urlencode([*self.params(), ("from", str(self.start)), ("to", str(self.end))])
        # Free-text values (region, service, team) would make keys long and backend-unsafe: hash them.
        return hashlib.sha256(text.encode()).hexdigest()[:20] if self.params() else "all"

    @property
    def is_filtered(self) -> bool:
        return any(name != "grain" for name, _ in self.params())

    @property
    def has_dimensions(self) -> bool:
        """True when anything beyond the period narrows the data."""
        return bool(self.projects or self.team or self.provider or self.region or self.service or self.source) or (
            self.scope is not None
        )

    @property
    def days(self) -> int | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).days + 1

    def previous(self) -> DashboardFilter | None:
        """The period to compare with (same dimensions), or None when unbounded; the report compares alike.

        A month, a quarter or a year compares with the one before it, as the report does; a year to date with the
        same days a year earlier; other whole months with as many months just before; any other range with the
        range of equal length just before it.
        """
        days = self.days
        if days is None or self.start is None or self.end is None:
            return None
        months = _whole_months(self.start, self.end)
        year_to_date = (self.start.month, self.start.day) == (1, 1) and self.end.year == self.start.year
        if months in (1, 3, 12) or (months and not year_to_date):
            start = add_months(self.start, -months)
            return replace(self, start=start, end=self.start - dt.timedelta(days=1), period="")
        if year_to_date:
            return replace(self, start=add_months(self.start, -12), end=add_months(self.end, -12), period="")
        end = self.start - dt.timedelta(days=1)
        return replace(self, start=end - dt.timedelta(days=days - 1), end=end, period="")

    @property
    def period_label(self) -> str:
        if not self.start and not self.end:
            return "all time"
        start = self.start.isoformat() if self.start else "the beginning"
        end = self.end.isoformat() if self.end else "today"
        prefix = f"{PRESETS[self.period].lower()}, " if self.period in PRESETS else ""
        return f"{prefix}{start} to {end}"


def _whole_months(start: dt.date, end: dt.date) -> int:
    """How many whole calendar months start..end spans (inclusive), or 0 if it is not whole months."""
    if start != month_start(start) or end != month_end(end):
        return 0
    return (end.year - start.year) * 12 + end.month - start.month + 1


def parse_date(value: str | None, *, name: str) -> dt.date | None:
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    if not _DATE.match(value):
        raise InvalidFilter(f"{name} must be a date written YYYY-MM-DD, not {value!r}.")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidFilter(f"{name} is not a real calendar date: {value!r}.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidFilter(f"{name} must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}.")
    return day


def dashboard_filter_build(*, start: dt.date | None = None, end: dt.date | None = None) -> DashboardFilter:
    if start is not None and end is not None and start > end:
        raise InvalidFilter(f"start ({start.isoformat()}) is after end ({end.isoformat()}).")
    return DashboardFilter(start=start, end=end)


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """(first, last) UTC day of a period preset; "this" periods end today, so they compare like for like."""
    # Calendar quarters and years (no fiscal shift), as the presets' names promise.
    if preset == "this_quarter":
        return Period.containing(today, QUARTER).start, today
    if preset == "last_quarter":
        last = Period.containing(today, QUARTER).previous()
        return last.start, last.end
    if preset == "ytd":
        return Period.containing(today, YEAR).start, today
    if preset == "last_12_months":
        # The day after the same day a year ago (29 February counts from 28 February).
        return add_months(today, -12) + dt.timedelta(days=1), today
    raise InvalidFilter(f"period must be one of {', '.join(PRESETS)} or custom, not {preset!r}.")


def _single(params: Mapping[str, Any], name: str, *, strip: bool = True) -> str:
    given = params.getlist(name) if hasattr(params, "getlist") else [params.get(name)]
    values = [v for v in given if v is not None and v != ""]
    if len(values) > 1:
        raise InvalidFilter(f"{name} may be given once, not {len(values)} times.")
    if not values:
        return ""
    return values[0].strip() if strip else values[0]


def _text(params: Mapping[str, Any], name: str) -> str:
    value = _single(params, name, strip=False).strip(" ")
    limit = _TEXT_LIMITS[name]
    if len(value) > limit:
        raise InvalidFilter(f"{name} is at most {limit} characters long.")
    if any(ord(ch) < 32 for ch in value):
        raise InvalidFilter(f"{name} must not contain control characters.")
    return value


def _projects(params: Mapping[str, Any]) -> tuple[str, ...]:
    values = params.getlist("project") if hasattr(params, "getlist") else [params.get("project")]
    slugs = []
    for value in values:
        if value in (None, ""):
            continue
        if not _SLUG.match(value):
            raise InvalidFilter(f"project must be a project's short name (letters, digits, - and _), not {value!r}.")
        if value not in slugs:
            slugs.append(value)
    return tuple(slugs)


def _scope(value: str) -> tuple[int | None, str | None]:
    if not value:
        return None, None
    match = _SCOPE.match(value)
    if not match:
        raise InvalidFilter(f"scope must be 1, 2, 3 or a key such as scope3.cat1.1, not {value!r}.")
    return int(match.group(1)), match.group(2)


def _period(params: Mapping[str, Any], today: dt.date) -> tuple[str, dt.date | None, dt.date | None]:
    period = _single(params, "period")
    start = parse_date(_single(params, "start"), name="start")
    end = parse_date(_single(params, "end"), name="end")
    if period in ("", "custom"):
        if start is not None and end is not None and start > end:
            raise InvalidFilter(f"start ({start.isoformat()}) is after end ({end.isoformat()}).")
        return "", start, end
    first, last = preset_range(period, today)
    return period, first, last


def dashboard_filter_parse(params: Mapping[str, Any], *, today: dt.date | None = None) -> DashboardFilter:
    """Parse the dashboard query string; blank values mean "not filtered" (an emptied form field).

    A preset wins over `start`/`end` (the form sends both); every bad value raises InvalidFilter.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    period, start, end = _period(params, today)
    scope, category = _scope(_single(params, "scope"))
    source = _single(params, "source")
    if source and source not in SOURCES:
        raise InvalidFilter(f"source must be one of {', '.join(SOURCES)}, not {source!r}.")
    grain = _single(params, "grain") or "month"
    if grain not in GRAINS:
        raise InvalidFilter(f"grain must be month or quarter, not {grain!r}.")
    return DashboardFilter(
        start=start,
        end=end,
        period=period,
        projects=_projects(params),
        team=_text(params, "team"),
        provider=_text(params, "provider"),
        region=_text(params, "region"),
        service=_text(params, "service"),
        scope=scope,
        category=category,
        source=source,
        grain=grain,
    )


# Runs-table search (project and experiment pages): narrows the table and its CSV, not the period totals.
_RUN_SEARCH_LIMIT = 200


@dataclass(frozen=True)
class RunSearch:
    run: str = ""  # part of a run id (run ids are UUIDs; people paste a prefix)
    experiment: str = ""  # part of an experiment name, any case
    job: uuid.UUID | None = None  # the import job that created or last updated the run

    def params(self) -> list[tuple[str, str]]:
        pairs = [("run", self.run), ("experiment", self.experiment), ("job", str(self.job) if self.job else "")]
        return [(name, value) for name, value in pairs if value]

    @property
    def is_active(self) -> bool:
        return bool(self.params())


def _search_text(params: Mapping[str, Any], name: str) -> str:
    value = _single(params, name)
    if len(value) > _RUN_SEARCH_LIMIT:
        raise InvalidFilter(f"{name} is at most {_RUN_SEARCH_LIMIT} characters long.")
    # PostgreSQL text cannot hold NUL: a bad filter, not a server error.
    if any(ord(ch) < 32 for ch in value):
        raise InvalidFilter(f"{name} must not contain control characters.")
    return value


def run_search_parse(params: Mapping[str, Any]) -> RunSearch:
    """`run`, `experiment` and `job` of the runs table; blank means not searched, anything else bad is 400."""
    job_text = _single(params, "job")
    job = None
    if job_text:
        try:
            job = uuid.UUID(job_text[:64])
        except ValueError:
            raise InvalidFilter(f"job must be an import job's id (a UUID), not {job_text[:40]!r}.") from None
    return RunSearch(run=_search_text(params, "run"), experiment=_search_text(params, "experiment"), job=job)
