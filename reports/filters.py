"""Dashboard filters read from the query string, so a filtered view can be shared as a link.

Today: a period (`start`, `end`, inclusive UTC days of the ledger's `day`). Issue 4 adds presets,
project/team, provider, region, scope and source as more fields of the same frozen dataclass; every
selector already takes the whole filter, so adding a field touches the parser and the selectors only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidFilter(ValueError):
    """A filter value the user can fix; views answer 400 with this message."""


@dataclass(frozen=True)
class DashboardFilter:
    start: dt.date | None = None
    end: dt.date | None = None

    def params(self) -> dict[str, str]:
        """The non-empty filter values as query parameters, in a fixed order."""
        values = {"start": self.start, "end": self.end}
        return {name: value.isoformat() for name, value in values.items() if value is not None}

    @property
    def querystring(self) -> str:
        """The query string to append to links ("?start=…&end=…"), or "" when nothing is filtered."""
        params = self.params()
        return "?" + urlencode(params) if params else ""

    @property
    def cache_part(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.params().items()) or "all"

    @property
    def is_filtered(self) -> bool:
        return bool(self.params())


def parse_date(value: str | None, *, name: str) -> dt.date | None:
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    if not _DATE.match(value):
        raise InvalidFilter(f"{name} must be a date written YYYY-MM-DD, not {value!r}.")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidFilter(f"{name} is not a real calendar date: {value!r}.") from None


def dashboard_filter_build(*, start: dt.date | None = None, end: dt.date | None = None) -> DashboardFilter:
    if start is not None and end is not None and start > end:
        raise InvalidFilter(f"start ({start.isoformat()}) is after end ({end.isoformat()}).")
    return DashboardFilter(start=start, end=end)


def dashboard_filter_parse(params: Mapping[str, str]) -> DashboardFilter:
    """Parse `?start=YYYY-MM-DD&end=YYYY-MM-DD`; blank values mean "no bound" (an emptied form field)."""
    start = parse_date(params.get("start"), name="start")
    end = parse_date(params.get("end"), name="end")
    return dashboard_filter_build(start=start, end=end)
