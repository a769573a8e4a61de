"""The live suggestion path and the storage rules that keep it safe with several processes.

- `LiveTriggers.messages` (handlers/live.py) looks at the message just stored and its sender
  only (the full pass over the look-back window is for imports and the clock), with the same
  rules as the full pass: welcome once, one pending row per member and scenario, the hourly cap.
- `SuggestionStore` keeps the one-pending rule, status changes and the notify cap in the
  database (partial unique index, ON CONFLICT DO NOTHING, conditional updates, a lock around
  the claim), so two bot processes on one database cannot break them. Each storage test runs
  on SQLite and, when `SIYU_TEST_PG` names a server, on PostgreSQL (tests/pg.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pg import fresh_database, require_postgres
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqltrace import trace

from handlers.feedback import set_status
from handlers.live import LiveTriggers
from handlers.suggest import SuggestError
from handlers.triggers import suggest_for_new_messages
from persona.suggest import PRIORITY
from storage.batches import Batch, NewMessage
from storage.db import open_database
from storage.models import SUGGESTION
from storage.repo import Store
from storage.suggestions import SuggestionStore
from tests.suggest_fixtures import NOW, Community, ago


# ---- the live hook -----------------------------------------------------------------------
def test_live_hook_reads_only_the_messages_it_is_given(tmp_path: Path) -> None:
    c = Community(tmp_path)
    c.say("wxid_a", "大家好", ago(days=20), "小A")
    c.say("wxid_b", "大家好", ago(days=20), "小B")
    c.commit()
    imported = c.say("wxid_a", "这款面霜多少钱？", ago(hours=3))  # e.g. a file import
    live = c.say("wxid_b", "快递怎么还没到，太慢了", ago(hours=1))
    c.commit()
    hook = LiveTriggers(c.store, c.settings, c.labels)
    run = hook.messages([live], NOW)
    assert run.messages == 1 and run.created == 1
    assert [(v.member_id, v.row.scenario, v.row.message_id) for v in run.notify] == [
        ("wxid_b", "complaint", live)]
    assert run.queued is None  # the live path does not count the queue
    # The full pass still finds what nobody handed the live path.
    full = suggest_for_new_messages(c.store, c.settings, c.labels, NOW)
    assert [(v.member_id, v.row.message_id) for v in full.notify] == [("wxid_a", imported)]
    assert full.queued == 0


def test_live_hook_ignores_unknown_ids_and_messages_past_the_window(tmp_path: Path) -> None:
    c = Community(tmp_path)
    old = c.say("wxid_a", "这款面霜多少钱？", ago(days=5), "小A")
    c.commit()
    hook = LiveTriggers(c.store, c.settings, c.labels)
    run = hook.messages(["no-such-id", old], NOW)  # older than max_age_hours (72 h)
    assert run.messages == 0 and run.created == 0 and run.notify == []


def test_live_hook_welcomes_a_newcomer_once_by_their_first_words(tmp_path: Path) -> None:
    c = Community(tmp_path)
    c.say("wxid_old", "大家好", ago(days=30), "老成员")
    c.commit()
    first = c.say("wxid_new", "大家好，我是新来的", ago(hours=5), "新人")
    c.commit()
    hook = LiveTriggers(c.store, c.settings, c.labels)
    later = c.say("wxid_new", "今天天气不错", ago(hours=1))
    c.commit()
    run = hook.messages([later], NOW)
    (v,) = run.notify
    assert v.row.scenario == "welcome" and v.member_id == "wxid_new"
    # The reasons quote their first message in the window, as the full pass would.
    assert first in v.row.reasons[0]["evidence"]
    again = hook.messages([later], NOW + timedelta(minutes=1))
    assert again.created == 0 and again.notify == []


def test_live_bot_hands_out_a_join_welcome_at_the_join(tmp_path: Path) -> None:
    import asyncio

    from bot.config import load_settings
    from bot.runner import Bot
    from bot.transports.base import RecordingSends
    from handlers.events import JoinEvent

    class Once(RecordingSends):
        name = "once"
        self_id = "bot"

        def __init__(self, events: list[Any]) -> None:
            self.events = events
            self.sent: list[tuple[str, str, str]] = []

        async def run(self, on_event: Any) -> None:
            for e in self.events:
                await on_event(e)

        async def stop(self) -> None:
            return None

    cfg = tmp_path / "siyu.toml"
    cfg.write_text('[bot]\noperators = ["运营小美"]\nsegment_every_hours = 0\n'
                   'reactivation_every_hours = 0\nweekly_report = ""\n', encoding="utf-8")
    settings = load_settings(str(cfg), db=f"sqlite:///{tmp_path / 'bot.db'}")
    now = datetime.now(UTC)
    join = JoinEvent(id="join-1", ts=now, chat="1@chatroom", chat_name="群", member="wxid_n",
                     member_name="小新", inviter="wxid_a", inviter_name="小A", channel="invite")
    transport = Once([join])
    asyncio.run(Bot(settings, transport).run())
    # No message after the join: the welcome went out on the join itself.
    assert [(kind, to) for kind, to, _ in transport.sent] == [("private", "运营小美")]
    assert "小新" in transport.sent[0][2]


def test_live_hook_keeps_the_hourly_cap_and_skips_the_count_when_full(tmp_path: Path) -> None:
    c = Community(tmp_path, "[suggest]\nper_operator_per_hour = 2\n")
    ids = [c.say(f"wxid_{i}", "这个多少钱？", ago(days=10 - i / 10), f"成员{i}")
           for i in range(2)]
    c.commit()
    ids += [c.say(f"wxid_{i}", "快递怎么还没到，太慢了", ago(hours=3 - i / 10))
            for i in range(4)]
    c.commit()
    hook = LiveTriggers(c.store, c.settings, c.labels)
    sent = [len(hook.messages([mid], NOW).notify) for mid in ids[2:]]
    assert sent == [1, 1, 0, 0]
    assert len(hook.messages([], NOW + timedelta(minutes=61)).notify) == 2


def test_a_quiet_message_costs_one_query_and_a_full_hour_none_more(tmp_path: Path) -> None:
    """The work per message is bounded: counted in SQL statements, not timed."""

    c = Community(tmp_path, "[suggest]\nper_operator_per_hour = 1\n")
    for i in range(30):  # a day of history the old hook re-read on every message
        c.say(f"wxid_{i % 5}", "这款面霜适合什么年龄用？", ago(hours=20 - i / 2), f"成员{i % 5}")
    c.commit()
    hook = LiveTriggers(c.store, c.settings, c.labels)
    assert len(hook.new_messages(ago(hours=4)).notify) == 1  # the hour is now full
    quiet = [c.say("wxid_1", "好的", ago(hours=3) + timedelta(seconds=i)) for i in range(3)]
    c.commit()
    statements = trace(c.store.engine, queries_only=True)  # queries, not transactions
    hook.messages([quiet[0]], ago(hours=3))  # syncs the state once (a few statements)
    statements.clear()
    for k, mid in enumerate(quiet[1:], 1):
        assert hook.messages([mid], ago(hours=3) + timedelta(seconds=k)).messages == 1
    # Per message: the message itself, and whether this recent newcomer has had their
    # welcome. No window, no queue (the hour is full), no state.
    assert len(statements) == 4, statements
    assert sum("FROM message" in q for q in statements) == 2


def test_live_hook_still_notices_members_turning_declining(tmp_path: Path) -> None:
    c = Community(tmp_path)
    c.say("wxid_quiet", "这款面霜多少钱？", ago(days=31), "老客")
    c.commit()
    c.say("wxid_b", "大家好", ago(hours=1), "小B")
    mid = c.say("wxid_b", "今天天气不错", ago(hours=1))
    c.commit()
    hook = LiveTriggers(c.store, c.settings, c.labels)
    run = hook.messages([mid], NOW)
    assert "reactivate" in {v.row.scenario for v in run.notify}


def test_live_hook_holds_the_watermark_until_the_next_sync_or_flush(tmp_path: Path) -> None:
    c = Community(tmp_path)
    a = c.say("wxid_a", "大家好", ago(hours=1) - timedelta(seconds=20), "小A")
    b = c.say("wxid_a", "今天天气不错", ago(hours=1))
    c.commit()
    hook = LiveTriggers(c.store, c.settings, c.labels)
    ss = SuggestionStore(c.store.engine)
    hook.messages([a], ago(hours=1) - timedelta(seconds=20))
    first = ss.get_state("watermark")
    hook.messages([b], ago(hours=1))
    assert ss.get_state("watermark") == first  # held back: no write per message
    hook.flush()
    assert ss.get_state("watermark") == ago(hours=1).astimezone(UTC).isoformat(
        timespec="microseconds")


# ---- storage rules, on SQLite and PostgreSQL ----------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 't.db'}"
        return
    with fresh_database(require_postgres()) as url:
        yield url


T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _member(engine: Engine, sender: str = "wxid_a") -> int:
    b = Batch()
    b.chats["g@chatroom"] = ("群", True, "wechat")
    b.people["wechat", sender] = sender
    b.messages.append(NewMessage(id=f"m-{sender}", chat_id="g@chatroom", platform="wechat",
                                 sender=sender, ts=T0, type="text", text="你好",
                                 signals={}, origin="t"))
    store = Store(engine)
    store.write_batch(b)
    (m,) = store.find_members(sender)
    return m.pk


def _values(pk: int, trigger: str, minutes: int = 0, scenario: str = "question",
            operator: str = "op") -> dict[str, Any]:
    at = T0 + timedelta(minutes=minutes)
    return {"member_pk": pk, "scenario": scenario, "trigger": trigger, "trigger_ts": at,
            "status": "pending", "created_at": at, "updated_at": at, "operator": operator,
            "text": f"script {trigger}", "template_text": f"script {trigger}",
            "alternatives": [], "why": [], "reasons": [], "segments": {}}


def _open_rows(engine: Engine, pk: int) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(SUGGESTION.c.scenario, SUGGESTION.c.trigger).where(
            SUGGESTION.c.member_pk == pk, SUGGESTION.c.status == "pending")).all())


def test_a_second_open_row_of_a_member_and_scenario_is_refused(db_url: str) -> None:
    engine = open_database(db_url)
    try:
        pk = _member(engine)
        ss = SuggestionStore(engine)
        first = ss.insert(_values(pk, "m1"))
        assert first is not None
        # What a second process does after it, too, found no open row: its insert loses.
        assert ss.insert(_values(pk, "m2", 1)) is None
        assert ss.insert(_values(pk, "m1")) is None  # the same trigger twice
        assert _open_rows(engine, pk) == [("question", "m1")]
        # Other scenarios and invites (one per activity) are not limited by it.
        assert ss.insert(_values(pk, "m3", 2, "complaint")) is not None
        assert ss.insert(_values(pk, "activity:a", 3, "invite")) is not None
        assert ss.insert(_values(pk, "activity:b", 3, "invite")) is not None
        # Once the operator dealt with it, a new one may open.
        assert ss.set_status(first, "sent", T0, expect="pending")
        assert ss.insert(_values(pk, "m4", 4)) is not None
    finally:
        engine.dispose()


def test_a_status_change_happens_once_when_two_answer_at_once(db_url: str) -> None:
    engine = open_database(db_url)
    try:
        pk = _member(engine)
        ss = SuggestionStore(engine)
        sid = ss.insert(_values(pk, "m1"))
        assert sid is not None
        assert ss.set_status(sid, "sent", T0, expect="pending") is True
        # The other operator's "忽略" read "pending" too, before the first one won.
        assert ss.set_status(sid, "dismissed", T0, expect="pending") is False
        row = ss.get(sid)
        assert row is not None and row.status == "sent"
        # A conditional refresh of an open draft does not touch a row already dealt with.
        assert ss.update(sid, {"text": "new"}, expect_status="pending") is False
        assert (ss.get(sid) or row).text == "script m1"
    finally:
        engine.dispose()


def test_claims_from_many_processes_never_share_a_row_or_pass_the_cap(db_url: str) -> None:
    engine = open_database(db_url)
    try:
        pks = [_member(engine, f"wxid_{i}") for i in range(12)]
        ss = SuggestionStore(engine)
        for i, pk in enumerate(pks):
            assert ss.insert({**_values(pk, f"t{i}", i), "source": "hook"}) is not None
        now = T0 + timedelta(hours=1)
        got: list[list[int]] = []
        errors: list[BaseException] = []

        def claim() -> None:
            # Each thread its own engine: as separate bot processes have.
            eng = open_database(db_url)
            try:
                rows = SuggestionStore(eng).claim_queued("op", 5, now, T0 - timedelta(hours=1),
                                                         PRIORITY)
                got.append([r.id for r in rows.rows])
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)
            finally:
                eng.dispose()

        threads = [threading.Thread(target=claim) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        claimed = [sid for ids in got for sid in ids]
        assert len(claimed) == len(set(claimed)) == 5
        assert ss.notified_since("op", now - timedelta(hours=1)) == 5
    finally:
        engine.dispose()


def test_racing_drafts_for_one_member_leave_one_open_row(db_url: str) -> None:
    """Two bot processes saving different triggers of one member and scenario at once."""
    c_url = db_url
    engine = open_database(c_url)
    try:
        pk = _member(engine)
        barrier = threading.Barrier(4)
        results: list[int | None] = []

        def race(k: int) -> None:
            eng = open_database(c_url)
            try:
                ss = SuggestionStore(eng)
                barrier.wait()
                for j in range(5):
                    if ss.open_for(pk, "question") is None:  # check ... then insert
                        results.append(ss.insert(_values(pk, f"t{k}-{j}", j)))
            finally:
                eng.dispose()

        threads = [threading.Thread(target=race, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(_open_rows(engine, pk)) == 1
        assert sum(r is not None for r in results) == 1
    finally:
        engine.dispose()


def test_watermark_never_moves_back(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 't.db'}")
    ss = SuggestionStore(engine)
    ss.advance_state("watermark", "2026-11-20T12:00:00.000000+00:00", {"last_run": "x"})
    ss.advance_state("watermark", "2026-11-20T11:00:00.000000+00:00", {"last_run": "y"})
    assert ss.get_states(["watermark", "last_run"]) == {
        "watermark": "2026-11-20T12:00:00.000000+00:00", "last_run": "y"}
    ss.advance_state("watermark", "2026-11-20T13:00:00+00:00")
    assert ss.get_state("watermark") == "2026-11-20T13:00:00+00:00"


def test_reopening_beside_a_newer_open_draft_is_refused(tmp_path: Path) -> None:
    c = Community(tmp_path)
    c.say("wxid_a", "大家好", ago(days=30), "小A")
    c.say("wxid_a", "这款面霜适合什么年龄用？", ago(hours=5))
    c.commit()
    (v,) = suggest_for_new_messages(c.store, c.settings, c.labels, ago(hours=4)).notify
    assert set_status(c.store, v.row.id, "dismissed", NOW).row.status == "dismissed"
    assert set_status(c.store, v.row.id, "pending", NOW).row.status == "pending"  # undo
    set_status(c.store, v.row.id, "sent", NOW)
    c.say("wxid_a", "还有别的颜色吗？", ago(hours=1))
    c.commit()
    newer = suggest_for_new_messages(c.store, c.settings, c.labels, NOW).notify
    assert [x.row.scenario for x in newer] == ["question"] and newer[0].row.id != v.row.id
    # Reopening the old one now would make two open drafts of one kind for her.
    with pytest.raises(SuggestError, match="不能改回待发"):
        set_status(c.store, v.row.id, "pending", NOW)
    assert SuggestionStore(c.store.engine).get(v.row.id).status == "sent"  # type: ignore[union-attr]
