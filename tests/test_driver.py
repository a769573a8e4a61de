"""storage/driver.py: statements run through SQLite's driver give what Core gives.

Each hot statement of the live path is run both ways on a real database with members,
identities, messages (JSON signals, aware times), tags and suggestions, and the rows compared;
then the edges: list lengths, literals in the statement, errors, a watched engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqltrace import trace

from storage import driver
from storage.batches import Batch, NewMessage, _BatchQ
from storage.db import open_database, writing
from storage.driver import Query
from storage.live_facts import _FactQ
from storage.members import _MemberQ
from storage.messages import _MessageQ
from storage.models import MEMBER, MESSAGE, SUGGESTION
from storage.notify_queue import _NotifyQ
from storage.repo import Store
from storage.suggestions import _Q, SuggestionStore
from storage.tags import _TagQ
from storage.trigger_reads import _TriggerQ

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_database(f"sqlite:///{tmp_path / 'd.db'}")
    batch = Batch(chats={"g@chatroom": ("群", True, "wechat")})
    for i in range(6):
        sender = f"wxid_{i % 3}"
        batch.people["wechat", sender] = f"成员{i % 3}"
        batch.messages.append(NewMessage(
            f"m{i}", "g@chatroom", "wechat", sender, T0 + timedelta(minutes=i, microseconds=7),
            "text" if i % 4 else "image", f"第{i}条", {"intent": ["question"], "k": ["面霜"]},
            "live"))
    Store(eng).write_batch(batch)
    with writing(eng) as conn:
        conn.execute(text("INSERT INTO tag (member_pk, code, kind, label, score, evidence, "
                          "source, computed_at) VALUES (1, 'vip', 'manual', '重点', 1.0, "
                          "'[]', 'manual', '2026-11-01 12:00:00.000000')"))
    yield eng
    eng.dispose()


def core(eng: Engine, stmt: Any, params: dict[str, Any]) -> list[Any]:
    with eng.connect() as conn:
        return conn.execute(stmt, params).all()


def cases() -> list[tuple[str, Query, dict[str, Any]]]:
    since, until = T0 - timedelta(days=1), T0 + timedelta(days=1)
    return [
        ("identities", _MemberQ.identities, {"keys": [("wechat", "wxid_0"), ("wechat", "wxid_2"),
                                                ("wechat", "nobody")]}),
        ("opted_out", _MemberQ.opted_out, {"pks": [1, 2, 3]}),
        ("message_ids", _BatchQ.message_ids, {"ids": ["m1", "m4", "absent"]}),
        ("chat_message_ids", _BatchQ.chat_message_ids,
         {"ids": ["m1", "m4", "absent"], "chats": ["g@chatroom", "other@chatroom"]}),
        ("chat_message_ids, other chat", _BatchQ.chat_message_ids,
         {"ids": ["m1"], "chats": ["other@chatroom"]}),
        ("member_pks", _MemberQ.member_pks, {"ids": ["wxid_1"]}),
        ("members", _MemberQ.members, {"pks": [3, 1]}),
        ("members, none", _MemberQ.members, {"pks": []}),
        ("history", _MessageQ.history, {"pks": [1, 2]}),
        ("manual tags", _TagQ.tags, {"pks": [1], "source": "manual"}),
        ("live", _TriggerQ.live, {"ids": ["m0", "m5"], "since": since, "until": until}),
        ("first spoken", _TriggerQ.first_spoken, {"pk": 1, "since": since, "until": until,
                                           "silent": ["image", "system"]}),
        ("slot", _Q.slot, {"s_pk": 1, "s_sc": "question", "s_tr": "m3"}),
        ("known", _Q.known, {"pks": [1, 2]}),
        ("fact version", _FactQ.version, {"pk": 2}),
        ("segments", _FactQ.segments, {"pks": [1], "until": until}),
    ]


@pytest.mark.parametrize("name", [c[0] for c in cases()])
def test_a_hot_statement_returns_what_core_returns(engine: Engine, name: str) -> None:
    _, query, params = next(c for c in cases() if c[0] == name)
    expected = core(engine, query.stmt, params)
    got = driver.rows(engine, query, params)
    assert got == expected
    assert [tuple(r) for r in got] == [tuple(r) for r in expected]
    if got:  # the same column names and the same Python types as Core's rows
        assert got[0]._fields == tuple(expected[0]._fields)
        assert [type(v) for v in got[0]] == [type(v) for v in expected[0]]
    with engine.connect() as conn:  # inside a connection's transaction too
        assert driver.rows(conn, query, params) == expected
    assert query._plans and all(p is not None for p in query._plans.values())


def test_times_bind_as_core_binds_them(engine: Engine) -> None:
    """An aware time bound by the driver compares with stored text exactly as Core's does:
    the message at T0 + 1 min + 7 µs is after T0 + 1 min and not after itself, also when the
    time is given in another zone (converted to stored UTC, not compared as local text)."""
    at = T0 + timedelta(minutes=1, microseconds=7)
    q = Query(select(MESSAGE.c.id).where(MESSAGE.c.ts > bindparam("lo", type_=MESSAGE.c.ts.type),
                                         MESSAGE.c.ts <= bindparam("hi", type_=MESSAGE.c.ts.type))
              .order_by(MESSAGE.c.id))
    for lo, hi in ((T0 + timedelta(minutes=1), at), (at, at + timedelta(minutes=2)),
                   (at.astimezone(ZoneInfo("Asia/Shanghai")), at + timedelta(minutes=3))):
        assert driver.rows(engine, q, {"lo": lo, "hi": hi}) == core(engine, q.stmt,
                                                                    {"lo": lo, "hi": hi})
    assert [r.id for r in driver.rows(engine, q, {"lo": T0 + timedelta(minutes=1),
                                                  "hi": at})] == ["m1"]


def test_each_list_length_gets_its_own_rendering(engine: Engine) -> None:
    q = Query(select(MEMBER.c.id).where(MEMBER.c.id.in_(bindparam("pks", expanding=True)))
              .order_by(MEMBER.c.id))
    for pks in ([1], [1, 2], [], [3, 2, 1], [2]):
        assert [r.id for r in driver.rows(engine, q, {"pks": pks})] == sorted(pks)
    assert set(q._plans) == {(1,), (2,), (0,), (3,)}
    # Past the longest list kept, Core renders it (same rows, no new plan).
    many = list(range(1, driver.MAX_LIST + 2))
    assert [r.id for r in driver.rows(engine, q, {"pks": many})] == [1, 2, 3]
    assert (len(many),) not in q._plans


def test_literals_written_into_the_statement_are_bound_every_call(engine: Engine) -> None:
    q = Query(select(MEMBER.c.member_id).where(MEMBER.c.member_id.in_(["wxid_0", "wxid_2"]),
                                               MEMBER.c.name != "nobody")
              .order_by(MEMBER.c.member_id))
    assert [r[0] for r in driver.rows(engine, q, {})] == ["wxid_0", "wxid_2"]
    assert [r[0] for r in driver.rows(engine, q, {})] == ["wxid_0", "wxid_2"]


def test_an_insert_with_column_defaults_takes_cores_path(engine: Engine) -> None:
    """Columns left out would get their defaults from Core's execution context: the driver
    path never guesses them (the hook's insert gives every column and takes the fast one)."""
    ss = SuggestionStore(engine)
    values = {"member_pk": 1, "scenario": "question", "trigger": "m1", "trigger_ts": T0,
              "created_at": T0, "updated_at": T0, "alternatives": [], "why": [], "reasons": [],
              "segments": {}}
    row = ss.insert_row(values)
    assert row is not None and row.operator == "operator" and row.status == "pending"
    assert row.polished is False and row.alternatives == []
    assert _Q.inserts[frozenset(values)]._plans == {(): None}
    assert ss.insert_row(values) is None  # the same trigger again: skipped, not an error


def test_driver_errors_are_sqlalchemys(engine: Engine) -> None:
    q = Query(select(text("x")).select_from(text("no_such_table")))
    with pytest.raises(OperationalError, match="no_such_table"):
        driver.rows(engine, q, {})
    with writing(engine) as conn, pytest.raises(IntegrityError):
        driver.executemany(conn, "INSERT INTO chat (id, name, is_group, platform) "
                                 "VALUES (?, ?, ?, ?)", [("g@chatroom", "x", 1, "wechat")])


def test_a_watched_engine_sees_every_statement(engine: Engine) -> None:
    """A cursor listener (a crash test's hook, a statement log) makes the driver path step
    aside: the listener sees the reads and the BEGIN IMMEDIATE of a live write."""
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    assert [r.id for r in driver.rows(engine, _MemberQ.members, {"pks": [1]})] == [1]
    assert any("FROM member" in s for s in seen)
    seen.clear()
    Store(engine).write_batch(Batch(
        chats={"g@chatroom": ("群", True, "wechat")}, people={("wechat", "wxid_0"): "成员0"},
        messages=[NewMessage("m9", "g@chatroom", "wechat", "wxid_0", T0, "text", "好", {},
                             "live")]))
    assert seen[0] == "BEGIN IMMEDIATE" and any("FROM identity" in s for s in seen)


def test_unwatched_the_driver_runs_them_without_a_transaction_for_one_read(
        engine: Engine) -> None:
    ran = trace(engine)
    driver.rows(engine, _MemberQ.members, {"pks": [1]})
    assert len(ran) == 1 and ran[0].startswith("SELECT")  # one statement: its own snapshot
    ran.clear()
    Store(engine).write_batch(Batch(
        chats={"g@chatroom": ("群", True, "wechat")}, people={("wechat", "wxid_0"): "成员0"},
        messages=[NewMessage("m9", "g@chatroom", "wechat", "wxid_0", T0, "text", "好", {},
                             "live")]))
    assert ran[0] == "BEGIN IMMEDIATE" and ran[-1] == "COMMIT"
    with engine.connect() as conn:
        assert conn.scalar(select(MESSAGE.c.text).where(MESSAGE.c.id == "m9")) == "好"
        assert conn.scalar(select(SUGGESTION.c.id)) is None


def _queue(eng: Engine) -> SuggestionStore:
    """Queued hook suggestions of two operators and scenarios, and one earlier push."""
    ss = SuggestionStore(eng)
    for i, (pk, scenario, op) in enumerate([(1, "question", "op_a"), (2, "complaint", "op_a"),
                                            (3, "question", "op_a"), (1, "purchase", "op_b"),
                                            (2, "question", "op_a")]):
        ss.insert_row({"member_pk": pk, "scenario": scenario, "trigger": f"m{i}",
                       "trigger_ts": T0 + timedelta(minutes=i, microseconds=3), "operator": op,
                       "source": "hook", "created_at": T0, "updated_at": T0,
                       "alternatives": [], "why": ["问"], "reasons": [], "segments": {}})
    with writing(eng) as conn:
        conn.execute(text("INSERT INTO notify_log (member_pk, operator, at) "
                          "VALUES (3, 'op_a', '2026-11-01 11:40:00.000005')"))
    return ss


def test_the_claims_statements_return_what_core_returns(engine: Engine) -> None:
    _queue(engine)
    params = {"op": "op_a", "since": T0 - timedelta(hours=1), "fresh": T0 - timedelta(days=1),
              "now": T0 + timedelta(hours=1)}
    ranked = _NotifyQ.ranked(["complaint", "question"])
    for query, extra in ((_NotifyQ.hour, {}), (_NotifyQ.waiting, {}), (ranked, {"n": 2}),
                         (ranked, {"n": 10})):
        expected = core(engine, query.stmt, {**params, **extra})
        got = driver.rows(engine, query, {**params, **extra})
        assert expected and got == expected
        assert [type(v) for v in got[0]] == [type(v) for v in expected[0]]
        assert all(p is not None for p in query._plans.values())
    # complaint first, then the newest question; op_b's row is not op_a's to claim
    assert [r.scenario for r in driver.rows(engine, ranked, {**params, "n": 2})] == [
        "complaint", "question"]
    assert driver.rows(engine, _NotifyQ.waiting, {**params, "op": "nobody"}) == []


def test_a_claim_writes_what_cores_path_writes(tmp_path: Path) -> None:
    """The same claim on two databases, one through the driver and one watched (Core's path):
    the rows handed out and both tables afterwards are the same."""
    got = []
    for name, watched in (("driver.db", False), ("core.db", True)):
        eng = open_database(f"sqlite:///{tmp_path / name}")
        Store(eng).write_batch(Batch(
            chats={"g@chatroom": ("群", True, "wechat")},
            people={("wechat", f"wxid_{i}"): f"成员{i}" for i in range(3)},
            messages=[NewMessage(f"x{i}", "g@chatroom", "wechat", f"wxid_{i}", T0, "text",
                                 "在吗", {}, "live") for i in range(3)]))
        ss = _queue(eng)
        if watched:
            event.listen(eng, "before_cursor_execute", lambda *a: None)
        seen = trace(eng, queries_only=True)
        claim = ss.claim_queued("op_a", 3, T0 + timedelta(minutes=30), T0 - timedelta(days=1),
                                ["complaint", "question"])
        # the hour, the queue's head, then the write transaction's hour, read, mark and a
        # log row per push
        assert [sql.split()[0] for sql in seen] == ["SELECT"] * 4 + ["UPDATE"] + ["INSERT"] * 2
        with eng.connect() as conn:
            tables = [conn.execute(text(f"SELECT * FROM {t} ORDER BY id")).all()
                      for t in ("suggestion", "notify_log")]
        got.append((claim, tables))
        eng.dispose()
    (claim, tables), (core_claim, core_tables) = got
    assert claim == core_claim and tables == core_tables
    # the earlier push (11:40:00.000005) turns an hour old: to the microsecond
    assert len(claim.rows) == 2
    assert claim.full_until == T0 + timedelta(minutes=40, microseconds=5)
    assert [r.notified_at for r in claim.rows] == [T0 + timedelta(minutes=30)] * 2


def test_compile_all_compiles_each_query_once_before_its_first_use(
        engine: Engine, tmp_path: Path) -> None:
    q = Query(select(MEMBER.c.member_id).where(MEMBER.c.id == bindparam("pk")))
    assert q._compiled is None
    assert driver.compile_all(engine) >= 1
    assert q._compiled is not None and q._plans == {}  # renderings still wait for values
    assert driver.compile_all(engine) == 0
    assert driver.rows(engine, q, {"pk": 2}) == core(engine, q.stmt, {"pk": 2})


def test_a_bots_warm_up_compiles_the_hot_statements(tmp_path: Path) -> None:
    import gc
    import io

    from bot.config import load_settings
    from bot.runner import Bot
    from bot.transports.console import ConsoleTransport

    q = Query(select(MEMBER.c.id).where(MEMBER.c.member_id == bindparam("m")))
    cfg = tmp_path / "siyu.toml"
    cfg.write_text('[bot]\nmanagers = ["王经理"]\n', encoding="utf-8")
    bot = Bot(load_settings(str(cfg), db=f"sqlite:///{tmp_path / 'b.db'}"),
              ConsoleTransport(stdin=io.StringIO(""), stdout=io.StringIO()))
    try:
        bot.warm_up()
    finally:
        gc.unfreeze()  # (warm_up froze the heap; Bot.run unfreezes when the bot stops)
    assert q._compiled is not None
    assert _Q.slot._compiled is not None and _MemberQ.identities._compiled is not None
