"""Hot statements compiled once by SQLAlchemy and run through SQLite's own driver.

The live bot sends 15–35 small statements per message (a one-row read, a one-row insert).
Through Core each costs ≈ 150 µs on this machine — pool checkout, the BEGIN that the "begin"
event sends, cache-key lookup, expanding-parameter rendering, result processing — where SQLite
itself takes ≈ 5 µs; that overhead was half of a message's CPU time. A `Query` keeps what Core
would compute for it (the SQL text per list length, which bound value goes where, each
parameter's and each result column's own processor), so a call is the driver's execute plus
those processors: the values sent and the rows returned are the ones Core sends and returns
(tested query by query against Core).

What stays Core's:
- PostgreSQL, and any backend but SQLite: `rows` runs `conn.execute(stmt)` there.
- An engine somebody watches: with a `before_cursor_execute`/`after_cursor_execute` listener
  (the crash and lock tests' hooks, anyone's statement log) or `echo`, every statement takes
  Core's path, so what they watch is everything that runs.
- Shapes out of the ordinary: more than `MAX_SHAPES` distinct list lengths of one statement,
  or a list longer than `MAX_LIST` (the bulk paths, whose per-statement overhead is noise).

Writes of many rows take the same road: `write_many` is `conn.execute(stmt, rows)` with the
statement compiled once per set of column keys (kept on its `Query`) and the rows handed to
the driver's executemany as tuples, each value through its column's own bind processor.

SQL is still built by SQLAlchemy from the table definitions: this module never writes SQL.
What it reads of SQLAlchemy's internals is listed, and tested, in `storage/sqla_internals.py`.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections import namedtuple
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy.engine import Connection, Dialect, Engine

from storage.sqla_internals import (
    bind_processor,
    bind_processors,
    compiled_bind,
    dbapi_error,
    expand,
    expanding_binds,
    positional_binds,
    prefetched,
    result_columns,
    result_processor,
    watched,
)

# Distinct list-length combinations kept per statement, and the longest list kept; past
# either, Core renders the statement (bulk reads of hundreds of ids gain nothing here).
MAX_SHAPES = 32
MAX_LIST = 64
# SQLite allows 32766 bound variables: IN (...) lists go in `chunks` of at most this many.
CHUNK = 500


def chunks(seq: Sequence[Any], n: int = CHUNK) -> Iterator[Sequence[Any]]:
    """`seq` in slices of at most `n` values, one IN list each."""
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


class _Plan:
    """One rendering of a statement: its SQL, how to build its parameters, how to read rows."""

    __slots__ = ("binds", "results", "row", "sql")

    def __init__(self, sql: str, binds: list[tuple[str, int, Any, Any]],
                 results: list[tuple[int, Any]], row: Any) -> None:
        self.sql = sql
        # (parameter, index into its flattened list, or -1: the value itself, or -2: the
        # statement's own constant; bind processor or None; the constant)
        self.binds = binds
        # (column index, result processor) for the columns that have one
        self.results = results
        self.row = row


class _Many(NamedTuple):
    """A write statement compiled for one set of column keys, for the driver's executemany:
    its SQL, the parameter keys in placeholder order (each once), their types, and how to
    place the converted values (`tuple`, or a getter repeating a value used twice)."""

    sql: str
    keys: list[str]
    types: list[Any]
    place: Callable[[list[Any]], Any]


class Query:
    """A SELECT, INSERT or UPDATE built once, to be run by `rows` (which returns no rows for
    a write without RETURNING) or, for many rows at once, by `write_many`.

    Build it at import time like any other module-level statement; its SQLite renderings are
    made on first use, one per combination of list lengths of its expanding parameters (and
    for `write_many`, one per set of column keys its rows carry).
    """

    __slots__ = ("__weakref__", "_compiled", "_expanding", "_many", "_plans", "column_keys",
                 "stmt")

    def __init__(self, stmt: Any, column_keys: Iterable[str] | None = None) -> None:
        self.stmt = stmt
        # An INSERT/UPDATE is compiled for these columns, as Core compiles it for the keys
        # of the parameters it is given (the others get their column defaults).
        self.column_keys = sorted(column_keys) if column_keys is not None else None
        self._compiled: Any = None
        self._expanding: tuple[Any, ...] = ()  # its expanding BindParameters
        # list lengths → plan, or None: this statement always takes Core's path
        self._plans: dict[tuple[int, ...], _Plan | None] = {}
        # column keys of `write_many`'s rows → the statement compiled for them
        self._many: dict[tuple[str, ...], _Many] = {}
        _QUERIES.add(self)

    def _compile(self, dialect: Dialect) -> None:
        self._compiled = self.stmt.compile(dialect=dialect, column_keys=self.column_keys)
        self._expanding = expanding_binds(self._compiled)

    def _plan(self, dialect: Dialect, params: Mapping[str, Any]) -> _Plan | None:
        if self._compiled is None:
            self._compile(dialect)
        expanding = self._expanding
        try:
            shape = tuple(len(params.get(b.key, b.value)) for b in expanding)
        except TypeError:
            return None  # no list where one belongs: let Core say what is wrong
        if shape in self._plans:
            return self._plans[shape]
        if len(self._plans) >= MAX_SHAPES or any(n > MAX_LIST for n in shape):
            return None
        plan = self._plans[shape] = _make_plan(self._compiled, expanding, params, dialect)
        return plan

    def many(self, dialect: Dialect, column_keys: tuple[str, ...]) -> _Many:
        """The statement compiled for rows with these column keys (see `write_many`)."""
        many = self._many.get(column_keys)
        if many is None:
            many = self._many[column_keys] = _make_many(self.stmt, dialect, column_keys)
        return many


K = TypeVar("K", bound=Hashable)


class Queries(Generic[K]):
    """Queries whose statement depends on a value — the columns an INSERT is given, the
    order a ranking sorts by — made by `build` on first use of that value and kept, so each
    is compiled once like any module-level Query."""

    __slots__ = ("_build", "_made")

    def __init__(self, build: Callable[[K], Query]) -> None:
        self._build = build
        self._made: dict[K, Query] = {}

    def __getitem__(self, key: K) -> Query:
        query = self._made.get(key)
        if query is None:
            query = self._made[key] = self._build(key)
        return query


# Every Query made so far, for `compile_all`.
_QUERIES: weakref.WeakSet[Query] = weakref.WeakSet()


def compile_all(engine: Engine) -> int:
    """Compile every Query not compiled yet, for a live bot's warm-up (how many it compiled).

    SQLAlchemy's compile of a statement costs 0.3–1 ms, and the first message of a bot used to
    pay it for all of the ≈ 25 it runs (a 30–45 ms first message, behind which the next few
    queued). A Query is compiled once per process, so doing it before the first message costs
    nothing later. (The renderings per list length are still made on first use: they need
    the values.) Only SQLite runs Queries through the driver; other engines are left alone.
    """
    if engine.dialect.name != "sqlite":
        return 0
    todo = [q for q in list(_QUERIES) if q._compiled is None]
    for query in todo:
        query._compile(engine.dialect)
    return len(todo)


def _flat(value: Any) -> list[Any]:
    """An expanding parameter's values in the order Core binds them (tuples flattened)."""
    out: list[Any] = []
    for v in value:
        if isinstance(v, tuple):
            out.extend(v)
        else:
            out.append(v)
    return out


def _make_plan(compiled: Any, expanding: tuple[Any, ...], params: Mapping[str, Any],
               dialect: Dialect) -> _Plan | None:
    """What Core does for these list lengths, worked out once from Core's own expansion of
    `params`; None (Core's path for good) when that expansion is not the plain one this
    module reproduces."""
    if prefetched(compiled):
        return None  # column defaults Core computes per execution: give every column instead
    state = expand(compiled, params)
    if state is None:
        return None
    origin: dict[str, tuple[str, int]] = {}
    for bind in expanding:
        names = state.expanded.get(bind, [])
        flat = _flat(params.get(bind.key, bind.value))
        if len(names) != len(flat):
            return None
        for i, expanded in enumerate(names):
            # Core's expansion of these very values must be the flattened list, in order.
            if state.values[expanded] is not flat[i]:
                return None
            origin[expanded] = (bind.key, i)
    binds: list[tuple[str, int, Any, Any]] = []
    for name in state.names:
        # Core's expansion carries the processors of the expanded values; every other value
        # goes through its parameter's type, as Core's own bind processors do.
        proc = state.processors.get(name)
        if name in origin:
            key, index = origin[name]
            if key in params:
                binds.append((key, index, proc, None))
            else:  # a list written into the statement: the same every call
                binds.append((key, -2, proc, state.values[name]))
            continue
        bind = compiled_bind(compiled, name)
        if bind is None or bind.expanding or bind.callable is not None:
            return None  # not a plain parameter (a value computed at execution time…)
        proc = bind_processor(bind.type, dialect)
        if bind.key in params:
            binds.append((bind.key, -1, proc, None))
        else:  # a literal of the statement (tag.source = 'manual'): the same every call
            binds.append((bind.key, -2, proc, state.values[name]))
    entries = result_columns(compiled)
    results = [(i, proc) for i, (_, type_) in enumerate(entries)
               if (proc := result_processor(type_, dialect)) is not None]
    row = (namedtuple("Row", [name for name, _ in entries], rename=True)  # type: ignore[misc]
           if entries else None)
    return _Plan(state.sql, binds, results, row)


def _make_many(stmt: Any, dialect: Dialect, column_keys: tuple[str, ...]) -> _Many:
    """`stmt` compiled as Core compiles it for rows with these keys, for `write_many`."""
    # Every bound column must be in the rows: Python-side column defaults are not applied.
    compiled = stmt.compile(dialect=dialect, column_keys=list(column_keys))
    binds = positional_binds(compiled)
    # A parameter used twice in the statement is converted once and placed twice.
    keys = list(dict.fromkeys(b.key for b in binds))
    first = {b.key: b for b in reversed(binds)}
    place = (itemgetter(*(keys.index(b.key) for b in binds)) if len(keys) < len(binds)
             else tuple)
    return _Many(str(compiled), keys, [first[k].type for k in keys], place)


def _values(plan: _Plan, params: Mapping[str, Any]) -> list[Any]:
    flat: dict[str, list[Any]] = {}
    out: list[Any] = []
    for key, index, proc, const in plan.binds:
        if index == -1:
            value = params[key]
        elif index == -2:
            value = const
        else:
            seq = flat.get(key)
            if seq is None:
                seq = flat[key] = _flat(params[key])
            value = seq[index]
        out.append(proc(value) if proc is not None else value)
    return out


def _core(bind: Engine | Connection, stmt: Any, params: Mapping[str, Any]) -> list[Any]:
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return _all(conn.execute(stmt, dict(params)))
    return _all(bind.execute(stmt, dict(params)))


def _all(result: Any) -> list[Any]:
    # An UPDATE without RETURNING has no rows: [], as the driver's path gives.
    return result.all() if result.returns_rows else []


def rows(bind: Engine | Connection, query: Query, params: Mapping[str, Any]) -> list[Any]:
    """`execute(query.stmt, params).all()` on `bind`, through the driver on SQLite.

    An Engine: the statement runs alone on a pooled connection, which on SQLite needs no
    BEGIN (a single statement is its own read transaction: one snapshot). A Connection: in its
    transaction, begun first as Core would. Rows are named tuples there (index, unpack or
    read `.column`, as with Core's rows); driver errors come out as SQLAlchemy's exceptions.
    """
    engine = bind if isinstance(bind, Engine) else bind.engine
    if bind.dialect.name != "sqlite" or watched(engine):
        return _core(bind, query.stmt, params)
    plan = query._plan(bind.dialect, params)
    if plan is None:
        return _core(bind, query.stmt, params)
    values = _values(plan, params)
    if isinstance(bind, Engine):
        raw = bind.raw_connection()
        try:
            fetched = _fetch(raw.driver_connection, plan.sql, values)
        finally:
            raw.close()
    else:
        fetched = _fetch(_in_transaction(bind), plan.sql, values)
    if plan.row is None:
        return []
    make, results = plan.row._make, plan.results
    if not results:
        return [make(r) for r in fetched]
    out = []
    for r in fetched:
        row = list(r)
        for i, proc in results:
            row[i] = proc(row[i])
        out.append(make(row))
    return out


def _fetch(driver: Any, sql: str, values: list[Any]) -> list[Any]:
    with _as_sqlalchemy(sql, values):
        cursor = driver.execute(sql, values)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()


@contextmanager
def _as_sqlalchemy(sql: str, params: Any) -> Iterator[None]:
    """Driver errors as the SQLAlchemy exceptions Core would raise (callers catch those)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise dbapi_error(sql, list(params), exc, sqlite3.Error) from exc


def _in_transaction(conn: Connection) -> Any:
    """`conn`'s driver connection, its transaction begun first as Core's autobegin would."""
    if not conn.in_transaction():
        conn.begin()
    return conn.connection.driver_connection


class Encoded(str):
    """A value already in the form SQLite stores (datetime text, JSON text): `write_many`
    passes it through instead of running the column's bind processor on it again."""

    __slots__ = ()


def write_many(conn: Connection, query: Query, rows: list[dict[str, Any]]) -> None:
    """`conn.execute(query.stmt, rows)`, minus SQLAlchemy's per-row work on SQLite.

    A bulk import runs this for every message and every member span, and Core's executemany
    spends several microseconds per row on parameter dictionaries and type processing. On
    SQLite the statement is compiled once by SQLAlchemy per set of column keys (`Query.many`),
    each value goes through its column's own bind processor (the stored bytes are exactly
    what Core would store: same datetime text, same compact JSON), and the tuples go to the
    driver's executemany. Identical JSON values (the ingest shares one dict per distinct
    analysis) are serialised once. Other backends take the ordinary path.
    """
    if conn.dialect.name != "sqlite" or not rows:
        conn.execute(query.stmt, rows)
        return
    column_keys = tuple(rows[0])
    many = query._many.get(column_keys) or query.many(conn.dialect, column_keys)
    get = itemgetter(*many.keys)
    one = len(many.keys) == 1
    convert = [(i, proc) for i, proc in enumerate(bind_processors(many.types, conn.dialect))
               if proc is not None]
    memo: dict[int, Any] = {}
    params: list[Any] = []
    place = many.place
    for row in rows:
        values = [get(row)] if one else list(get(row))
        for i, proc in convert:
            value = values[i]
            if type(value) is Encoded:
                continue
            if isinstance(value, dict | list):  # alive for the whole loop: ids are unique
                done = memo.get(id(value))
                if done is None:
                    done = memo[id(value)] = proc(value)
                values[i] = done
            else:
                values[i] = proc(value)
        params.append(place(values))
    executemany(conn, many.sql, params)


def executemany(conn: Connection, sql: str, params: list[Any]) -> None:
    """The driver's executemany in `conn`'s transaction (statements compiled by Core: see
    `write_many`); Core's `exec_driver_sql` when the engine is watched."""
    if watched(conn.engine):
        conn.exec_driver_sql(sql, params)
        return
    with _as_sqlalchemy(sql, params):
        _in_transaction(conn).executemany(sql, params).close()


def begin(conn: Connection, sql: str) -> None:
    """Send BEGIN (or BEGIN IMMEDIATE) for `storage/db.py: _sqlite_begin`: through the driver,
    unless the engine is watched (a lock test waits to see BEGIN IMMEDIATE go by). Called
    while Core begins the transaction, so the driver connection is used as it is."""
    if watched(conn.engine):
        conn.exec_driver_sql(sql)
        return
    with _as_sqlalchemy(sql, ()):
        conn.connection.driver_connection.execute(sql).close()  # type: ignore[union-attr]
