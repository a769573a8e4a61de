"""Suggestions: triggers, persona-tailored variants, de-duplication, rate limits, opt-out,
the feedback loop, and `siyu suggest` end to end."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from handlers.events import MessageType
from handlers.feedback import feedback_summary, set_status
from handlers.live import LiveTriggers
from handlers.personas import build_personas
from handlers.settings import ConfigError
from handlers.suggest import SuggestError, SuggestionView, suggest_for_member
from handlers.suggest_config import suggest_config
from handlers.triggers import SuggestRun, suggest_for_new_messages
from persona.persona import MessageRecord
from persona.playbook import default_playbook
from persona.signals import Signals
from persona.suggest import (
    Drafting,
    draft,
    is_join,
    member_triggers,
    message_scenario,
    message_trigger,
)
from storage.models import Member, Message, Suggestion
from storage.suggestions import SuggestionStore
from tests.suggest_fixtures import (
    GROUP,
    NOW,
    Community,
    ago,
    price_mom,
    quality_mom,
    service_dad,
)

CONTRACT_KEYS = {"id", "scenario", "message_id", "text", "alternatives", "why", "status"}


def suggest(c: Community, member_id: str, as_of: datetime = NOW) -> list[SuggestionView]:
    return suggest_for_member(c.store, c.settings, c.labels, c.member(member_id), as_of)


def hook(c: Community, as_of: datetime = NOW) -> SuggestRun:
    return suggest_for_new_messages(c.store, c.settings, c.labels, as_of)


# ---- pure triggers -----------------------------------------------------------------------
def test_one_scenario_per_message_most_urgent_first() -> None:
    assert message_scenario(Signals(intents=["question", "purchase_intent"])) == \
        "purchase_intent"
    assert message_scenario(Signals(intents=["question", "complaint"])) == "complaint"
    assert message_scenario(Signals(intents=["question"])) == "question"
    assert message_scenario(Signals(intents=["praise"])) is None
    assert is_join("system", '"小禾助手"邀请"小王"加入了群聊')
    assert is_join("system", '"小王"通过扫描"小禾助手"分享的二维码加入群聊')
    assert not is_join("text", "我加入了群聊")
    assert not is_join("system", '"小王"撤回了一条消息')


def test_message_trigger_quotes_the_member() -> None:
    rec = MessageRecord("x1", NOW, GROUP, "text", Signals(intents=["complaint"]))
    trig = message_trigger(rec, "快递三天了还没到")
    assert trig is not None and trig.scenario == "complaint" and trig.key == "x1"
    assert trig.reason.code == "intent" and "「快递三天了还没到」" in trig.reason.label
    join = message_trigger(MessageRecord("j1", NOW, GROUP, "system", Signals()),
                           '"A"邀请"B"加入了群聊')
    assert join is not None and join.scenario == "welcome" and join.key == "welcome"


def test_member_triggers_take_the_latest_recent_message(tmp_path: Path) -> None:
    c = Community(tmp_path)
    price_mom(c)
    c.commit()
    (view,) = build_personas(c.store, c.settings, c.labels, NOW, [c.member("wxid_price").pk])
    msgs = c.store.messages_for([view.member.pk])[view.member.pk]
    from handlers.personas import to_record

    recs = [to_record(m) for m in msgs]
    texts = {m.id: m.text for m in msgs}
    trigs = member_triggers(view.persona, recs, texts, NOW, timedelta(days=30),
                            timedelta(days=14))
    assert [t.scenario for t in trigs] == ["complaint"]  # "太贵了" 10 days ago
    # A month later the complaint is too old to answer, and she has gone quiet.
    later = NOW + timedelta(days=45)
    (old,) = build_personas(c.store, c.settings, c.labels, later, [view.member.pk])
    trigs = member_triggers(old.persona, recs, texts, later, timedelta(days=30),
                            timedelta(days=14))
    assert [t.scenario for t in trigs] == ["reactivate"]
    assert trigs[0].quote and "太贵" in trigs[0].quote


# ---- tailoring ---------------------------------------------------------------------------
def test_scripts_differ_by_motivation_and_say_why(tmp_path: Path) -> None:
    c = Community(tmp_path)
    price_mom(c)
    quality_mom(c)
    service_dad(c)
    c.say("wxid_plain", "大家好", ago(40), "路人甲")
    c.say("wxid_plain", "今天天气不错", ago(20), "路人甲")
    # The same question, asked by four different people.
    for who in ("wxid_price", "wxid_quality", "wxid_service", "wxid_plain"):
        c.say(who, "这款面霜适合什么年龄用？", ago(hours=2))
    c.commit()
    out = {who: suggest(c, who)[0] for who in
           ("wxid_price", "wxid_quality", "wxid_service", "wxid_plain")}
    for v in out.values():
        assert v.row.scenario == "question" and v.row.status == "pending"
    # a question about fit is answered first, whoever asks; the motivation shapes the rest
    assert out["wxid_price"].row.variant == "about_quality+price"
    assert out["wxid_quality"].row.variant == "about_quality+quality"
    assert out["wxid_service"].row.variant == "about_quality+service"
    assert out["wxid_plain"].row.variant == "about_quality"
    assert len({v.row.text for v in out.values()}) == 4
    assert {v.row.next_action for v in out.values()} >= {"coupon", "product_info",
                                                         "private_chat"}
    texts = [v.row.text for v in out.values()]
    assert len(set(texts)) == 4
    assert all("{" not in t and "面霜" in t for t in texts)  # their topic, filled in
    price_why = " ".join(out["wxid_price"].row.why)
    assert "价格敏感型" in price_why and "[motivation=price]" in price_why
    assert "[intent=question]" in price_why and "面霜适合什么年龄用" in price_why
    assert "[variant=question/about_quality+price]" in price_why
    assert "品质追求型" in " ".join(out["wxid_quality"].row.why)
    # Alternatives are real, different scripts.
    for v in out.values():
        assert 1 <= len(v.row.alternatives) <= 2
        assert v.row.text not in v.row.alternatives


def test_lifecycle_and_interest_pick_more_specific_variants(tmp_path: Path) -> None:
    c = Community(tmp_path)
    # A newcomer (first seen 3 days ago) who cares about price and asks about baby food.
    c.say("wxid_new", "有没有优惠券？", ago(3), "新妈妈")
    c.say("wxid_new", "太贵了，能便宜点吗", ago(2), "新妈妈")
    c.say("wxid_new", "宝宝辅食怎么做比较好？", ago(hours=1), "新妈妈")
    quality_mom(c)
    c.say("wxid_quality", "宝宝辅食怎么做比较好？", ago(hours=1))
    c.commit()
    views = suggest(c, "wxid_new")
    q = next(v for v in views if v.row.scenario == "question")
    assert q.row.variant in ("price+new", "price+parenting")
    assert any("新用户" in w for w in q.row.why)
    assert "辅食" in q.row.text
    assert any(v.row.scenario == "welcome" for v in views)  # and she is new: welcome her
    qm = suggest(c, "wxid_quality")[0]
    assert qm.row.variant == "quality+parenting"
    assert any("[interest=parenting]" in w for w in qm.row.why)


def test_message_motivation_is_used_when_the_persona_has_none(tmp_path: Path) -> None:
    c = Community(tmp_path)
    c.say("wxid_x", "大家好", ago(30), "小明")
    c.say("wxid_x", "这款面霜的成分安全吗？", ago(hours=1), "小明")
    c.commit()
    (v,) = suggest(c, "wxid_x")
    assert v.row.variant == "about_quality+quality"
    assert any("本条消息关注" in w and "[motivation=quality]" in w for w in v.row.why)
    assert "面霜" in v.row.text


def test_a_delivery_question_gets_the_delivery_script_whoever_asks(tmp_path: Path) -> None:
    c = Community(tmp_path)
    price_mom(c)
    c.say("wxid_price", "快递什么时候能到？", ago(hours=1))
    c.commit()
    (v,) = suggest(c, "wxid_price")
    assert v.row.variant == "about_delivery"
    assert any("物流问题" in w and "[aspect=delivery]" in w for w in v.row.why)
    assert "快递" not in v.row.text.split("，")[1]  # a concern word is no product


def test_draft_is_pure_and_deterministic(tmp_path: Path) -> None:
    c = Community(tmp_path)
    price_mom(c)
    c.commit()
    (view,) = build_personas(c.store, c.settings, c.labels, NOW, [c.member("wxid_price").pk])
    rec = MessageRecord("z", NOW, GROUP, "text", Signals(intents=["purchase_intent"],
                                                         keywords=["奶粉"]))
    trig = message_trigger(rec, "我想买两盒奶粉")
    assert trig is not None
    env = Drafting(default_playbook(), c.labels, products=frozenset({"奶粉"}))
    one, two = draft(view.persona, trig, env), draft(view.persona, trig, env)
    assert one == two
    # Her persona: price-sensitive mother (the message itself names no interest).
    assert one.variant == "price+parenting" and one.next_action == "coupon"
    assert "奶粉" in one.text


# ---- every scenario through the ingest hook ----------------------------------------------
def test_hook_turns_new_messages_into_suggestions_for_every_scenario(tmp_path: Path) -> None:
    c = Community(tmp_path)
    c.say("wxid_q", "大家好", ago(30), "提问者")
    c.say("wxid_q", "这款奶粉的成分安全吗？", ago(hours=3))
    c.say("wxid_c", "大家好", ago(30), "投诉者")
    c.say("wxid_c", "收到的面膜破损了，太失望了", ago(hours=2))
    c.say("wxid_p", "大家好", ago(30), "买家")
    c.say("wxid_p", "我想买两盒奶粉", ago(hours=1))
    c.join("wxid_j", "新来的", ago(hours=5))
    c.say("wxid_f", "大家好，我是新来的宝妈", ago(hours=4), "第一次发言")
    c.say("wxid_d", "辅食机好用吗？", ago(31), "沉默的人")
    c.commit()
    run = hook(c)
    got = {(v.member_id, v.row.scenario) for v in run.notify}
    assert got == {("wxid_q", "question"), ("wxid_c", "complaint"),
                   ("wxid_p", "purchase_intent"), ("wxid_j", "welcome"),
                   ("wxid_f", "welcome"), ("wxid_d", "reactivate")}
    assert run.created == 6 and run.queued == 0
    # Most urgent first.
    assert run.notify[0].row.scenario == "complaint"
    by = {v.member_id: v for v in run.notify}
    assert by["wxid_c"].row.next_action == "after_sales"
    assert by["wxid_j"].row.message_id is not None  # the join notice
    assert any("[event=join]" in w for w in by["wxid_j"].row.why)
    assert by["wxid_d"].row.message_id is None
    assert any("[lifecycle=declining]" in w for w in by["wxid_d"].row.why)
    assert all(v.row.operator == "operator" for v in run.notify)
    # The same hook again: nothing new, nothing notified.
    again = hook(c, NOW + timedelta(minutes=5))
    assert again.created == again.updated == 0 and again.notify == []


def test_old_history_does_not_flood_the_operator(tmp_path: Path) -> None:
    c = Community(tmp_path)
    c.say("wxid_q", "这款奶粉的成分安全吗？", ago(10), "提问者")
    c.commit()
    run = hook(c)
    assert run.created == 0 and run.notify == []
    # ...but the operator can still ask for it.
    assert [v.row.scenario for v in suggest(c, "wxid_q")] == ["question", "welcome"]


def test_live_join_events_get_one_welcome(tmp_path: Path) -> None:
    """A live join is stored as WeChat's own join notice (handlers/live.py) and handed to
    the live hook like any message: one welcome, never a second, none for an opted-out
    member."""
    c = Community(tmp_path)
    join = c.say("wxid_new", '"小禾助手"邀请"新妈妈"加入了群聊', ago(hours=2), "新妈妈",
                 type_=MessageType.SYSTEM)
    c.commit()
    live = LiveTriggers(c.store, c.settings, c.labels)
    (v,) = live.messages([join], NOW).notify
    assert v.row.scenario == "welcome" and v.row.message_id == join
    assert "[event=join]" in v.row.why[0]
    words = c.say("wxid_new", "大家好，我是新来的，宝宝辅食怎么做？", ago(hours=1))
    c.commit()
    # Her first words later make a question script, still no second welcome.
    assert [x.row.scenario for x in live.messages([words], NOW).notify] == ["question"]
    assert all(x.row.scenario != "welcome" for x in hook(c).notify)
    c.say("wxid_other", '"小禾助手"邀请"老周"加入了群聊', ago(hours=1), "老周",
          type_=MessageType.SYSTEM)
    c.commit()
    c.opt_out("wxid_other")
    gone = hook(c)
    assert [sk.reason for sk in gone.skipped] == ["opted_out"] and gone.notify == []


# ---- de-duplication ----------------------------------------------------------------------
def test_one_pending_suggestion_per_member_and_scenario(tmp_path: Path) -> None:
    c = Community(tmp_path)
    c.say("wxid_q", "大家好", ago(30), "提问者")
    first = c.say("wxid_q", "这款奶粉的成分安全吗？", ago(hours=3))
    c.commit()
    (a,) = hook(c, ago(hours=2)).notify
    assert a.row.message_id == first
    # A newer question updates the open one (same handle) and re-notifies.
    second = c.say("wxid_q", "辅食机好用吗？", ago(hours=1))
    c.commit()
    run = hook(c)
    assert run.updated == 1 and run.created == 0
    (b,) = run.notify
    assert b.row.id == a.row.id and b.row.message_id == second
    ss = SuggestionStore(c.store.engine)
    assert len(ss.for_member(c.member("wxid_q").pk)) == 1
    # Once sent, the next question is a new suggestion; re-reading old ones changes nothing.
    set_status(c.store, b.row.id, "sent", NOW)
    third = c.say("wxid_q", "米粉有推荐的吗？", NOW + timedelta(minutes=10))
    c.commit()
    run = hook(c, NOW + timedelta(minutes=20))
    assert run.created == 1 and run.notify[0].row.message_id == third
    assert run.notify[0].row.id != b.row.id
    assert len(ss.for_member(c.member("wxid_q").pk)) == 2
    # On demand, the latest triggering message maps onto the same stored row.
    (v,) = [x for x in suggest(c, "wxid_q", NOW + timedelta(minutes=30))
            if x.row.scenario == "question"]
    assert v.row.id == run.notify[0].row.id


def test_what_the_operator_asked_for_is_not_pushed_again(tmp_path: Path) -> None:
    c = Community(tmp_path)
    c.say("wxid_q", "大家好", ago(30), "提问者")
    c.say("wxid_q", "这款奶粉的成分安全吗？", ago(hours=1))
    c.commit()
    (v,) = suggest(c, "wxid_q")
    run = hook(c)
    assert run.notify == [] and run.queued == 0 and run.unchanged == 1
    # A newer question is news: the same handle is pushed with the new message.
    newer = c.say("wxid_q", "辅食机好用吗？", NOW + timedelta(minutes=1))
    c.commit()
    run = hook(c, NOW + timedelta(minutes=2))
    assert [(x.row.id, x.row.message_id) for x in run.notify] == [(v.row.id, newer)]


def test_an_older_trigger_never_replaces_a_newer_one(tmp_path: Path) -> None:
    c = Community(tmp_path)
    c.say("wxid_q", "大家好", ago(30), "提问者")
    newer = c.say("wxid_q", "辅食机好用吗？", ago(hours=1))
    c.commit()
    hook(c)
    # A late import brings an earlier question.
    c.say("wxid_q", "这款奶粉的成分安全吗？", ago(hours=5))
    c.commit()
    run = hook(c, NOW + timedelta(minutes=5))
    assert run.created == run.updated == 0
    (row,) = SuggestionStore(c.store.engine).for_member(c.member("wxid_q").pk)
    assert row.message_id == newer
    # Asked as of before the newer question, the open (newer) suggestion is what stands.
    (v,) = [x for x in suggest(c, "wxid_q", ago(hours=4)) if x.row.scenario == "question"]
    assert v.row.id == row.id and v.row.message_id == newer


# ---- rate limit --------------------------------------------------------------------------
def _askers(c: Community, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        c.say(f"wxid_{i}", "大家好", ago(30), f"成员{i}")
        c.say(f"wxid_{i}", "这款奶粉的成分安全吗？", ago(hours=1, days=0) + timedelta(minutes=i))


def test_rate_limit_per_operator_queues_the_excess(tmp_path: Path) -> None:
    c = Community(tmp_path, '[suggest]\nper_operator_per_hour = 3\n')
    _askers(c, 4)
    c.say("wxid_angry", "大家好", ago(30), "生气的人")
    c.say("wxid_angry", "收到的面膜破损了，太失望了", ago(hours=2))
    c.commit()
    run = hook(c)
    assert run.created == 5 and len(run.notify) == 3 and run.queued == 2
    assert run.notify[0].row.scenario == "complaint"  # the complaint goes first
    # Later in the same hour: still no room.
    run = hook(c, NOW + timedelta(minutes=30))
    assert run.notify == [] and run.queued == 2
    # An hour on, the queue drains.
    run = hook(c, NOW + timedelta(minutes=61))
    assert len(run.notify) == 2 and run.queued == 0


def test_operators_per_chat_and_never_a_group(tmp_path: Path) -> None:
    toml = ('[suggest]\noperator = "wxid_op_main"\nper_operator_per_hour = 1\n'
            '[suggest.operators]\n"2002@chatroom" = "wxid_op_b"\n')
    c = Community(tmp_path, toml)
    _askers(c, 1)
    c.say("wxid_b", "大家好", ago(30), "B群成员", chat="2002@chatroom")
    c.say("wxid_b", "这款奶粉的成分安全吗？", ago(hours=1), chat="2002@chatroom")
    c.commit()
    run = hook(c)
    assert {v.row.operator for v in run.notify} == {"wxid_op_main", "wxid_op_b"}
    assert run.queued == 0  # each operator has their own hourly budget

    with pytest.raises(ConfigError, match="群聊"):
        suggest_config(Community(tmp_path / "x", '[suggest]\noperator = "9@chatroom"\n'
                                 ).settings)
    with pytest.raises(ConfigError, match="未知配置项 per_hour"):
        suggest_config(Community(tmp_path / "y", '[suggest]\nper_hour = 3\n').settings)
    with pytest.raises(ConfigError, match="per_operator_per_hour"):
        suggest_config(Community(tmp_path / "z", '[suggest]\nper_operator_per_hour = "x"\n'
                                 ).settings)


def test_an_operator_id_that_is_a_known_group_is_refused(tmp_path: Path) -> None:
    c = Community(tmp_path, '[suggest]\noperator = "team-group"\n')
    c.say("wxid_x", "大家好", ago(30), "成员", chat="team-group", is_group=True)
    _askers(c, 1)
    c.commit()
    with pytest.raises(ConfigError, match="不能发到群里"):
        hook(c)


# ---- privacy -----------------------------------------------------------------------------
def test_opted_out_members_never_get_anything(tmp_path: Path) -> None:
    c = Community(tmp_path)
    _askers(c, 2)
    c.commit()
    c.opt_out("wxid_0")
    run = hook(c)
    assert [v.member_id for v in run.notify] == ["wxid_1"]
    assert [(s.member_id, s.reason) for s in run.skipped] == [("wxid_0", "opted_out")]
    assert suggest(c, "wxid_0") == []
    # A member who opts out after a suggestion was queued is dropped from the queue.
    c2 = Community(tmp_path / "b", '[suggest]\nper_operator_per_hour = 1\n')
    _askers(c2, 2)
    c2.commit()
    first = hook(c2)
    assert first.queued == 1
    waiting = next(m for m in ("wxid_0", "wxid_1")
                   if m not in {v.member_id for v in first.notify})
    c2.opt_out(waiting)
    later = hook(c2, NOW + timedelta(hours=2))
    assert later.notify == [] and later.queued == 0


def test_staff_accounts_are_not_customers(tmp_path: Path) -> None:
    c = Community(tmp_path, '[suggest]\nstaff = ["小禾客服"]\n')
    c.say("wxid_staff", "大家好", ago(30), "小禾客服")
    c.say("wxid_staff", "有问题可以问我哦，快递什么时候能到？", ago(hours=1))
    c.commit()
    run = hook(c)
    assert run.notify == [] and [s.reason for s in run.skipped] == ["staff"]
    assert suggest(c, "wxid_staff") == []


# ---- feedback ----------------------------------------------------------------------------
def test_status_changes_and_errors(tmp_path: Path) -> None:
    c = Community(tmp_path)
    _askers(c, 3)
    c.commit()
    ids = [v.row.id for v in hook(c).notify]
    assert set_status(c.store, f"#{ids[0]}", "sent", NOW).row.status == "sent"
    edited = set_status(c.store, str(ids[1]), "edited", NOW, text="改过的话术")
    assert edited.row.status == "edited" and edited.row.final_text == "改过的话术"
    assert set_status(c.store, ids[2], "dismissed", NOW).to_json()["status"] == "dismissed"
    with pytest.raises(SuggestError, match="没有编号为 999"):
        set_status(c.store, 999, "sent", NOW)
    with pytest.raises(SuggestError, match="状态"):
        set_status(c.store, ids[0], "done", NOW)
    with pytest.raises(SuggestError, match="编号"):
        set_status(c.store, "abc", "sent", NOW)


def test_feedback_summary_rates_per_variant_and_segment(tmp_path: Path) -> None:
    c = Community(tmp_path)
    price_mom(c)
    quality_mom(c)
    service_dad(c)
    for who in ("wxid_price", "wxid_quality", "wxid_service"):
        c.say(who, "这款面霜适合什么年龄用？", ago(hours=2))
    c.commit()
    views = {v.member_id: v for v in hook(c).notify}
    set_status(c.store, views["wxid_price"].row.id, "sent", NOW)
    set_status(c.store, views["wxid_quality"].row.id, "edited", NOW, "改写")
    set_status(c.store, views["wxid_service"].row.id, "dismissed", NOW)
    c.say("wxid_price", "好的谢谢，券收到了", NOW + timedelta(hours=3))
    c.commit()

    early = feedback_summary(c.store, NOW + timedelta(days=1))
    t = early["totals"]
    assert (t["total"], t["sent"], t["edited"], t["dismissed"]) == (3, 1, 1, 1)
    assert t["acceptance_rate"] == round(2 / 3, 3)
    # Only the reply is known after a day: the other sent one's window is still open.
    assert t["outcome_known"] == 1 and t["response_rate"] == 1.0

    summary = feedback_summary(c.store, NOW + timedelta(days=8), c.settings)
    t = summary["totals"]
    assert t["outcome_known"] == 2 and t["replied"] == 1 and t["response_rate"] == 0.5
    assert summary["window_days"] == 7
    rows = {(r["scenario"], r["variant"]): r for r in summary["by_variant"]}
    assert rows["question", "about_quality+price"]["acceptance_rate"] == 1.0
    assert rows["question", "about_quality+price"]["response_rate"] == 1.0
    assert rows["question", "about_quality+service"]["acceptance_rate"] == 0.0
    seg = {(r["variant"], r["dimension"], r["segment"]): r
           for r in summary["by_variant_segment"]}
    assert seg["about_quality+price", "motivation", "price"]["replied"] == 1
    assert seg["about_quality+quality", "lifecycle", "mature"]["edited"] == 1
    assert json.dumps(summary)  # plain JSON for `siyu report`


def test_outcome_counts_orders_when_an_order_table_exists(tmp_path: Path) -> None:
    """The order table is probed, not imported: absent → unknown; present → counted."""
    t0 = NOW.astimezone(UTC)
    db = tmp_path / "o.db"
    engine = create_engine(f"sqlite:///{db}")
    tables = [Member.__table__, Message.__table__, Suggestion.__table__]  # type: ignore[attr-defined]
    from sqlmodel import SQLModel

    SQLModel.metadata.create_all(engine, tables=tables)
    ss = SuggestionStore(engine)
    con = sqlite3.connect(db)
    con.execute("INSERT INTO member (id, member_id, name, opted_out, tags_stale) "
                "VALUES (1, 'wxid_a', 'A', 0, 0)")
    con.commit()
    assert ss.orders_after(1, t0, t0 + timedelta(days=7)) is None
    con.execute('CREATE TABLE "order" (member_id TEXT, ts DATETIME, amount REAL)')
    con.execute("INSERT INTO \"order\" VALUES ('wxid_a', ?, 99.0)",
                ((t0 + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S.%f"),))
    con.commit()
    assert ss.orders_after(1, t0, t0 + timedelta(days=7)) == 1
    assert ss.orders_after(1, t0 + timedelta(days=3), t0 + timedelta(days=7)) == 0


# ---- siyu suggest end to end -------------------------------------------------------------
def siyu(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    for key in ("SIYU_DB", "SIYU_LLM_BASE_URL", "SIYU_LLM_MODEL", "SIYU_LLM_API_KEY"):
        env.pop(key, None)
    root = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = str(root)
    proc = subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc


def write_chatlab(path: Path) -> Path:
    def ts(day: int, hour: int) -> int:
        return int(NOW.replace(day=day, hour=hour, minute=0).timestamp())

    rows = [
        ("wxid_duoduo", "朵朵妈", ts(2, 21), 0, "我家宝宝8个月了，辅食怎么加比较好？"),
        ("wxid_duoduo", "朵朵妈", ts(8, 21), 0, "有没有优惠券？"),
        ("wxid_duoduo", "朵朵妈", ts(19, 21), 0, "太贵了，能便宜点吗"),
        ("wxid_duoduo", "朵朵妈", ts(20, 19), 0, "这个奶粉多少钱？"),
        ("wxid_laozhou", "健身的老周", ts(3, 7), 0, "今天晨跑5公里打卡"),
        ("wxid_laozhou", "健身的老周", ts(9, 7), 0, "客服在吗？售后怎么处理？"),
        ("wxid_laozhou", "健身的老周", ts(20, 7), 0, "快递三天了还没到，客服也不回，太失望了"),
        ("wxid_new", "小透明", ts(19, 12), 80, '"小禾助手"邀请"小透明"加入了群聊'),
    ]
    doc = {
        "chatlab": {"version": "0.0.2", "exportedAt": ts(20, 20)},
        "meta": {"name": "小禾优选·宝妈福利群", "platform": "wechat", "type": "group",
                 "groupId": GROUP},
        "members": [{"platformId": s, "accountName": n} for s, n in
                    {(r[0], r[1]) for r in rows}],
        "messages": [{"sender": s, "accountName": n, "timestamp": t, "type": ty,
                      "content": text, "platformMessageId": f"pm-{i}"}
                     for i, (s, n, t, ty, text) in enumerate(rows)],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_cli_suggest_json_contract_end_to_end(tmp_path: Path) -> None:
    siyu("ingest", str(write_chatlab(tmp_path / "chat.json")), cwd=tmp_path)
    as_of = "2026-11-20T20:00:00+08:00"
    doc = json.loads(siyu("suggest", "朵朵妈", "--json", "--as-of", as_of, cwd=tmp_path).stdout)
    assert set(doc) == {"member_id", "suggestions"} and doc["member_id"] == "wxid_duoduo"
    (s,) = doc["suggestions"]
    assert set(s) >= CONTRACT_KEYS
    assert s["scenario"] == "purchase_intent" and s["message_id"] == "pm-3"
    assert s["status"] == "pending" and s["id"].isdigit()
    assert isinstance(s["alternatives"], list) and s["alternatives"]
    assert all(isinstance(w, str) for w in s["why"]) and s["why"]
    # Price-sensitive, asking about baby formula: the price + parenting script.
    assert s["variant"] == "price+parenting" and s["next_action"] == "coupon"
    assert "奶粉" in s["text"] and "{" not in s["text"]

    zhou = json.loads(siyu("suggest", "wxid_laozhou", "--json", "--as-of", as_of,
                           cwd=tmp_path).stdout)
    (z,) = zhou["suggestions"]
    assert z["scenario"] == "complaint" and z["message_id"] == "pm-6"
    # 快递还没到 first: a delivery complaint gets the delivery script, whoever sends it
    assert z["variant"] == "about_delivery" and z["text"] != s["text"]
    assert any("服务依赖型" in w for w in z["why"])

    new = json.loads(siyu("suggest", "小透明", "--json", "--as-of", as_of,
                          cwd=tmp_path).stdout)
    assert [x["scenario"] for x in new["suggestions"]] == ["welcome"]
    assert new["suggestions"][0]["message_id"] == "pm-7"

    # Asking again gives the same stored suggestion (same handle).
    again = json.loads(siyu("suggest", "朵朵妈", "--json", "--as-of", as_of,
                            cwd=tmp_path).stdout)
    assert again["suggestions"][0]["id"] == s["id"]

    # Before anything triggering was said: an empty list.
    quiet = json.loads(siyu("suggest", "朵朵妈", "--json", "--as-of", "2026-11-02T12:00:00",
                            cwd=tmp_path).stdout)
    assert quiet == {"member_id": "wxid_duoduo", "suggestions": []}

    text = siyu("suggest", "朵朵妈", "--as-of", as_of, cwd=tmp_path).stdout
    assert "购买意向" in text and "话术：" in text and "备选1：" in text
    assert "依据：" in text and "价格敏感型" in text and "发优惠券" in text
    assert f"已发 {s['id']}" in text


def test_suggestions_table_is_created_in_an_existing_database(tmp_path: Path) -> None:
    """A database made before this feature gains the tables when it is opened."""
    c = Community(tmp_path)
    _askers(c, 1)
    c.commit()
    con = sqlite3.connect(c.db)
    con.execute("DROP TABLE suggestion")
    con.execute("DROP TABLE suggest_state")
    con.execute("DROP TABLE alembic_version")  # as every release before Alembic wrote it
    con.commit()
    con.close()
    from bot.app import App

    app = App(c.settings)
    run = suggest_for_new_messages(app.store, c.settings, app.labels, NOW)
    assert run.created == 1


def test_erasing_a_member_erases_their_suggestions(tmp_path: Path) -> None:
    c = Community(tmp_path)
    _askers(c, 2)
    c.commit()
    hook(c)
    con = sqlite3.connect(c.db)
    con.execute("PRAGMA foreign_keys = ON")
    (pk,) = con.execute("SELECT id FROM member WHERE member_id = 'wxid_0'").fetchone()
    # Every other feature's rows go first; ours must follow the member by itself.
    tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
              if t != "suggestion" and any(col[1] == "member_pk" for col in
                                           con.execute(f'PRAGMA table_info("{t}")'))]
    for t in tables:
        con.execute(f'DELETE FROM "{t}" WHERE member_pk = ?', (pk,))
    con.execute("DELETE FROM member WHERE id = ?", (pk,))
    con.commit()
    left = [r[0] for r in con.execute("SELECT m.member_id FROM suggestion s "
                                      "JOIN member m ON m.id = s.member_pk")]
    assert con.execute("SELECT count(*) FROM suggestion").fetchone()[0] == len(left) == 1
    assert left == ["wxid_1"]


def test_a_requeued_suggestion_still_counts_against_the_hourly_cap(tmp_path: Path) -> None:
    c = Community(tmp_path, '[suggest]\nper_operator_per_hour = 1\n')
    c.say("wxid_ask", "大家好", ago(30), "提问的人")
    c.say("wxid_ask", "这款面霜有没有优惠？", ago(hours=2))
    c.commit()
    assert len(hook(c).notify) == 1
    # A newer question re-queues the same open suggestion within the hour: the earlier push
    # still counts, so nothing more goes out until the hour has passed.
    c.say("wxid_ask", "面霜适合敏感肌用吗？", NOW + timedelta(minutes=5))
    c.commit()
    run = hook(c, NOW + timedelta(minutes=10))
    assert run.notify == [] and run.queued == 1
    assert len(hook(c, NOW + timedelta(minutes=61)).notify) == 1
