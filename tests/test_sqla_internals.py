"""storage/sqla_internals.py: what the driver fast path reads inside SQLAlchemy still is there
and still means what the fast path assumes.

One test per name in `INTERNALS` (a name without its test fails
`test_every_internal_is_checked`). They run against the installed SQLAlchemy: when an upgrade
moves or changes any of these, this file fails, not the live path.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import DateTime, Integer, String, bindparam, event, insert, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from storage import sqla_internals as internals
from storage.db import _json_dumps, open_database
from storage.models import CHAT, MEMBER, MESSAGE, SUGGESTION, TAG

DIALECT = sqlite.dialect()
T = datetime(2026, 11, 20, 4, 0, 0, 123, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_database(f"sqlite:///{tmp_path / 'i.db'}")
    yield eng
    eng.dispose()


def test_every_internal_is_checked() -> None:
    assert set(internals.INTERNALS) == {
        name for name in dir(internals)
        if callable(getattr(internals, name)) and not name.startswith("_")
        and getattr(getattr(internals, name), "__module__", "") == internals.__name__
        and name != "Expansion"}
    missing = [n for n in internals.INTERNALS if f"test_{n}" not in globals()]
    assert missing == []


def test_bind_processor() -> None:
    # the stored text of an aware time (UTCDateTime + SQLite's DATETIME), and compact JSON
    to_text = internals.bind_processor(MESSAGE.c.ts.type, DIALECT)
    assert to_text is not None
    assert to_text(T.astimezone(timezone(timedelta(hours=8)))) == "2026-11-20 04:00:00.000123"
    # plain text and integers go to the driver as they are
    assert internals.bind_processor(String(), DIALECT) is None
    assert internals.bind_processor(Integer(), DIALECT) is None
    # cached: the same function again
    assert internals.bind_processor(MESSAGE.c.ts.type, DIALECT) is to_text


def test_bind_processors(engine: Engine) -> None:
    types = [MESSAGE.c.id.type, MESSAGE.c.ts.type, MESSAGE.c.signals.type]
    procs = internals.bind_processors(types, engine.dialect)
    assert procs[0] is None and procs[1] is internals.bind_processor(types[1], engine.dialect)
    assert procs[2] is not None and procs[2]({"k": ["面霜"]}) == '{"k":["面霜"]}'


def test_result_processor() -> None:
    parse = internals.result_processor(DateTime(), DIALECT)
    assert parse is not None
    assert parse("2026-11-20 04:00:00.000123") == T.replace(tzinfo=None)
    assert internals.result_processor(String(), DIALECT) is None


def test_json_serializer(engine: Engine) -> None:
    # the engine's own serializer, the one the JSON column's bind processor writes with
    assert internals.json_serializer(engine.dialect) is _json_dumps
    proc = internals.bind_processor(MESSAGE.c.signals.type, engine.dialect)
    doc = {"n": ["question"], "k": ["宝宝"]}
    assert proc is not None and proc(doc) == _json_dumps(doc)


def test_result_columns() -> None:
    stmt = select(MEMBER.c.id, MEMBER.c.member_id, MESSAGE.c.ts).join(
        MESSAGE, MESSAGE.c.member_pk == MEMBER.c.id)
    cols = internals.result_columns(stmt.compile(dialect=DIALECT))
    assert [name for name, _ in cols] == ["id", "member_id", "ts"]
    assert cols[2][1] is MESSAGE.c.ts.type
    returning = sqlite.insert(SUGGESTION).returning(SUGGESTION.c.id, SUGGESTION.c.status)
    assert [n for n, _ in internals.result_columns(returning.compile(dialect=DIALECT))] == [
        "id", "status"]


def test_prefetched() -> None:
    # suggestion columns with Python-side defaults left out: Core computes them per call
    left_out = insert(SUGGESTION).compile(dialect=DIALECT, column_keys=["member_pk"])
    assert internals.prefetched(left_out)
    every = insert(CHAT).compile(dialect=DIALECT,
                                 column_keys=["id", "name", "is_group", "platform"])
    assert not internals.prefetched(every)


def test_positional_binds() -> None:
    lo = bindparam("lo", type_=MEMBER.c.first_seen.type)
    stmt = update(MEMBER).where(MEMBER.c.id == bindparam("pk")).values(
        first_seen=lo, last_active=lo)
    compiled = stmt.compile(dialect=DIALECT, column_keys=["pk", "lo"])
    binds = internals.positional_binds(compiled)
    assert str(compiled).count("?") == len(binds) == 3
    assert [b.key for b in binds] == ["lo", "lo", "pk"]
    assert binds[0].type is MEMBER.c.first_seen.type


def test_expanding_binds() -> None:
    stmt = select(MEMBER.c.id).where(MEMBER.c.id.in_(bindparam("pks", expanding=True)),
                                     MEMBER.c.name == bindparam("name"))
    found = internals.expanding_binds(stmt.compile(dialect=DIALECT))
    assert [b.key for b in found] == ["pks"]


def test_compiled_bind() -> None:
    compiled = select(TAG.c.id).where(TAG.c.source == "manual",
                                      TAG.c.member_pk == bindparam("pk")).compile(
        dialect=DIALECT)
    names = list(compiled.positiontup)  # type: ignore[arg-type]
    literal = internals.compiled_bind(compiled, names[0])
    assert literal.value == "manual" and literal.callable is None  # the statement's literal
    assert internals.compiled_bind(compiled, names[1]).key == "pk"
    assert internals.compiled_bind(compiled, "no_such_name") is None


def test_expand() -> None:
    stmt = select(MEMBER.c.id).where(MEMBER.c.id.in_(bindparam("pks", expanding=True)),
                                     MEMBER.c.last_active > bindparam("since"))
    compiled = stmt.compile(dialect=DIALECT)
    pks = [3, 1, 2]
    got = internals.expand(compiled, {"pks": pks, "since": T})
    assert got is not None
    assert got.sql.count("?") == 4 and "IN (?, ?, ?)" in got.sql
    (bind,) = internals.expanding_binds(compiled)
    names = got.expanded[bind]
    # the very values given, one name each, in order, in placeholder order
    assert [got.values[n] for n in names] == pks
    assert all(got.values[n] is v for n, v in zip(names, pks, strict=True))
    assert got.names[:3] == names and got.values[got.names[3]] == T
    # the processors of the expanded values (integers: none)
    assert all(got.processors.get(n) is None for n in names)
    empty = internals.expand(compiled, {"pks": [], "since": T})
    assert empty is not None and empty.expanded[bind] == []


def test_watched(engine: Engine) -> None:
    assert not internals.watched(engine)
    event.listen(engine, "before_cursor_execute", lambda *a: None)
    assert internals.watched(engine)
    other = open_database(f"sqlite:///{engine.url.database}.2")
    try:
        event.listen(other, "after_cursor_execute", lambda *a: None)
        assert internals.watched(other)
    finally:
        other.dispose()


def test_dbapi_error() -> None:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    con.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as info:
        con.execute("INSERT INTO t VALUES (1)")
    err = internals.dbapi_error("INSERT INTO t VALUES (?)", [1], info.value, sqlite3.Error)
    assert isinstance(err, IntegrityError) and err.orig is info.value
    assert "INSERT INTO t" in str(err) and json.dumps([1]) in str(err).replace(" ", "")
