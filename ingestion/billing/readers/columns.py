"""Column-wise parsing of one pandas chunk: the shared machinery of the fast billing parsers.

Why: billing exports repeat a few hundred usage types, timestamps and tag sets across millions of rows, so
classification, tag JSON and dates are computed once per distinct value and spread back to the rows, and the
row filter is a vectorised mask. Each helper reproduces the scalar parser of common.py exactly; a row whose
cells the fast path cannot parse goes through the format's row parser instead, which records the same row
problems (line, column, code, message) as before. Output is the same `NormalisedBillingLine` list per chunk.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import MISSING, Field, dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

from greenesg.footprint.methodology.cloud import NormalisedBillingLine
from ingestion.billing.readers.common import ReadReport, RowSink, parse_number, parse_utc

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

RowParser = Callable[[dict[str, str], dict[str, str], int, RowSink, str], Any]


class Chunk:
    """One chunk's columns by logical field; a field the file lacks reads as blank cells (like `row.get`)."""

    def __init__(self, frame: pd.DataFrame, mapping: dict[str, str], tags: list[tuple[str, str]]) -> None:
        self.frame, self.mapping, self.tags = frame, mapping, tags

    def __len__(self) -> int:
        return len(self.frame)

    def has(self, fld: str) -> bool:
        return fld in self.mapping

    def col(self, fld: str) -> pd.Series:
        header = self.mapping.get(fld)
        return self.constant("") if header is None else self.frame[header]

    def constant(self, value: str) -> pd.Series:
        import pandas as pd

        return pd.Series(value, index=self.frame.index, dtype=object)

    def text(self, fld: str) -> list[str]:
        return texts(self.col(fld))

    def stripped(self, fld: str) -> pd.Series:
        return self.col(fld).str.strip() if self.has(fld) else self.col(fld)

    def tag_series(self) -> list[pd.Series]:
        return [self.frame[header] for _, header in self.tags]

    def take(self, positions: np.ndarray) -> Chunk:
        return Chunk(self.frame.iloc[positions], self.mapping, self.tags)


@dataclass
class LineBatch:
    """Normalised lines of one chunk as columns (field name -> one value per line, in line order).

    Why columns: a billing file is summed per group right after reading (estimate.LineAggregator), so building a
    NormalisedBillingLine object per row, and checking each one, cost more than parsing the file. The objects are
    made only where they are needed (`lines()`: tests, the API that yields lines, the rare slow rows). Cells that
    repeat (tags, timestamps) may share one object between lines; `lines()` gives every line its own tags dict.
    """

    columns: dict[str, list[Any]] = field(default_factory=dict)
    size: int = 0

    def __len__(self) -> int:
        return self.size

    def lines(self) -> list[NormalisedBillingLine]:
        if not self.size:
            return []
        names = [f.name for f in fields(NormalisedBillingLine)]
        columns = [self.columns[name] for name in names]
        tags = names.index("tags")
        columns[tags] = [dict(t) for t in columns[tags]]  # one dict per line: never shared
        return [NormalisedBillingLine(*row) for row in zip(*columns, strict=True)]

    @classmethod
    def from_lines(cls, lines: Sequence[NormalisedBillingLine]) -> LineBatch:
        names = [f.name for f in fields(NormalisedBillingLine)]
        getters = [attrgetter(name) for name in names]
        return cls({name: list(map(get, lines)) for name, get in zip(names, getters, strict=True)}, len(lines))


@dataclass
class FastResult:
    """What a format's column-wise parser made of one chunk."""

    reasons: list[str] = field(default_factory=list)  # filter reason of each dropped row, in line order
    batch: LineBatch = field(default_factory=LineBatch)  # fast rows, in line order
    slow: list[int] = field(default_factory=list)  # positions of kept rows left to the row parser


def texts(values: pd.Series) -> list[str]:
    """The cells as Python strings, one object per distinct value shared by its rows.

    Why: `.tolist()` makes a new string per cell; billing columns repeat a few hundred values, so sharing them
    keeps a chunk's memory (most of a worker's peak) several times smaller, and grouping hashes each value once.
    """
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.asarray(uniques, dtype=object)[codes].tolist()


def numbers(values: pd.Series) -> list[float | None]:
    """`parse_number` of every cell: one C-level float() pass, the strict parser only for cells it refused."""
    import numpy as np

    raw: list[str] = values.tolist()
    try:
        out: list[float | None] = list(map(float, raw))
    except ValueError:
        return [parse_number(v) for v in raw]
    # float() also takes "nan", "inf" and "1_000": the strict parser has the last word on those cells.
    if "_" in "".join(raw) or not np.isfinite(np.asarray(out, dtype=np.float64)).all():
        return [parse_number(v) for v in raw]
    return out


def per_distinct(fn: Callable[..., Any], *given: pd.Series | Sequence[Any]) -> list[Any]:
    """fn(*cells) once per distinct combination of the columns' cells, spread back to every row."""
    import numpy as np
    import pandas as pd

    columns = [c if isinstance(c, pd.Series) else pd.Series(c, dtype=object) for c in given]
    n = len(columns[0])
    codes = np.zeros(n, dtype=np.int64)
    for col in columns:
        col_codes, uniques = pd.factorize(col, use_na_sentinel=False)
        codes, _ = pd.factorize(codes * max(len(uniques), 1) + col_codes)  # stays below n*n: no overflow
    _, first = np.unique(codes, return_index=True)  # codes number combinations in order of first appearance
    cells = [col.iloc[first].tolist() for col in columns]
    results = [fn(*args) for args in zip(*cells, strict=True)]
    return [results[c] for c in codes.tolist()]


def timestamps(values: pd.Series) -> list[datetime | None]:
    """`parse_utc` once per distinct timestamp (an hourly month has 744), not once per row."""
    return per_distinct(parse_utc, values)


def split_parsed(
    chunk: Chunk, kept: np.ndarray, parsed: dict[str, list[Any]]
) -> tuple[Chunk, np.ndarray, dict[str, list[Any]], list[int]]:
    """Kept rows whose required values all parsed (chunk, positions, values) and the positions of the others,
    which are left to the row parser so that their problems are recorded exactly as before."""
    import numpy as np

    if not any(None in col for col in parsed.values()):
        return chunk, kept, parsed, []
    ok = [all(v is not None for v in values) for values in zip(*parsed.values(), strict=True)]
    mask = np.array(ok, dtype=bool)
    values = {name: [v for v, good in zip(col, ok, strict=True) if good] for name, col in parsed.items()}
    return chunk.take(np.flatnonzero(mask)), kept[mask], values, kept[~mask].tolist()


def row_at(chunk: Chunk, pos: int) -> tuple[dict[str, str], dict[str, str]]:
    """The row dict and per-key tag columns the row parsers take, for one (rare) slow row."""
    frame = chunk.frame
    row = {fld: frame[header].iloc[pos] for fld, header in chunk.mapping.items()}
    tags = {key: frame[header].iloc[pos] for key, header in chunk.tags if frame[header].iloc[pos]}
    return row, tags


def run_fast(
    fast: FastResult, chunk: Chunk, parser: RowParser, first_line: int, report: ReadReport, fmt: str
) -> LineBatch:
    """Accounts one chunk like the row loop did: counters, filter reasons, slow rows with their problems."""
    sink = RowSink(report, chunk.mapping)
    slow: list[NormalisedBillingLine] = []
    for pos in fast.slow:
        sink.failed = False
        row, tags = row_at(chunk, pos)
        result = parser(row, tags, first_line + pos, sink, fmt)
        if isinstance(result, NormalisedBillingLine):
            slow.append(result)
        elif result is None:
            report.rows_rejected += 1
        else:  # the row filter ran column-wise already; a reason here would be a filter mismatch
            report.filtered[result] += 1
    batch = fast.batch
    if slow:  # rare (a bad cell somewhere): merge as objects, in line order
        merged = heapq.merge(batch.lines(), slow, key=attrgetter("source_line"))
        batch = LineBatch.from_lines(list(merged))
    report.rows_read += len(chunk)
    report.rows_kept += len(batch)
    report.filtered.update(fast.reasons)
    report.buckets.update(batch.columns.get("bucket", []))
    return batch


def split_rows(keep: pd.Series, reasons: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Positions of the kept rows and the reasons of the dropped ones (in line order, for the counters)."""
    import numpy as np

    mask = keep.to_numpy(dtype=bool)
    return np.flatnonzero(mask), reasons[~mask].tolist()


def build_batch(positions: np.ndarray, first_line: int, values: dict[str, Sequence[Any] | str], fmt: str) -> LineBatch:
    """Columns of the fast rows from per-field value lists (aligned with `positions`) or constants."""
    lines_no = [first_line + p for p in positions.tolist()]  # plain ints, not numpy scalars
    n = len(lines_no)
    values = {**values, "source_line": lines_no, "source_format": fmt}
    return LineBatch({f.name: _field_values(values, f, n) for f in fields(NormalisedBillingLine)}, n)


def _field_values(values: dict[str, Sequence[Any] | str], fld: Field[Any], n: int) -> list[Any]:
    given = values.get(fld.name, MISSING)
    if given is MISSING:
        return [fld.default] * n  # a field this format never fills keeps the dataclass default
    if isinstance(given, str):
        return [given] * n
    # Every fast reader passes tags as one dict per line (shared between equal cells; LineBatch.lines copies).
    return given if isinstance(given, list) else list(cast("Sequence[Any]", given))
