"""How storage/db.py starts transactions on SQLite, and that readers never wait for themselves.

Python's sqlite3 module, left to itself, sends BEGIN only before the first INSERT/UPDATE/DELETE
and commits DDL on its own. storage/db.py takes that job over (SQLAlchemy's pysqlite recipe):
`writing(engine)` transactions start with BEGIN IMMEDIATE, so their reads happen under the
write lock; every other transaction starts with a plain, deferred BEGIN. Only writers: making
every transaction IMMEDIATE was tried once and made code that opens a second connection while
one is open in the same thread (`inspect(engine)` inside `engine.connect()`) wait out the whole
30 s busy timeout against itself. These tests pin both halves, with real files (and the same
helper on PostgreSQL, where it is a plain transaction).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pg import fresh_database, require_postgres
from sqlalchemy import event, inspect, select, text
from sqlalchemy.engine import Engine
from sqltrace import trace

from storage.batches import Batch, NewMessage
from storage.db import META, open_database, writing
from storage.notices import NoticeStore
from storage.repo import Store

T0 = datetime(2026, 11, 1, 13, 30, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_database(f"sqlite:///{tmp_path / 't.db'}")
    yield eng
    eng.dispose()


def statements(engine: Engine) -> list[str]:
    """Every statement the engine runs from now on: on SQLite as SQLite ran it (the BEGINs go
    through the driver, `storage/driver.py`), elsewhere as SQLAlchemy sent it."""
    if engine.dialect.name == "sqlite":
        return trace(engine)
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement.strip())

    event.listen(engine, "before_cursor_execute", record)
    return seen


def one_message(mid: str = "m1") -> Batch:
    batch = Batch()
    batch.chats["g1@chatroom"] = ("宝妈群", True, "wechat")
    batch.people["wechat", "wxid_a"] = "小张"
    batch.messages.append(NewMessage(mid, "g1@chatroom", "wechat", "wxid_a", T0, "text", "你好",
                                     {}, "t.json:1"))
    return batch


def test_writers_begin_immediate_and_readers_deferred(engine: Engine) -> None:
    seen = statements(engine)
    Store(engine).write_batch(one_message())
    assert seen[0] == "BEGIN IMMEDIATE"  # before the duplicate check, not just the insert
    assert any(s.upper().startswith("SELECT") for s in seen[1:])
    seen.clear()
    assert Store(engine).counts()["messages"] == 1
    assert seen[0] == "BEGIN"
    assert "BEGIN IMMEDIATE" not in seen


def test_a_reader_opening_more_connections_and_a_write_in_between_never_wait(
        engine: Engine) -> None:
    """A read transaction open in this thread, a second connection inside it (inspect), and
    a write through a third: all at once, without waiting for a lock held by this thread."""
    started = time.monotonic()
    with engine.connect() as conn:
        assert conn.scalar(select(META.c.value)) == "1"
        assert "message" in inspect(engine).get_table_names()
        Store(engine).write_batch(one_message())
        assert NoticeStore(engine).claim(Store(engine).members()[0].pk, T0)
        # The reader's snapshot is its own; the write is there for everybody else.
        assert conn.scalar(text("SELECT count(*) FROM message")) == 0
    assert Store(engine).counts()["messages"] == 1
    assert time.monotonic() - started < 5  # far below the 30 s busy timeout


def test_a_failed_write_leaves_nothing(engine: Engine) -> None:
    """The whole block is one transaction: statements before the error are rolled back."""
    with pytest.raises(RuntimeError), writing(engine) as conn:
        conn.execute(text("INSERT INTO chat (id, name, is_group, platform) "
                          "VALUES ('c', 'n', 1, 'wechat')"))
        raise RuntimeError("stop")
    assert Store(engine).counts()["chats"] == 0


def test_schema_creation_that_fails_halfway_leaves_an_empty_file(tmp_path: Path) -> None:
    """The schema and its version row are one transaction (DDL no longer commits on its own):
    a failure at the third CREATE TABLE leaves no table at all, and the next open creates
    everything. (tests/test_crash_safety.py does the same with SIGKILL in a real process.)"""
    db = tmp_path / "new.db"
    creates: list[str] = []

    def fail_third_create(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            creates.append(statement)
            if len(creates) == 3:
                raise RuntimeError("killed mid-schema")

    event.listen(Engine, "before_cursor_execute", fail_third_create)
    try:
        with pytest.raises(RuntimeError, match="mid-schema"):
            open_database(f"sqlite:///{db}")
    finally:
        event.remove(Engine, "before_cursor_execute", fail_third_create)
    con = sqlite3.connect(db)
    try:
        assert con.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    finally:
        con.close()
    engine = open_database(f"sqlite:///{db}")
    try:
        assert Store(engine).counts() == {"members": 0, "messages": 0, "chats": 0, "tags": 0}
        with engine.connect() as conn:
            assert conn.scalar(select(META.c.value)) == "1"
    finally:
        engine.dispose()


def test_postgresql_writers_are_plain_transactions() -> None:
    with fresh_database(require_postgres()) as url:
        engine = open_database(url)
        try:
            seen = statements(engine)
            Store(engine).write_batch(one_message())
            assert not any(s.upper().startswith("BEGIN") for s in seen)
            assert Store(engine).counts()["messages"] == 1
        finally:
            engine.dispose()
