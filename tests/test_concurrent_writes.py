"""Two writers on one database at the same moment, interleaved at an exact statement.

Every business write and the consent-notice claim check what is stored and then insert. With
two processes, the second can run its check while the first's insert is not yet committed:
both see nothing, both insert, and the second fails on the key (an import dies with
IntegrityError; two bot processes greeting one newcomer crash instead of one of them simply
not sending the notice again). These tests make exactly that happen, on a real SQLite file
and on a real PostgreSQL server:

1. writer A (its own engine, in a thread, like another process) runs the write and stops
   right after its INSERT, inside the open transaction;
2. writer B (another engine, another thread) starts the same write and gets as far as it can:
   on PostgreSQL into a lock wait on A's uncommitted row (seen in pg_stat_activity), on
   SQLite into BEGIN IMMEDIATE, where it waits for A's write lock;
3. A commits; both must finish without an error, and the rows count once: B reports
   duplicates (or conflicts, for other content under the same key), never a failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pg import fresh_database, require_postgres
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from persona.commerce import ContentEventRecord
from storage.batches import Batch, NewMessage
from storage.business import (
    BusinessStore,
    NewContentEvent,
    NewLink,
    NewOrder,
    StoredLink,
    StoredOrder,
)
from storage.db import open_database
from storage.notices import NoticeStore
from storage.repo import Store

T0 = datetime(2026, 11, 1, 13, 30, tzinfo=UTC)
# Long enough for a loaded CI machine; the tests normally take well under a second.
PATIENCE = 60.0


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'race.db'}"
        return
    with fresh_database(require_postgres()) as pg:
        yield pg


def members(url: str, *senders: str) -> list[int]:
    """Members created the ordinary way (a chat message each); their pks in `senders` order."""
    engine = open_database(url)
    try:
        store = Store(engine)
        batch = Batch()
        batch.chats["g1@chatroom"] = ("宝妈群", True, "wechat")
        for i, sender in enumerate(senders):
            batch.people["wechat", sender] = f"name-{sender}"
            batch.messages.append(NewMessage(f"m{i}", "g1@chatroom", "wechat", sender,
                                             T0 + timedelta(minutes=i), "text", "你好", {},
                                             "t.json:1"))
        store.write_batch(batch)
        by_id = {m.member_id: m.pk for m in store.members()}
        return [by_id[s] for s in senders]
    finally:
        engine.dispose()


@dataclass
class Outcome:
    """What one writer's call returned, or the exception it raised."""

    value: Any = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


def _run(fn: Callable[[Engine], Any], engine: Engine, out: Outcome) -> None:
    try:
        out.value = fn(engine)
    except BaseException as exc:  # handed to the test's assertions
        out.error = exc
    finally:
        out.done.set()


def _blocked_on_postgres(url: str, timeout: float) -> bool:
    """Until another session of this database waits on a lock (True), or `timeout` (False)."""
    from sqlalchemy import create_engine

    watcher = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        deadline = time.monotonic() + timeout
        with watcher.connect() as conn:
            while time.monotonic() < deadline:
                n = conn.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"))
                if n:
                    return True
                time.sleep(0.02)
        return False
    finally:
        watcher.dispose()


def race(url: str, first: Callable[[Engine], Any], second: Callable[[Engine], Any],
         pause_after: str) -> tuple[Outcome, Outcome]:
    """Run `first` until just after its statement starting with `pause_after` (upper case),
    then `second` until it waits for `first`'s lock, then let both finish."""
    a, b = open_database(url), open_database(url)
    holding, release = threading.Event(), threading.Event()
    b_needs_lock = threading.Event()

    def pause(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith(pause_after) and not holding.is_set():
            holding.set()
            release.wait(PATIENCE)

    def needs_lock(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        # On SQLite the second writer waits in BEGIN IMMEDIATE (or, without it, in its first
        # write statement); on PostgreSQL pg_stat_activity says so directly.
        word = statement.lstrip().upper()
        if word.startswith(("BEGIN IMMEDIATE", "INSERT", "UPDATE")):
            b_needs_lock.set()

    event.listen(a, "after_cursor_execute", pause)
    event.listen(b, "before_cursor_execute", needs_lock)
    first_out, second_out = Outcome(), Outcome()
    try:
        threading.Thread(target=_run, args=(first, a, first_out), daemon=True).start()
        assert holding.wait(PATIENCE), first_out.error
        threading.Thread(target=_run, args=(second, b, second_out), daemon=True).start()
        if a.dialect.name == "postgresql":
            assert _blocked_on_postgres(url, PATIENCE), second_out.error
        else:
            assert b_needs_lock.wait(PATIENCE), second_out.error
            time.sleep(0.3)
        # The second writer really is waiting for the first: it cannot have finished.
        assert not second_out.done.is_set(), (second_out.value, second_out.error)
        release.set()
        assert first_out.done.wait(PATIENCE) and second_out.done.wait(PATIENCE)
    finally:
        release.set()
        a.dispose()
        b.dispose()
    return first_out, second_out


def ok(out: Outcome) -> Any:
    if out.error is not None:
        raise AssertionError(f"writer failed: {out.error!r}") from out.error
    return out.value


def counts(url: str) -> dict[str, int]:
    engine = open_database(url)
    try:
        return BusinessStore(engine).counts()
    finally:
        engine.dispose()


# ---- orders ---------------------------------------------------------------------------------
def order(oid: str, pk: int, amount: float = 99.0, origin: str = "orders.csv:2") -> NewOrder:
    return NewOrder(oid, pk, T0, amount, "食品生鲜", False, origin)


def test_same_orders_imported_twice_at_once_count_once(url: str) -> None:
    (pk,) = members(url, "wxid_a")
    rows = [order(f"XH{i:04d}", pk) for i in range(5)]
    first, second = race(url, lambda e: BusinessStore(e).write_orders(rows),
                         lambda e: BusinessStore(e).write_orders(rows), "INSERT INTO ORDERS")
    a, b = ok(first), ok(second)
    assert (a.new, a.duplicate) == (5, 0)
    assert (b.new, b.duplicate, b.conflicts) == (0, 5, [])
    assert counts(url)["orders"] == 5


def test_overlapping_orders_at_once_store_each_once_and_report_conflicts(url: str) -> None:
    """The second file shares two orders with the first (one with other content) and has one
    of its own: its own goes in, the same one is a duplicate, the other is a conflict."""
    pk_a, pk_b = members(url, "wxid_a", "wxid_b")
    mine = [order("XH0001", pk_a), order("XH0002", pk_a), order("XH0003", pk_a)]
    theirs = [order("XH0002", pk_a, origin="b.csv:2"), order("XH0003", pk_b, 12.5, "b.csv:3"),
              order("XH0009", pk_b, origin="b.csv:4")]
    first, second = race(url, lambda e: BusinessStore(e).write_orders(mine),
                         lambda e: BusinessStore(e).write_orders(theirs), "INSERT INTO ORDERS")
    a, b = ok(first), ok(second)
    assert (a.new, a.duplicate, a.conflicts) == (3, 0, [])
    assert (b.new, b.duplicate) == (1, 1)
    ((refused, stored),) = b.conflicts
    assert refused == theirs[1]
    assert isinstance(stored, StoredOrder)
    assert (stored.order_id, stored.member_pk, stored.amount) == ("XH0003", pk_a, 99.0)
    assert b.touched_members == {pk_b}
    assert counts(url)["orders"] == 4


# ---- content events ---------------------------------------------------------------------------
def test_same_content_events_at_once_count_once(url: str) -> None:
    (pk,) = members(url, "wxid_a")
    rows = [NewContentEvent(pk, ContentEventRecord(T0 + timedelta(minutes=i), "video", "view",
                                                   30.0), f"events.csv:{i + 2}")
            for i in range(4)]
    first, second = race(url, lambda e: BusinessStore(e).write_events(rows),
                         lambda e: BusinessStore(e).write_events(rows),
                         "INSERT INTO CONTENT_EVENT")
    a, b = ok(first), ok(second)
    assert (a.new, b.new, b.duplicate) == (4, 0, 4)
    assert counts(url)["content_events"] == 4


# ---- links ------------------------------------------------------------------------------------
def test_same_links_at_once_never_move_or_fail(url: str) -> None:
    pk_a, pk_b = members(url, "wxid_a", "wxid_b")
    mine = [NewLink("external_id", "C-001", pk_a, "a.csv:2"),
            NewLink("phone", "13800000001", pk_a, "a.csv:3")]
    theirs = [NewLink("external_id", "C-001", pk_a, "b.csv:2"),
              NewLink("phone", "13800000001", pk_b, "b.csv:3"),
              NewLink("phone", "13800000002", pk_b, "b.csv:4")]
    first, second = race(url, lambda e: BusinessStore(e).write_links(mine),
                         lambda e: BusinessStore(e).write_links(theirs),
                         "INSERT INTO EXTERNAL_LINK")
    a, b = ok(first), ok(second)
    assert a.new == 2
    assert (b.new, b.duplicate) == (1, 1)
    assert b.conflicts == [(theirs[1], StoredLink("phone", "13800000001", pk_a, "a.csv:3"))]
    engine = open_database(url)
    try:
        links = {(lk.kind, lk.value): lk.member_pk for lk in BusinessStore(engine).links()}
    finally:
        engine.dispose()
    assert links == {("external_id", "C-001"): pk_a, ("phone", "13800000001"): pk_a,
                     ("phone", "13800000002"): pk_b}


# ---- the consent notice -------------------------------------------------------------------------
def test_consent_notice_is_claimed_by_exactly_one_writer(url: str) -> None:
    (pk,) = members(url, "wxid_new")
    first, second = race(url, lambda e: NoticeStore(e).claim(pk, T0),
                         lambda e: NoticeStore(e).claim(pk, T0 + timedelta(seconds=1)),
                         "INSERT INTO CONSENT_NOTICE")
    assert (ok(first), ok(second)) == (True, False)
    engine = open_database(url)
    try:
        assert NoticeStore(engine).claim(pk, T0) is False
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM consent_notice")) == 1
    finally:
        engine.dispose()



def test_same_manual_tag_from_two_operators_at_once_is_added_once(url: str) -> None:
    """Two operators typing `标签 @成员 +重要客户` in two bot processes: one adds it, the other
    is told nothing changed — neither fails on the (member, code, source) key."""
    from storage.privacy import PrivacyStore

    (pk,) = members(url, "wxid_vip")
    first, second = race(
        url, lambda e: PrivacyStore(e).set_manual_tag(pk, "vip", "重要客户", add=True, at=T0),
        lambda e: PrivacyStore(e).set_manual_tag(pk, "vip", "重要客户", add=True, at=T0),
        "INSERT INTO TAG")
    assert (ok(first), ok(second)) == (True, False)
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text(
                "SELECT count(*) FROM tag WHERE source = 'manual' AND code = 'vip'")) == 1
    finally:
        engine.dispose()
