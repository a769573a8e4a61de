"""What the segmentation readers share: the population, stored times in SQL, chunk helpers.

The readers run on SQLite and PostgreSQL; what the two spell differently (times as
microseconds, JSON fields, a row's insertion order, parameters) is `SqlDialect`. Times leave
SQL as integer microseconds since the epoch and become POSIX seconds with one division, which
is exactly what `datetime.timestamp()` gives, so boundaries (new_days, declining_days) compare
the same as on the per-member path.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from storage.segment_kept import _NO_US

# Chunks of raw DB-API rows (see `SqlRows._rows`).
Rows = Callable[[str, dict[str, Any]], Iterator[list[tuple[Any, ...]]]]
_FETCH = 50_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class Population:
    """Every member, in member-id order (a segmentation run's rows), and each pk's row."""

    ids: list[str]
    pks: np.ndarray
    stale: np.ndarray  # per row: the member's tags_stale flag
    row_of: np.ndarray  # pk → row, -1 for none (as long as the largest pk + 1)

    @property
    def n(self) -> int:
        return len(self.ids)

    def rows_for(self, pk_list: Sequence[int] | np.ndarray) -> np.ndarray:
        """The rows of these members' pks."""
        return self.row_of[np.asarray(pk_list, dtype=np.int64)]

    def rows_in(self, pk_a: np.ndarray) -> np.ndarray:
        """The rows of these pks, -1 for a pk of no member read (one stored since)."""
        max_pk = len(self.row_of)
        return np.where(pk_a < max_pk, self.row_of[np.minimum(pk_a, max_pk - 1)], -1)


def _db_time(ts: datetime) -> str:
    """A bound time in the layout UTCDateTime stores on SQLite (naive UTC, microseconds), so
    text comparison in SQL orders like the times themselves."""
    return ts.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _us(col: str) -> str:
    """SQL for a stored time as integer microseconds since the epoch (NULL stays NULL).

    The whole seconds come from the text without its fraction: strftime rounds a fraction to
    milliseconds first, so "…:13.999767" gave second 14 and the time came out a second late
    (against Python's exact microseconds, which the tag rebuild's kept rows use)."""
    return (f"(CAST(strftime('%s', substr({col}, 1, 19)) AS INTEGER) * 1000000"
            f" + CAST(substr({col} || '.000000', 21, 6) AS INTEGER))")


def _seconds_of(us: Sequence[int]) -> np.ndarray:
    """Microseconds (`_NO_US` for none) → POSIX seconds (NaN for none)."""
    arr = np.asarray(us, dtype=np.int64)
    return np.where(arr == _NO_US, np.nan, arr / 1e6)


def _seconds(us: Sequence[int | None]) -> np.ndarray:
    arr = np.array([np.nan if v is None else v for v in us], dtype=np.float64)
    return arr / 1e6


def _taker(picked: list[int], rows: int) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """A function taking the items at `picked` (ascending row numbers out of `rows`) from a
    column of a fetched chunk, in C: the column itself when every row is picked."""
    if len(picked) == rows:
        return lambda col: col
    if len(picked) == 1:
        return lambda col: (col[picked[0]],)
    return operator.itemgetter(*picked)


class _KeyNumbers(dict[Any, int]):
    """Text → number in order of first appearance, from `first` on; looking a text up
    numbers it, so a chunk's texts become numbers with `map` and no Python step each."""

    def __init__(self, preset: Mapping[Any, int] | None = None, first: int = -1) -> None:
        super().__init__(preset or {})
        self._base = first - len(self)

    def __missing__(self, key: Any) -> int:
        number = self[key] = len(self) + self._base
        return number


# A `:name` parameter (not a `::type` cast), as psycopg's `%(name)s`.
_PARAM = re.compile(r"(?<![:\w]):(\w+)")
_cursor_names = itertools.count()


class SqlDialect:
    """What the readers' SQL spells differently on SQLite and PostgreSQL.

    The two give the same rows: times as the same microseconds, JSON fields as the same
    text, and a row's insertion order (SQLite's rowid; on PostgreSQL the heap position,
    `ctid`, which is insertion order for rows never updated or moved) for the ties the
    per-member path breaks by the order it read messages in."""

    def __init__(self, name: str) -> None:
        self.pg = name == "postgresql"

    def us(self, col: str) -> str:
        """A stored time as integer microseconds since the epoch (NULL stays NULL);
        PostgreSQL's extract gives an exact numeric."""
        if self.pg:
            return f"(extract(epoch from {col}) * 1000000)::bigint"
        return _us(col)

    def time(self, ts: datetime) -> Any:
        """A time to bind: the stored text layout on SQLite, the aware time elsewhere."""
        return ts if self.pg else _db_time(ts)

    def field(self, col: str, key: str) -> str:
        """A top-level field of a JSON document as its JSON text (NULL when absent)."""
        if self.pg:
            return f"({col} -> '{key}')::text"
        return f"json_extract({col}, '$.{key}')"

    def doc(self, col: str) -> str:
        """A JSON column as its text (psycopg would decode it)."""
        return f"{col}::text" if self.pg else col

    def items(self, col: str, alias: str, key: str | None = None) -> str:
        """A FROM item with the elements of a JSON array (the document in `col`, or its
        field `key`): `alias.value` (text) and `alias.key` (the position, in array order)."""
        if self.pg:
            arr = col if key is None else f"{col} -> '{key}'"
            # anything but an array (absent, null) has no elements, as json_each's none
            arr = f"CASE json_typeof({arr}) WHEN 'array' THEN {arr} END"
            return f"json_array_elements_text({arr}) WITH ORDINALITY AS {alias}(value, key)"
        return (f"json_each({col}) {alias}" if key is None
                else f"json_each({col}, '$.{key}') {alias}")

    def row(self, alias: str = "") -> str:
        """A number ordering rows as they were inserted."""
        if self.pg:
            return self._tid_number(f"{alias}ctid")
        return f"{alias}rowid"

    def row_order(self, alias: str = "") -> str:
        """An ORDER BY key ordering rows as they were inserted: on PostgreSQL the tid itself,
        which compares as `row` numbers it, with no text conversion per row."""
        return f"{alias}ctid" if self.pg else f"{alias}rowid"

    def first_row(self, alias: str = "") -> str:
        """An aggregate: `row` of a group's first inserted row. PostgreSQL (14 on) takes the
        smallest tid and converts that one only: converting every row's tid to text and a
        point first was 40 % of a card sample's chats query."""
        if self.pg:
            return self._tid_number(f"min({alias}ctid)")
        return f"min({alias}rowid)"

    @staticmethod
    def _tid_number(tid: str) -> str:
        point = f"({tid}::text::point)"
        return f"({point}[0]::bigint * 65536 + {point}[1]::bigint)"

    @property
    def by_code_point(self) -> str:
        """Text ordered by code point (PostgreSQL's default is the locale's collation)."""
        return ' COLLATE "C"' if self.pg else ""

    @property
    def unit_sep(self) -> str:
        return "chr(31)" if self.pg else "char(31)"


class SqlRows:
    """The segmentation readers' one way to SQL: raw rows in chunks."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sql = SqlDialect(engine.dialect.name)
        self._held: Any = None  # the DB-API connection `session` holds, if any

    @contextmanager
    def session(self) -> Iterator[None]:
        """One connection (on PostgreSQL one transaction) for every `_rows` inside.

        A card sample asks four small queries per 500 members; each on its own paid a pool
        checkout, BEGIN, SET and ROLLBACK, round trips that on a loaded machine each wait for
        a core on both ends. Nested sessions share the outer one."""
        if self._held is not None:
            yield
            return
        with self._connection() as raw:
            self._held = raw
            try:
                yield
            finally:
                self._held = None

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A pooled connection's DB-API connection; on PostgreSQL in a transaction with JIT
        off for that transaction only: the planner's guess of 100 elements per
        json_array_elements call put even a card sample's keyword count (500 members, a few
        hundred messages, 1 ms of work) past the inlining and optimising thresholds, and
        compiling took ≈ 1 s per query."""
        with self.engine.connect() as conn:
            raw: Any = conn.connection.dbapi_connection
            if self.sql.pg:
                raw.execute("SET LOCAL jit = off")
            yield raw

    @property
    def supported(self) -> bool:
        return self.engine.dialect.name in ("sqlite", "postgresql")

    def _rows(self, sql: str, params: dict[str, Any]) -> Iterator[list[tuple[Any, ...]]]:
        """Chunks of raw DB-API rows: no Row objects, no type processing per value. On
        PostgreSQL through a server-side cursor, so the client holds one chunk at a time
        (a plain cursor receives the whole result at once)."""
        return self._chunks(sql, params, streamed=True)

    def _few_rows(self, sql: str, params: dict[str, Any]) -> Iterator[list[tuple[Any, ...]]]:
        """`_rows` for a result bounded by a card sample's 500 members: on PostgreSQL one
        round trip with a plain cursor, not DECLARE, FETCH and CLOSE."""
        return self._chunks(sql, params, streamed=False)

    def _chunks(self, sql: str, params: dict[str, Any], streamed: bool
                ) -> Iterator[list[tuple[Any, ...]]]:
        with (nullcontext(self._held) if self._held is not None
              else self._connection()) as raw:
            if self.sql.pg:
                cur = raw.cursor(name=f"siyu_rows_{next(_cursor_names)}") if streamed \
                    else raw.cursor()
                sql = _PARAM.sub(r"%(\1)s", sql)
            else:
                cur = raw.cursor()
            try:
                cur.execute(sql, params)
                while True:
                    chunk = cur.fetchmany(_FETCH)
                    if chunk:
                        yield chunk
                    if len(chunk) < _FETCH:
                        break
            finally:
                cur.close()
