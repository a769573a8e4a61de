"""The storage and end-to-end behaviour again, on a real PostgreSQL server.

SQLite is the default, but `--db postgresql+psycopg://…` is a promise too: the same
repositories, the same personas, the same idempotency, and — what only a server makes
possible — several bot processes writing to one database at once without losing anything.

Each test gets its own freshly created database (`pg.fresh_database`). Without a server these
tests skip, except on CI where they fail (`pg.require_postgres`); `.ci/run` starts one.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pg import ENV, dump, fresh_database, require_postgres
from sqlalchemy import DateTime, create_engine, func, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine, make_url

from bot.app import App
from bot.sources import open_source
from bot.sources.business import open_events, open_orders
from handlers.business import finish, import_events, import_orders
from handlers.ingest import Ingestor, IngestReport
from handlers.segments import run_and_store
from handlers.settings import Settings
from storage.audit import AuditStore
from storage.batches import Batch, NewMessage
from storage.business import BusinessStore, NewLink, NewOrder
from storage.db import SchemaVersionError, StorageError, open_database
from storage.models import MEMBER, MESSAGE, Meta
from storage.notices import NoticeStore
from storage.privacy import PrivacyStore
from storage.repo import Store
from storage.segments import SegmentStore
from storage.suggestions import SuggestionStore
from storage.tags import TagRow

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 1, 21, 30, tzinfo=SH)
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "bot" / "data" / "sample"
AS_OF = "2026-12-01T00:00:00+08:00"  # after the sample's last message: a fixed judging moment


# ---- fixtures ----------------------------------------------------------------------------------
@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a new, empty database of its own on the test server."""
    with fresh_database(require_postgres()) as url:
        yield url


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    eng = open_database(pg_url)
    yield eng
    eng.dispose()


def msg(mid: str, sender: str = "wxid_a", minutes: int = 0, text: str = "你好",
        chat: str = "g1@chatroom") -> NewMessage:
    return NewMessage(id=mid, chat_id=chat, platform="wechat", sender=sender,
                      ts=T0 + timedelta(minutes=minutes), type="text", text=text,
                      signals={"k": ["你好"]}, origin="t.json:1")


def batch(*messages: NewMessage) -> Batch:
    b = Batch()
    for m in messages:
        b.chats[m.chat_id] = ("宝妈群", True, "wechat")
        b.people[m.platform, m.sender] = f"name-{m.sender}"
    b.messages.extend(messages)
    return b


def open_engine_raw(url: str) -> Engine:
    """A plain engine, without Siyu's schema checks."""
    return create_engine(url)


def waiting_on_gate(conn: Connection, n: int, timeout: float = 120.0) -> None:
    """Wait until `n` other sessions of this database are blocked on a lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Activity statistics are a snapshot per transaction; this one holds the gate open.
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        blocked = conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"))
        if blocked >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{n} writers never reached the locked table")


# ---- the rule that makes CI fail instead of skip ------------------------------------------------
@pytest.mark.parametrize("ci", ["true", ""])
def test_missing_server_skips_locally_and_fails_on_ci(monkeypatch: pytest.MonkeyPatch,
                                                      ci: str) -> None:
    import pg

    monkeypatch.setenv("CI", ci)
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setattr(pg, "_checked", {})
    expected = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(expected, match=ENV):
        require_postgres()


# ---- schema ------------------------------------------------------------------------------------
def test_new_database_has_schema_version_and_time_zone_columns(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.scalar(select(Meta.value).where(Meta.key == "schema_version")) == "1"
    ts = next(c for c in inspect(engine).get_columns("message") if c["name"] == "ts")
    assert isinstance(ts["type"], DateTime) and ts["type"].timezone  # timestamptz, not naive


def test_other_schema_version_is_refused_clearly(pg_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(update(Meta.__table__).values(value="99"))  # type: ignore[arg-type]
    with pytest.raises(SchemaVersionError, match="版本为 99"):
        open_database(pg_url)


def test_foreign_database_is_refused(pg_url: str) -> None:
    other = open_engine_raw(pg_url)
    with other.begin() as conn:
        conn.execute(text("CREATE TABLE something (x int)"))
    other.dispose()
    with pytest.raises(StorageError, match="不是 Siyu"):
        open_database(pg_url)


def test_processes_opening_a_new_database_at_once_all_succeed(pg_url: str) -> None:
    """Several bots started together on an empty database: one creates the schema, the
    others wait for it and find it, instead of failing on "relation already exists"."""
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def opener() -> None:
        start.wait()
        try:
            open_database(pg_url).dispose()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    engine = open_engine_raw(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM meta")) == 1
    finally:
        engine.dispose()


def test_unreachable_server_is_a_one_line_error_without_the_password() -> None:
    base = make_url(require_postgres())
    url = base.set(port=1, password="s3cret-pw").render_as_string(hide_password=False)
    with pytest.raises(StorageError, match="无法打开数据库") as exc:
        open_database(url)  # nothing listens on port 1
    assert "\n" not in str(exc.value)
    assert "s3cret-pw" not in str(exc.value) and "***" in str(exc.value)


def test_plain_postgresql_url_means_psycopg(pg_url: str) -> None:
    """`postgresql://` (and `postgres://`) use psycopg 3, the driver the extra installs."""
    for scheme in ("postgresql", "postgres"):
        plain = make_url(pg_url).set(drivername=scheme).render_as_string(hide_password=False)
        engine = open_database(plain)
        try:
            assert engine.dialect.driver == "psycopg"
            assert Store(engine).counts()["members"] == 0
        finally:
            engine.dispose()


def test_missing_driver_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """No server needed: without psycopg, --db postgresql://… says what to install."""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg → ImportError
    with pytest.raises(StorageError, match=r"siyu-companion\[postgres\]") as exc:
        open_database("postgresql://siyu:pw@127.0.0.1:5432/siyu")
    assert "pw@" not in str(exc.value)


# ---- times --------------------------------------------------------------------------------------
def test_times_come_back_aware_in_utc_whatever_the_session_zone(pg_url: str,
                                                                 engine: Engine) -> None:
    store = Store(engine)
    store.write_batch(batch(msg("m1")))
    got = store.messages_by_id(["m1"])["m1"].ts
    assert got == T0 and got.utcoffset() == timedelta(0)
    member = store.members()[0]
    assert member.first_seen == T0 and member.last_active == T0
    # A server or role whose TimeZone is not UTC changes nothing.
    shanghai = make_url(pg_url).update_query_dict({"options": "-c TimeZone=Asia/Shanghai"})
    other = open_database(shanghai.render_as_string(hide_password=False))
    try:
        with other.connect() as conn:
            assert conn.scalar(text("SHOW TimeZone")) == "Asia/Shanghai"
        again = Store(other).messages_by_id(["m1"])["m1"].ts
        assert again == T0 and again.utcoffset() == timedelta(0)
        # Stored as the instant: in UTC it reads 13:30.
        with other.connect() as conn:
            utc = conn.scalar(text("SELECT ts AT TIME ZONE 'UTC' FROM message"))
        assert utc == datetime(2026, 11, 1, 13, 30)
        # Comparisons in SQL are between instants too.
        assert set(Store(other).messages_for(until=T0)) and not Store(other).messages_for(
            until=T0 - timedelta(seconds=1))
    finally:
        other.dispose()


# ---- write_batch --------------------------------------------------------------------------------
def test_write_batch_is_idempotent_and_counts(engine: Engine) -> None:
    store = Store(engine)
    r1 = store.write_batch(batch(msg("m1"), msg("m2", minutes=5), msg("m2", minutes=5)))
    assert (r1.new, r1.duplicate, r1.new_members) == (2, 1, 1)
    r2 = store.write_batch(batch(msg("m1"), msg("m2", minutes=5)))
    assert (r2.new, r2.duplicate, r2.new_members) == (0, 2, 0)
    assert store.counts() == {"members": 1, "messages": 2, "chats": 1, "tags": 0}


def test_spans_extend_both_ways(engine: Engine) -> None:
    store = Store(engine)
    store.write_batch(batch(msg("m1", minutes=10)))
    store.write_batch(batch(msg("m0", minutes=-10), msg("m2", minutes=30)))
    m = store.members()[0]
    assert m.first_seen == T0 - timedelta(minutes=10)
    assert m.last_active == T0 + timedelta(minutes=30)


def test_failed_batch_leaves_nothing_behind(engine: Engine) -> None:
    store = Store(engine)
    bad = msg("m2", sender="wxid_b")
    bad.ts = datetime(2026, 11, 1, 12, 0)  # naive: refused by the column type mid-batch
    with pytest.raises(Exception, match="naive"):
        store.write_batch(batch(msg("m1", sender="wxid_b"), bad))
    assert store.counts() == {"members": 0, "messages": 0, "chats": 0, "tags": 0}
    # The server refusing the message insert, after the chat and member rows went in.
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by the server'; END $$"))
        conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON message "
                          "FOR EACH ROW EXECUTE FUNCTION refuse()"))
    with pytest.raises(Exception, match="refused by the server"):
        store.write_batch(batch(msg("m1", sender="wxid_b"), msg("m3", sender="wxid_c")))
    assert store.counts() == {"members": 0, "messages": 0, "chats": 0, "tags": 0}


def test_opted_out_members_messages_are_not_stored(engine: Engine) -> None:
    store = Store(engine)
    store.write_batch(batch(msg("m1")))
    (member,) = store.members()
    PrivacyStore(engine).set_opted_out(member.pk, True)
    res = store.write_batch(batch(msg("m2", minutes=1)))
    assert (res.new, res.opted_out) == (0, 1)
    assert set(store.messages_by_id(["m1", "m2"])) == {"m1"}


def test_same_id_on_two_platforms_stays_two_members(engine: Engine) -> None:
    store = Store(engine)
    a, b = msg("m1"), msg("m2")
    b.platform = "wecom"
    store.write_batch(batch(a, b))
    assert sorted(m.member_id for m in store.members()) == ["wecom:wxid_a", "wxid_a"]


def test_find_members_by_id_name_and_part(any_engine: Engine) -> None:
    """The same answers on both backends, including case: SQLite's LIKE ignores ASCII case."""
    store = Store(any_engine)
    b = batch(msg("m1", sender="wxid_a"), msg("m2", sender="wxid_b"), msg("m3", sender="lily"))
    b.people["wechat", "lily"] = "Lily_妈妈"
    store.write_batch(b)
    assert [m.member_id for m in store.find_members("wxid_b")] == ["wxid_b"]
    assert [m.member_id for m in store.find_members("name-wxid_a")] == ["wxid_a"]
    assert len(store.find_members("name-")) == 2
    # A part of a name matches whatever its ASCII case (SQLite's LIKE always did that).
    assert [m.name for m in store.find_members("lily_妈")] == ["Lily_妈妈"]
    assert [m.member_id for m in store.find_members("LILY")] == ["lily"]
    assert store.find_members("没有这个人") == []
    assert store.find_members("%") == [] and store.find_members("L_ly") == []  # escaped
    assert store.member_by_platform_id("LILY") is None  # ids stay exact


def test_derived_tags_replace_and_clear_stale(engine: Engine) -> None:
    store = Store(engine)
    store.write_batch(batch(msg("m1")))
    (pk,) = store.stale_members()
    now = datetime(2026, 11, 2, tzinfo=UTC)
    store.replace_derived_tags({pk: [TagRow("travel", "interest", "旅行", 0.5, ["m1"], None)]},
                               now)
    assert store.stale_members() == []
    store.replace_derived_tags({pk: [TagRow("food", "interest", "美食", 0.7, ["m1"], T0)]}, now)
    (tag,) = store.tags_for([pk], "derived")[pk]
    assert (tag.code, tag.evidence, tag.expires_at) == ("food", ["m1"], T0)


def test_nul_characters_do_not_fail_a_batch(engine: Engine) -> None:
    """PostgreSQL text cannot hold NUL; an export line carrying one ("\\u0000" in JSON) once
    failed its whole batch there. It is stored as U+FFFD, consistently, so ids still match."""
    store = Store(engine)
    odd = msg("m\x001", sender="wxid_\x00a", text="有没有\x00优惠", chat="g\x00@chatroom")
    b = batch(odd, msg("m2"))
    b.people["wechat", "wxid_\x00a"] = "朵朵\x00妈"
    first = store.write_batch(b)
    assert (first.new, first.new_members) == (2, 2)
    again = store.write_batch(batch(msg("m\x001", sender="wxid_\x00a", chat="g\x00@chatroom")))
    assert (again.new, again.duplicate) == (0, 1)
    got = store.messages_by_id(["m\x001"])
    assert [(m.id, m.text, m.chat_id) for m in got.values()] == [
        ("m\ufffd1", "有没有\ufffd优惠", "g\ufffd@chatroom")]
    (member,) = store.find_members("wxid_\x00a")
    assert member.name == "朵朵\ufffd妈"


def test_concurrent_batches_on_overlapping_data_lose_nothing(engine: Engine) -> None:
    """Writers racing on the same new members, chats and message ids: no unique-key errors,
    no deadlock, and every message and member is counted as new exactly once."""
    rng = random.Random(7)
    people = [f"wxid_{i}" for i in range(12)]
    universe = [msg(f"m{i}", sender=rng.choice(people), minutes=i, chat=f"g{i % 5}@chatroom")
                for i in range(240)]
    writers = 4
    plans = []
    for _ in range(writers):
        mine = rng.sample(universe, 150)
        plans.append([mine[i : i + 10] for i in range(0, len(mine), 10)])
    totals = {"new": 0, "new_members": 0, "duplicate": 0}
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(writers)

    def run(plan: list[list[NewMessage]]) -> None:
        store = Store(engine)
        start.wait()
        try:
            for part in plan:
                res = store.write_batch(batch(*part))
                with lock:
                    totals["new"] += res.new
                    totals["new_members"] += res.new_members
                    totals["duplicate"] += res.duplicate
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    written = {m.id for plan in plans for part in plan for m in part}
    senders = {m.sender for m in universe if m.id in written}
    counts = Store(engine).counts()
    assert counts["messages"] == len(written) == totals["new"]
    assert totals["new"] + totals["duplicate"] == writers * 150
    assert counts["members"] == len(senders) == totals["new_members"]
    # Spans are the true extremes of each member's messages, whoever wrote them.
    store = Store(engine)
    by_member = store.messages_for()
    for m in store.members():
        times = [s.ts for s in by_member[m.pk]]
        assert (m.first_seen, m.last_active) == (min(times), max(times))


# ---- privacy --------------------------------------------------------------------------------
def mentions(engine: Engine, needles: set[str]) -> list[str]:
    """Every (table, column) whose value contains any needle, scanning all of them."""
    found = []
    for table, rows in dump(engine).items():
        cols = [c["name"] for c in inspect(engine).get_columns(table)]
        for row in rows:
            for col, value in zip(cols, row, strict=True):
                shown = value if isinstance(value, str) else json.dumps(
                    value, ensure_ascii=False, default=str)
                hit = sorted(n for n in needles if n in shown)
                if hit:
                    found.append(f"{table}.{col}: {hit}")
    return found


def test_forget_member_erases_every_row(any_engine: Engine) -> None:
    engine = any_engine
    store = Store(engine)
    said = msg("b1", sender="wxid_b", minutes=2, text="@name-wxid_a 收到")
    said.signals = {"mentions": ["name-wxid_a"], "k": ["收到"]}
    store.write_batch(batch(msg("a1", sender="wxid_a"), msg("a2", sender="wxid_a", minutes=1,
                                                              chat="wxid_a"), said))
    pks = {m.member_id: m.pk for m in store.members()}
    a, b = pks["wxid_a"], pks["wxid_b"]
    at = T0 + timedelta(hours=1)
    store.replace_derived_tags({pk: [TagRow("food", "interest", "美食", 0.5, [f"{mid}1"], None)]
                                for mid, pk in (("a", a), ("b", b))}, at)
    privacy = PrivacyStore(engine)
    assert privacy.set_manual_tag(a, "vip", "重要客户", add=True, at=at)
    business = BusinessStore(engine)
    business.write_links([NewLink("phone", "13800138000", a, "l.csv:2")])
    business.write_orders([NewOrder("O1", a, T0, 10.0, "食品", False, "o.csv:2"),
                           NewOrder("O2", b, T0, 20.0, "食品", False, "o.csv:3")])
    NoticeStore(engine).claim(a, at)
    AuditStore(engine).record(at, "operator", "persona", "wxid_a", True)
    SegmentStore(engine).save_run(at, at, {}, {"cards": [
        {"member_id": "wxid_a", "name": "name-wxid_a", "evidence": ["a1"]},
        {"member_id": "wxid_b", "quote": "wxid_a 说过", "evidence": ["a2", "b1"]}]},
        {a: {"value": "high"}, b: {"value": "general"}})
    SuggestionStore(engine).insert(_suggestion(a, at))
    needles = {"wxid_a", "name-wxid_a", "a1", "a2", "O1", "13800138000"}
    assert mentions(engine, needles)

    removed = privacy.forget_member(a)
    assert removed["member"] == 1 and removed["orders"] == 1
    assert mentions(engine, needles) == []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            cols = {c["name"] for c in inspect(engine).get_columns(table)}
            if "member_pk" in cols:
                left = conn.scalar(text(f'SELECT count(*) FROM "{table}" WHERE member_pk = :pk'),
                                   {"pk": a})
                assert left == 0, table
    # The other member keeps everything, with the erased one's name taken out of her words.
    assert [m.member_id for m in store.members()] == ["wxid_b"]
    (kept,) = store.messages_for()[b]
    assert (kept.id, kept.text) == ("b1", "@某成员 收到")
    # JSON documents stay documents (on SQLite a CAST to JSON once turned them into 0).
    assert kept.signals == {"mentions": ["某成员"], "k": ["收到"]}
    assert BusinessStore(engine).stored_orders(["O2"])["O2"].amount == 20.0
    run = SegmentStore(engine).latest_run()
    assert run is not None and isinstance(run.result, dict)
    assert run.result["cards"][-1]["evidence"] == ["b1"]
    assert store.tags_for([b], "derived")[b][0].evidence == ["b1"]


def _suggestion(pk: int, at: datetime) -> dict[str, Any]:
    return {"member_pk": pk, "scenario": "question", "trigger": "a1", "trigger_ts": at,
            "message_id": "a1", "chat_id": "g1@chatroom", "operator": "operator",
            "source": "hook", "variant": "default", "template_text": "您好", "text": "您好",
            "alternatives": [], "why": [], "reasons": [], "segments": {},
            "next_action": "private_chat", "polished": False, "status": "pending",
            "created_at": at, "updated_at": at}


# ---- business data ---------------------------------------------------------------------------
HEADER = "member,order_id,ts,amount,category,coupon_used\n"


def test_orders_and_events_import_is_idempotent(tmp_path: Path, engine: Engine) -> None:
    store = Store(engine)
    settings = Settings()
    labels = {"price": "价格敏感", "video": "视频"}
    store.write_batch(batch(msg("m1", sender="wxid_a"), msg("m2", sender="wxid_b")))
    orders = tmp_path / "o.csv"
    orders.write_text(HEADER + "\n".join([
        "wxid_a,O1,2026-11-02T20:00:00+08:00,199.99,母婴用品,1",
        "wxid_b,O2,2026-11-05T20:00:00+08:00,59,运动健身,0",
        "nobody,O3,2026-11-05T20:00:00+08:00,59,运动健身,0",
    ]) + "\n", encoding="utf-8")
    events = tmp_path / "e.csv"
    events.write_text("member,ts,content_type,action,duration\n"
                      "wxid_a,2026-11-03T21:00:00+08:00,视频,浏览,120\n"
                      "wxid_a,2026-11-03T21:00:00+08:00,视频,浏览,120\n", encoding="utf-8")
    first = import_orders(store, open_orders(orders), settings)
    first_events = import_events(store, open_events(events), settings)
    assert finish(store, settings, labels) == 2
    assert (first.new, len(first.rejects), first_events.new, first_events.duplicate) == (
        2, 1, 1, 1)
    before = dump(engine)
    again = import_orders(store, open_orders(orders), settings)
    again_events = import_events(store, open_events(events), settings)
    assert finish(store, settings, labels) == 0
    assert (again.new, again.duplicate, len(again.rejects)) == (0, 2, 1)
    assert (again_events.new, again_events.duplicate) == (0, 2)
    assert dump(engine) == before
    stored = BusinessStore(engine).stored_orders(["O1"])["O1"]
    assert stored.amount == 199.99 and stored.coupon_used is True
    assert stored.ts == datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


# ---- segmentation: stored and read back, the same as on SQLite ---------------------------------
def _build_sample(db: str) -> tuple[Engine, int]:
    """The shipped sample community (chats and orders) in `db`, segmented; returns the run id."""
    settings = replace(Settings(), db=db)
    app = App(settings)
    ingestor = Ingestor(app.store, app.analyzer, settings, app.labels)
    report = IngestReport()
    for path in sorted(SAMPLE.glob("*.json")):
        ingestor.ingest(open_source(path, "chatlab", tz=settings.tz), report)
    import_orders(app.store, open_orders(SAMPLE / "orders.csv", tz=settings.tz), settings,
                  file="orders.csv")
    ingestor.finish(report)
    as_of = app.store.latest_message_ts()
    assert as_of is not None
    outcome = run_and_store(app.store, settings, app.labels, as_of)
    return app.store.engine, outcome.run_id


def test_segment_run_is_stored_and_read_back_like_sqlite(tmp_path: Path, pg_url: str) -> None:
    lite, lite_run = _build_sample(f"sqlite:///{tmp_path / 'lite.db'}")
    pg, pg_run = _build_sample(pg_url)
    try:
        runs = {name: SegmentStore(eng).latest_run() for name, eng in (("lite", lite), ("pg", pg))}
        lite_doc, pg_doc = runs["lite"], runs["pg"]
        assert lite_doc is not None and pg_doc is not None and pg_doc.id == pg_run
        assert pg_doc.as_of == lite_doc.as_of and pg_doc.as_of.utcoffset() == timedelta(0)
        assert pg_doc.params == lite_doc.params
        assert json.dumps(pg_doc.result, ensure_ascii=False) == json.dumps(
            lite_doc.result, ensure_ascii=False)  # same content, same key order
        assert pg_doc.result["cards"]  # a real run, not two empty ones

        def by_member_id(eng: Engine, run_id: int) -> dict[str, dict[str, str | None]]:
            ids = {m.pk: m.member_id for m in Store(eng).members()}
            return {ids[pk]: seg for pk, seg in SegmentStore(eng).member_segments(run_id).items()}

        assert by_member_id(pg, pg_run) == by_member_id(lite, lite_run)
        # every member but the sample's group owners/admins (staff: never counted)
        staff = Store(pg).staff_pks(())
        assert len(staff) == 3
        assert len(by_member_id(pg, pg_run)) == Store(pg).counts()["members"] - len(staff)
        # A second run finds the first as its predecessor.
        settings = replace(Settings(), db=pg_url)
        app = App(settings)
        later = pg_doc.as_of + timedelta(days=1)
        second = run_and_store(app.store, settings, app.labels, later)
        assert second.previous is not None and second.previous.id == pg_run
        assert SegmentStore(pg).latest_run(until=later - timedelta(seconds=1)).id == pg_run
        app.store.engine.dispose()
    finally:
        lite.dispose()
        pg.dispose()


# ---- the CLI, end to end -------------------------------------------------------------------------
def siyu(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("SIYU_DB", None)
    proc = subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"siyu {' '.join(args)} → {proc.returncode}\n{proc.stderr}")
    return proc


def sample_files() -> list[str]:
    return sorted(str(p) for p in SAMPLE.glob("*.json"))


def personas_json(db: str, cwd: Path) -> dict[str, Any]:
    out = siyu("--db", db, "personas", "--json", "--as-of", AS_OF, cwd=cwd).stdout
    return json.loads(out)


def test_cli_ingest_and_personas_match_sqlite(tmp_path: Path, pg_url: str) -> None:
    lite = f"sqlite:///{tmp_path / 'lite.db'}"
    files = sample_files()
    orders = str(SAMPLE / "orders.csv")
    for db in (lite, pg_url):
        out = siyu("--db", db, "ingest", *files, cwd=tmp_path).stdout
        assert "拒绝 0 行" in out
        siyu("--db", db, "import-orders", orders, cwd=tmp_path)
    lite_doc, pg_doc = personas_json(lite, tmp_path), personas_json(pg_url, tmp_path)
    assert len(pg_doc["members"]) > 40
    # Whole documents: member ids, names, tags with scores and evidence, segments, stats.
    assert pg_doc == lite_doc
    assert json.dumps(pg_doc, ensure_ascii=False) == json.dumps(lite_doc, ensure_ascii=False)
    one = pg_doc["members"][0]["member_id"]
    assert siyu("--db", pg_url, "persona", one, "--json", "--as-of", AS_OF,
                cwd=tmp_path).stdout == siyu("--db", lite, "persona", one, "--json",
                                             "--as-of", AS_OF, cwd=tmp_path).stdout

    # Re-ingesting changes nothing at all.
    engine = open_database(pg_url)
    try:
        before = dump(engine)
        out = siyu("--db", pg_url, "ingest", *files, cwd=tmp_path).stdout
        assert "合计：新增 0 条消息" in out and "新成员 0 人" in out
        again = siyu("--db", pg_url, "import-orders", orders, cwd=tmp_path).stdout
        assert "新增 0 笔订单" in again
        assert dump(engine) == before
    finally:
        engine.dispose()
    assert personas_json(pg_url, tmp_path) == pg_doc


@pytest.mark.parametrize("schema", ["empty database", "existing schema"])
def test_two_bot_processes_writing_at_once_lose_nothing(tmp_path: Path, pg_url: str,
                                                        schema: str) -> None:
    """Two `siyu ingest` processes on different and overlapping files, started together on one
    database (from nothing: both also race to create the schema), small batches so their
    transactions interleave: both succeed, and the result is that of one sequential run."""
    files = sample_files()
    assert len(files) >= 6
    # Both start on the same three files, in step, then go their own ways: the most
    # collisions on new members, chats and message ids.
    shared, rest = files[:3], files[3:]
    first, second = shared + rest[::2], shared + rest[1::2]
    assert set(first) | set(second) == set(files)
    (tmp_path / "siyu.toml").write_text("batch_size = 15\n", encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("SIYU_DB", None)

    def start() -> list[subprocess.Popen[str]]:
        return [subprocess.Popen([sys.executable, "-m", "bot.cli", "--db", pg_url, "ingest",
                                  "--json", *part], cwd=tmp_path, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for part in (first, second)]

    if schema == "empty database":
        procs = start()  # both race to create the schema, then to write
    else:
        # Line them up: the chat table is locked until both are waiting on it, so their
        # first batches (same chat, same newcomers, same message ids) collide for certain.
        open_database(pg_url).dispose()
        gate = open_engine_raw(pg_url)
        try:
            with gate.begin() as conn:
                conn.execute(text("LOCK TABLE chat IN ACCESS EXCLUSIVE MODE"))
                procs = start()
                waiting_on_gate(conn, len(procs))
        finally:
            gate.dispose()
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err and "Error" not in err, err
    reports = [json.loads(out) for out, _ in results]

    lite = f"sqlite:///{tmp_path / 'lite.db'}"
    seq = json.loads(siyu("--db", lite, "ingest", "--json", *files, cwd=tmp_path).stdout)
    engine = open_database(pg_url)
    try:
        counts = Store(engine).counts()
        lite_engine = open_database(lite)
        try:
            lite_counts = Store(lite_engine).counts()
            with lite_engine.connect() as conn:
                lite_ids = set(conn.scalars(select(MESSAGE.c.id)))
        finally:
            lite_engine.dispose()
        with engine.connect() as conn:
            ids = list(conn.scalars(select(MESSAGE.c.id)))
            assert conn.scalar(select(func.count()).select_from(MEMBER)) == counts["members"]
        assert len(ids) == len(set(ids)) == counts["messages"]
        assert set(ids) == lite_ids  # nothing lost, nothing extra
        assert (counts["members"], counts["chats"]) == (lite_counts["members"],
                                                        lite_counts["chats"])
        # Each message was new for exactly one of the two processes.
        assert sum(r["new"] for r in reports) == seq["new"] == counts["messages"]
        assert sum(r["new_members"] for r in reports) == seq["new_members"]
    finally:
        engine.dispose()
    # What the operator sees is what one sequential import gives (keyed by member: the two
    # processes may have created members in another order than the sequential run).
    def by_id(doc: dict[str, Any]) -> dict[str, Any]:
        return {m["member_id"]: m for m in doc["members"]}

    assert by_id(personas_json(pg_url, tmp_path)) == by_id(personas_json(lite, tmp_path))


def test_two_processes_importing_overlapping_order_files_store_each_order_once(
        tmp_path: Path, pg_url: str) -> None:
    """Two `siyu import-orders` of overlapping exports, lined up so their first batches check
    the same order ids before either commits: both succeed, every order is stored once and
    counted new by exactly one of them (before ON CONFLICT in storage/business.py, the second
    died with UniqueViolation on orders_pkey)."""
    siyu("--db", pg_url, "ingest", *sample_files(), cwd=tmp_path)
    header, *lines = (SAMPLE / "orders.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 40
    # The same 15 orders open both files (the batches that collide), then each goes its way.
    shared = lines[:15]
    parts = {"a.csv": shared + lines[15::2], "b.csv": shared + lines[16::2]}
    for name, part in parts.items():
        (tmp_path / name).write_text("\n".join([header, *part]) + "\n", encoding="utf-8")
    (tmp_path / "siyu.toml").write_text("batch_size = 5\n", encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("SIYU_DB", None)
    gate = open_engine_raw(pg_url)
    try:
        with gate.begin() as conn:
            # Both processes block on their first look at the orders table, then go together.
            conn.execute(text("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"))
            procs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "--db", pg_url,
                                       "import-orders", "--json", name], cwd=tmp_path,
                                      env=env, text=True, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE) for name in parts]
            waiting_on_gate(conn, len(procs))
    finally:
        gate.dispose()
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err and "Error" not in err, err
    reports = [json.loads(out) for out, _ in results]
    for report, part in zip(reports, parts.values(), strict=True):
        assert report["rejected"] == [], report["rejected"]
        assert report["new"] + report["duplicate"] == len(part)
    engine = open_database(pg_url)
    try:
        assert BusinessStore(engine).counts()["orders"] == len(lines)
        assert sum(r["new"] for r in reports) == len(lines)
    finally:
        engine.dispose()
